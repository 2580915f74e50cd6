package io.spate.stream.examples;

import io.spate.stream.KGroupedStream;
import io.spate.stream.KStream;
import io.spate.stream.KeyValue;
import io.spate.stream.Named;
import io.spate.stream.Pipeline;
import io.spate.stream.PipelineBuilder;
import io.spate.stream.Serde;
import io.spate.stream.Serdes;
import io.spate.stream.SinkPartition;
import io.spate.stream.TumblingWindows;

import java.nio.ByteBuffer;
import java.time.Duration;

/**
 * Bench topology B, stateful, as the Kafka Streams anchor's: {@code events} →
 * {@code groupBy(user field of the value)} through the repartition topic
 * {@code <pipeline>-by-user-repartition} → 1 s tumbling windows, grace 5 s → aggregate
 * {count, sendMicros and seq of the latest event} in the window store {@code counts} (changelog
 * {@code <pipeline>-counts-changelog}) → every update to {@code out-b}, key
 * {@code user@windowStart}, value {@code sendMicros,seq,count,windowStart}. So each event gives
 * one output, which starts with its own {@code sendMicros,seq,}.
 *
 * <p>Each result goes to the count task's own partition of {@code out-b} ({@link SinkPartition#TASK}:
 * the user's, the one the task holds), so it is written on the node that computed it; the
 * anchor's Kafka Streams app writes it to the partition of its key, {@code user@windowStart}.
 * The results are the same records, each key's in order.
 *
 * <p>Settings: {@code in}, {@code out}, {@code grace-s} (5), {@code window-ms} (1000),
 * {@code out-partition} ({@code task}, or {@code key}: the partition of the result's key, as the
 * anchor) and {@code local} ({@code true}: group by the record key, already the user, with no
 * repartition: the anchor's {@code b-local}).
 */
public final class BenchB implements Pipeline {
    /** {count, sendMicros of the latest event, seq of the latest event}, as three big-endian longs. */
    static final Serde<long[]> AGGREGATE = Serde.of(
            a -> ByteBuffer.allocate(24).putLong(a[0]).putLong(a[1]).putLong(a[2]).array(),
            b -> {
                ByteBuffer buf = ByteBuffer.wrap(b);
                return new long[]{buf.getLong(), buf.getLong(), buf.getLong()};
            });

    @Override
    public void define(PipelineBuilder builder) {
        Serde<String> s = Serdes.string();
        long graceS = Long.parseLong(builder.setting("grace-s", "5"));
        long windowMs = Long.parseLong(builder.setting("window-ms", "1000"));
        boolean local = Boolean.parseBoolean(builder.setting("local", "false"));
        SinkPartition outPartition = SinkPartition.valueOf(builder.setting("out-partition", "task").toUpperCase(java.util.Locale.ROOT));
        KStream<String, String> events = builder.stream(builder.setting("in", "events"), s, s);
        KGroupedStream<String, String> byUser = local
                ? events.groupByKey()
                : events.groupBy((key, v) -> BenchEvents.field(v, 2), s, Named.as("by-user"));
        byUser.windowedBy(TumblingWindows.of(Duration.ofMillis(windowMs)).grace(Duration.ofSeconds(graceS)))
                .aggregate(() -> new long[3], BenchB::add, AGGREGATE, Named.as("counts"))
                .toStream()
                .map((w, a) -> KeyValue.pair(w.key() + "@" + w.start(), a[1] + "," + a[2] + "," + a[0] + "," + w.start()))
                .to(builder.setting("out", "out-b"), s, s, outPartition);
    }

    /** Counts the event and keeps its stamp, in place: the store holds the array. */
    static long[] add(String user, String v, long[] a) {
        int sendEnd = v.indexOf(',');
        int seqEnd = v.indexOf(',', sendEnd + 1);
        a[0]++;
        a[1] = Long.parseLong(v, 0, sendEnd, 10);
        a[2] = Long.parseLong(v, sendEnd + 1, seqEnd < 0 ? v.length() : seqEnd, 10);
        return a;
    }
}
