package io.spate.chaos.workload;

import io.spate.stream.KeyValue;
import io.spate.stream.Named;
import io.spate.stream.Pipeline;
import io.spate.stream.PipelineBuilder;
import io.spate.stream.Serde;
import io.spate.stream.Serdes;

/**
 * The {@code pipeline} workload's stateful user code: the producers' records counted per writer
 * (a value {@code w-N-P-S} belongs to writer {@code w-N}), which re-keys them through a
 * repartition topic to the task that holds the writer's count in its store. On the way each
 * record is left-joined with a table of writers read from a compacted topic ({@code writers}):
 * the join does not change a result, but the task then holds a source table, restored to its
 * committed position whenever the task moves and kept warm by its standby. Each record's result
 * is {@code w-N=COUNT}, the writer's count after it: exactly-once, a writer's results are 1, 2, 3
 * ... without a gap or a repeat, whatever failed over meanwhile. Shipped in the workload's jar
 * beside {@link MirrorPipeline}. Settings: {@code in}, {@code out}, {@code writers}.
 */
public final class CountPipeline implements Pipeline {
    @Override
    public void define(PipelineBuilder builder) {
        Serde<String> strings = Serdes.string();
        var writers = builder.table(builder.setting("writers", "chaos-writers"), strings, strings, Named.as("writers"));
        builder.stream(builder.setting("in", "chaos"), strings, strings)
                .keyBy((key, value) -> writerOf(value), strings, Named.as("by-writer"))
                .leftJoin(writers, (value, writer) -> value)
                .withSerdes(strings, strings)
                .groupByKey()
                .count(Named.as("writer-counts"))
                .toStream()
                .map((writer, count) -> KeyValue.pair(writer, writer + "=" + count), strings, strings)
                .to(builder.setting("out", "chaos-count"), strings, strings);
    }

    /** {@code w-N} of a value {@code w-N-P-S}; the value itself if it has no such form. */
    static String writerOf(String value) {
        int first = value.indexOf('-');
        int second = first < 0 ? -1 : value.indexOf('-', first + 1);
        return second < 0 ? value : value.substring(0, second);
    }
}
