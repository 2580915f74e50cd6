package io.spate.chaos.workload;

import io.spate.stream.Serde;
import io.spate.stream.Serdes;
import io.spate.stream.engine.InternalTopic;
import io.spate.stream.testing.PipelineTestDriver;
import io.spate.stream.testing.TestRecord;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The chaos count offline: each writer's results are 1, 2, 3 ... whether or not the writers'
 * table names it (the left join passes every record through), and the table is a source table
 * of the counting sub-topology, not a changelog of its own.
 */
class CountPipelineTest {
    private static final Serde<String> S = Serdes.string();

    @Test
    void eachWritersResultsCountItsRecordsWithOrWithoutATableEntry() {
        try (PipelineTestDriver d = new PipelineTestDriver("chaos-count-eos", new CountPipeline(),
                Map.of("in", "chaos", "out", "chaos-count-eos", "writers", "chaos-writers"), 3)) {
            assertThat(d.pipeline().internalTopics()).extracting(InternalTopic::name)
                    .containsExactlyInAnyOrder("chaos-count-eos-by-writer-repartition", "chaos-count-eos-writer-counts-changelog");
            d.input("chaos-writers", S, S).pipe("w-0", "writer 0 v1", 1).pipe("w-0", "writer 0 v2", 2);
            var in = d.input("chaos", S, S);
            in.pipe(null, "w-0-1-0", 10).pipe(null, "w-7-2-0", 11).pipe(null, "w-0-2-1", 12).pipe(null, "w-0-0-2", 13);

            List<String> results = d.output("chaos-count-eos", S, S).readAll().stream().map(TestRecord::value).toList();

            assertThat(results).containsExactly("w-0=1", "w-7=1", "w-0=2", "w-0=3");
        }
    }
}
