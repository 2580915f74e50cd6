package io.spate.tests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spate.broker.SpateNode;
import io.spate.tests.support.HttpNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code spate table ...} in process against an embedded node's HTTP API. */
class TableCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    Path dataDir;

    @Test
    void createListPutGetDeleteAndRepairFromTheCommandLine() throws Exception {
        try (HttpNode web = HttpNode.start(SpateNode.builder().dataDir(dataDir))) {
            String http = web.base();
            var created = TopicProduceConsumeCommandTest.run("", "table", "create", "users", "--replication-factor", "1",
                    "--durability", "sync_each", "--http", http);
            assertThat(created.exit()).as(created.err()).isZero();
            assertThat(created.out()).contains("created table users (replication factor 1)");
            assertThat(TopicProduceConsumeCommandTest.run("", "table", "create", "users", "-r", "1", "--http", http).err())
                    .contains("already exists");

            JsonNode list = JSON.readTree(TopicProduceConsumeCommandTest.run("", "table", "list", "--json", "--http", http).out());
            assertThat(list.get(0).get("name").asText()).isEqualTo("users");
            assertThat(list.get(0).get("durability").asText()).isEqualTo("sync_each");

            var put = TopicProduceConsumeCommandTest.run("", "table", "put", "users", "ada", "Ada Lovelace", "-c", "all", "--json", "--http", http);
            assertThat(put.exit()).as(put.err()).isZero();
            String version = JSON.readTree(put.out()).get("version").asText();
            var got = TopicProduceConsumeCommandTest.run("", "table", "get", "users", "ada", "--json", "--http", http);
            assertThat(JSON.readTree(got.out()).get("value").asText()).isEqualTo("Ada Lovelace");
            assertThat(JSON.readTree(got.out()).get("version").asText()).isEqualTo(version);
            assertThat(TopicProduceConsumeCommandTest.run("", "table", "get", "users", "ada", "--http", http).out().strip())
                    .isEqualTo("Ada Lovelace");

            var deleted = TopicProduceConsumeCommandTest.run("", "table", "delete", "users", "ada", "--after", version, "--http", http);
            assertThat(deleted.exit()).as(deleted.err()).isZero();
            var gone = TopicProduceConsumeCommandTest.run("", "table", "get", "users", "ada", "--http", http);
            assertThat(gone.exit()).isEqualTo(1);
            assertThat(gone.err().strip()).isEqualTo("spate: key 'ada' not found in table 'users'");

            var badLevel = TopicProduceConsumeCommandTest.run("", "table", "get", "users", "ada", "-c", "most", "--http", http);
            assertThat(badLevel.exit()).isEqualTo(1);
            assertThat(badLevel.err()).contains("--consistency must be one, quorum or all");
            var repair = TopicProduceConsumeCommandTest.run("", "table", "repair", "users", "--json", "--http", http);
            assertThat(repair.exit()).as(repair.err()).isZero();
            assertThat(JSON.readTree(repair.out()).get(0).get("abandoned").asInt()).isZero();
            var unknown = TopicProduceConsumeCommandTest.run("", "table", "get", "nope", "k", "--http", http);
            assertThat(unknown.err()).contains("table 'nope' not found");
        }
        var unreachable = TopicProduceConsumeCommandTest.run("", "table", "list", "--http", "http://127.0.0.1:1");
        assertThat(unreachable.exit()).isEqualTo(1);
        assertThat(unreachable.err()).startsWith("spate: no answer from");
    }

    @Test
    void aBootstrapServerIsEnoughTheNodesHttpPortsAreLearnedFromTheCluster() throws Exception {
        // HTTP on port 0: DescribeConfigs must show the port the node bound, not the 0 it was given.
        try (HttpNode web = HttpNode.start(SpateNode.builder().dataDir(dataDir))) {
            String bootstrap = "127.0.0.1:" + web.node().port();
            var created = TopicProduceConsumeCommandTest.run("", "table", "create", "devices", "--replication-factor", "1",
                    "--bootstrap-server", bootstrap);
            assertThat(created.exit()).as(created.err()).isZero();
            assertThat(created.out()).contains("created table devices (replication factor 1)");
            var put = TopicProduceConsumeCommandTest.run("", "table", "put", "devices", "d1", "on", "--bootstrap-server", bootstrap);
            assertThat(put.exit()).as(put.err()).isZero();
            assertThat(TopicProduceConsumeCommandTest.run("", "table", "get", "devices", "d1", "--http", web.base()).out().strip())
                    .isEqualTo("on");
            JsonNode repair = JSON.readTree(TopicProduceConsumeCommandTest.run("", "table", "repair", "devices", "--json",
                    "--bootstrap-server", bootstrap).out());
            assertThat(repair).hasSize(1);
            assertThat(repair.get(0).get("node").asText()).isEqualTo(web.base());

            var both = TopicProduceConsumeCommandTest.run("", "table", "list", "--bootstrap-server", bootstrap, "--http", web.base());
            assertThat(both.exit()).isEqualTo(1);
            assertThat(both.err().strip()).isEqualTo("spate: give --bootstrap-server or --http, not both");
        }
        try (SpateNode noHttp = SpateNode.builder().dataDir(dataDir.resolve("plain")).start()) {
            var none = TopicProduceConsumeCommandTest.run("", "table", "list", "--bootstrap-server", "127.0.0.1:" + noHttp.port());
            assertThat(none.exit()).isEqualTo(1);
            assertThat(none.err()).contains("serves HTTP");
        }
        var unreachable = TopicProduceConsumeCommandTest.run("", "table", "list", "--bootstrap-server", "127.0.0.1:1", "--timeout", "2000");
        assertThat(unreachable.exit()).isEqualTo(1);
        assertThat(unreachable.err()).startsWith("spate: cannot learn the nodes' HTTP APIs from 127.0.0.1:1");
    }
}
