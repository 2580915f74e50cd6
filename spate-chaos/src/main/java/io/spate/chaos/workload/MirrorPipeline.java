package io.spate.chaos.workload;

import io.spate.stream.Pipeline;
import io.spate.stream.PipelineBuilder;
import io.spate.stream.Serde;
import io.spate.stream.Serdes;
import io.spate.stream.SinkPartition;

/**
 * The {@code pipeline} workload's user code: input partition p copied record for record, key and
 * value as they are, into partition p of the output. Shipped to the cluster as a jar of its own
 * ({@link MirrorWorkload}), so it sees only the pipeline API, as any user's code does. Settings:
 * {@code in}, {@code out}.
 */
public final class MirrorPipeline implements Pipeline {
    @Override
    public void define(PipelineBuilder builder) {
        Serde<byte[]> bytes = Serdes.bytes();
        builder.stream(builder.setting("in", "chaos"), bytes, bytes)
                .to(builder.setting("out", "chaos-mirror"), bytes, bytes, SinkPartition.TASK);
    }
}
