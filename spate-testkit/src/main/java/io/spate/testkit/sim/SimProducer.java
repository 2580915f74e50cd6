package io.spate.testkit.sim;

import io.spate.cluster.ClusterImage;
import io.spate.cluster.PartitionState;
import io.spate.log.TopicPartition;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * An acks=all producer: each write goes to the partition's leader as the client last learned it
 * (its metadata refreshes now and then, so it also writes to stale leaders), one record per
 * write, each value unique. A write is acknowledged when the leader's answer comes back.
 */
public final class SimProducer {
    /** A write the cluster acknowledged: it must survive every fault the run injects. */
    public record Ack(TopicPartition partition, long offset, String value) {
    }

    private final EventLoop loop;
    private final SimNetwork network;
    private final SimController controller;
    private final Map<Integer, SimNode> nodes;
    private final String topic;
    private final int partitions;
    private final Random random;
    private final List<Ack> acks = new ArrayList<>();
    private ClusterImage known = ClusterImage.EMPTY;
    private long sent;
    private long stopAtMs = Long.MAX_VALUE;
    /** Keyed writes (for a compacted topic): the key follows from the value, {@link #keyOf}. */
    private boolean keyed;
    /** How many keys keyed writes cycle through. */
    static final int KEYS = 40;

    SimProducer(EventLoop loop, SimNetwork network, SimController controller, Map<Integer, SimNode> nodes, String topic, int partitions, Random random) {
        this.loop = loop;
        this.network = network;
        this.controller = controller;
        this.nodes = nodes;
        this.topic = topic;
        this.partitions = partitions;
        this.random = random;
    }

    /** From now on each write carries a key, {@link #keyOf} its value. */
    void keyed() {
        keyed = true;
    }

    /** The key a keyed write of {@code value} ("p{partition}-{n}") carries: one of {@link #KEYS}. */
    static String keyOf(String value) {
        return "k" + Long.parseLong(value.substring(value.indexOf('-') + 1)) % KEYS;
    }

    public List<Ack> acks() {
        return acks;
    }

    public long sent() {
        return sent;
    }

    /** No new writes from {@code atMs} on (the answers to those out still count). */
    void stopAt(long atMs) {
        stopAtMs = atMs;
    }

    void refreshMetadata() {
        known = controller.image();
    }

    /** Sends one write to where the client believes the partition's leader is. */
    void send() {
        if (loop.nowMs() >= stopAtMs) {
            return;
        }
        int partition = random.nextInt(partitions);
        PartitionState state = known.partition(topic, partition);
        if (state == null || !state.hasLeader()) {
            return;
        }
        SimNode leader = nodes.get(state.leader());
        String value = "p" + partition + "-" + (sent++);
        TopicPartition tp = new TopicPartition(topic, partition);
        // Written with Spate's encoder and read back by the checker with kafka-clients' decoder (LogValues).
        var batch = new io.spate.record.RecordBatchBuilder(loop.nowMs())
                .append(loop.nowMs(), keyed ? java.nio.ByteBuffer.wrap(keyOf(value).getBytes(StandardCharsets.UTF_8)) : null,
                        java.nio.ByteBuffer.wrap(value.getBytes(StandardCharsets.UTF_8))).build();
        long at = leader.incarnation();
        // The client is not one of the nodes: only a node's own faults (down, paused) stand in the way.
        loop.after(network.delayMs(), () -> {
            if (!leader.alive() || leader.incarnation() != at) {
                return;
            }
            leader.produceWhenRunning(tp, batch, offset -> {
                if (offset >= 0) {
                    long answerAt = leader.incarnation();
                    loop.after(network.delayMs(), () -> {
                        if (leader.alive() && leader.incarnation() == answerAt) {
                            acks.add(new Ack(tp, offset, value));
                        }
                    });
                }
            });
        });
    }
}
