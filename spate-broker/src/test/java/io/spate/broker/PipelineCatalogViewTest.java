package io.spate.broker;

import io.spate.http.NodeAdmin;
import io.spate.processing.PipelineAdmin;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The pipelines the console lists, from one node's catalog and status topics, read only as far as they changed. */
class PipelineCatalogViewTest {
    @TempDir
    Path dataDir;

    @Test
    void aLookReadsOnlyWhatTheCatalogGainedSinceTheLast() throws Exception {
        try (SpateNode node = SpateNode.builder().dataDir(dataDir).start();
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, node.bootstrapServers()));
             PipelineCatalogView view = new PipelineCatalogView(node.bootstrapServers(), 1);
             PipelineAdmin pipelines = node.pipelines()) {
            assertThat(view.pipelines()).as("no catalog yet").isEmpty();
            admin.createTopics(List.of(new NewTopic("lines", 1, (short) 1))).all().get();

            pipelines.deploy("words", new PipelineAdmin.Code.Example("wordcount"), Map.of());
            assertThat(view.pipelines()).extracting(NodeAdmin.Pipeline::name, NodeAdmin.Pipeline::paused, NodeAdmin.Pipeline::generation)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple("words", false, 1L));
            long read = view.catalogRecordsRead();
            assertThat(read).isPositive();

            assertThat(view.pipelines()).extracting(NodeAdmin.Pipeline::name).containsExactly("words");
            assertThat(view.catalogRecordsRead()).as("an unchanged catalog is not read again").isEqualTo(read);

            pipelines.pause("words");
            assertThat(view.pipelines()).extracting(NodeAdmin.Pipeline::paused, NodeAdmin.Pipeline::generation)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple(true, 2L));
            assertThat(view.catalogRecordsRead()).as("only the new spec").isEqualTo(read + 1);

            pipelines.delete("words", true);
            assertThat(view.pipelines()).isEmpty();
        }
    }
}
