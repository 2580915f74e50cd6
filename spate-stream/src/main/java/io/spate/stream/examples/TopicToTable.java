package io.spate.stream.examples;

import io.spate.stream.Pipeline;
import io.spate.stream.PipelineBuilder;
import io.spate.stream.Serde;
import io.spate.stream.Serdes;

/**
 * Materializes a topic, typically a compacted one, into a Spate table: every record of the topic
 * (setting {@code in}) becomes its key's value in the table (setting {@code table}), a tombstone
 * deletes the key, bytes as they are. A pipeline starts from the beginning of its input, so the
 * table receives everything the topic holds and then follows it.
 */
public final class TopicToTable implements Pipeline {
    @Override
    public void define(PipelineBuilder builder) {
        Serde<byte[]> bytes = Serdes.bytes();
        builder.stream(builder.setting("in", "changes"), bytes, bytes)
                .toTable(builder.setting("table", builder.setting("in", "changes")), bytes, bytes);
    }
}
