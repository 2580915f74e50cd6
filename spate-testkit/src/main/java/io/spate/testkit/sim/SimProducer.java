package io.spate.testkit.sim;

import io.spate.cluster.ClusterImage;
import io.spate.cluster.PartitionState;
import io.spate.log.LogError;
import io.spate.log.TopicPartition;
import io.spate.replication.WriteError;
import io.spate.replication.Written;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;

/**
 * An idempotent acks=all producer, as Kafka's clients are by default: one producer id, a
 * sequence per partition, and one write in flight per partition, sent to the partition's leader
 * as the client last learned it (its metadata refreshes now and then, so it also writes to stale
 * leaders). One record per write, each value unique. A write not acknowledged (refused, timed out,
 * or its answer lost with a node) is sent again, the same bytes, until it is: the log must store
 * it once and answer the retry with the offset it took the first time. A write whose sequence the
 * log refuses is given up (the client bumps its epoch and starts its sequences again, KIP-360):
 * it may or may not be in the log, but at most once.
 */
public final class SimProducer {
    /** A write the cluster acknowledged: it must survive every fault the run injects. */
    public record Ack(TopicPartition partition, long offset, String value) {
    }

    /** The producer id every write carries (no InitProducerId in the simulation: ids are the log's to check, not to hand out). */
    static final long PRODUCER_ID = 4_242;
    /** How long a write goes unanswered before it is sent again (above the node's replication wait). */
    static final long RETRY_AFTER_MS = 1_500;

    /** A write sent and not acknowledged yet. */
    private record InFlight(ByteBuffer batch, String value, short epoch, int sequence, long sentAtMs) {
        InFlight sentAgainAt(long nowMs) {
            return new InFlight(batch, value, epoch, sequence, nowMs);
        }
    }

    private final EventLoop loop;
    private final SimNetwork network;
    private final SimController controller;
    private final Map<Integer, SimNode> nodes;
    private final String topic;
    private final int partitions;
    private final Random random;
    private final Consumer<String> violations;
    private final List<Ack> acks = new ArrayList<>();
    private final InFlight[] inFlight;
    private final int[] nextSequence;
    private short epoch;
    private ClusterImage known = ClusterImage.EMPTY;
    private long sent;
    private long retries;
    private long duplicatesAnswered;
    private long stopAtMs = Long.MAX_VALUE;
    /** Keyed writes (for a compacted topic): the key follows from the value, {@link #keyOf}. */
    private boolean keyed;
    /** Whether the log may forget this producer (records deleted or compacted away): then a refused sequence is no violation. */
    private boolean logMayForget;
    /** How many keys keyed writes cycle through. */
    static final int KEYS = 40;

    SimProducer(EventLoop loop, SimNetwork network, SimController controller, Map<Integer, SimNode> nodes, String topic, int partitions, Random random,
                Consumer<String> violations) {
        this.loop = loop;
        this.network = network;
        this.controller = controller;
        this.nodes = nodes;
        this.topic = topic;
        this.partitions = partitions;
        this.random = random;
        this.violations = violations;
        this.inFlight = new InFlight[partitions];
        this.nextSequence = new int[partitions];
    }

    /** From now on each write carries a key, {@link #keyOf} its value. */
    void keyed() {
        keyed = true;
    }

    /** Records may be deleted or compacted away, and with all of a producer's, what the log knew of it. */
    void logMayForget() {
        logMayForget = true;
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

    /** Writes sent again after no acknowledgement. */
    public long retries() {
        return retries;
    }

    /** Retries the log answered as already written. */
    public long duplicatesAnswered() {
        return duplicatesAnswered;
    }

    /** No new writes, and no retries, from {@code atMs} on (the answers to those out still count). */
    void stopAt(long atMs) {
        stopAtMs = atMs;
    }

    void refreshMetadata() {
        known = controller.image();
    }

    /** Sends one write (or the partition's unacknowledged one again) to where the client believes the partition's leader is. */
    void send() {
        long now = loop.nowMs();
        if (now >= stopAtMs) {
            return;
        }
        int partition = random.nextInt(partitions);
        PartitionState state = known.partition(topic, partition);
        if (state == null || !state.hasLeader()) {
            return;
        }
        InFlight write = inFlight[partition];
        if (write != null) {
            if (now - write.sentAtMs() < RETRY_AFTER_MS) {
                return;
            }
            write = write.sentAgainAt(now);
            retries++;
        } else {
            String value = "p" + partition + "-" + (sent++);
            int sequence = nextSequence[partition];
            nextSequence[partition] = sequence == Integer.MAX_VALUE ? 0 : sequence + 1;
            // Written with Spate's encoder and read back by the checker with kafka-clients' decoder (LogValues).
            ByteBuffer batch = new io.spate.record.RecordBatchBuilder(now)
                    .producer(PRODUCER_ID, epoch, sequence)
                    .append(now, keyed ? ByteBuffer.wrap(keyOf(value).getBytes(StandardCharsets.UTF_8)) : null,
                            ByteBuffer.wrap(value.getBytes(StandardCharsets.UTF_8))).build();
            write = new InFlight(batch, value, epoch, sequence, now);
        }
        inFlight[partition] = write;
        InFlight sending = write;
        SimNode leader = nodes.get(state.leader());
        TopicPartition tp = new TopicPartition(topic, partition);
        long at = leader.incarnation();
        // The client is not one of the nodes: only a node's own faults (down, paused) stand in the way.
        loop.after(network.delayMs(), () -> {
            if (!leader.alive() || leader.incarnation() != at) {
                return;
            }
            leader.produceWhenRunning(tp, sending.batch(), written -> {
                long answerAt = leader.incarnation();
                loop.after(network.delayMs(), () -> {
                    if (leader.alive() && leader.incarnation() == answerAt) {
                        answered(partition, tp, sending, written);
                    }
                });
            });
        });
    }

    private void answered(int partition, TopicPartition tp, InFlight write, Written written) {
        InFlight current = inFlight[partition];
        if (current == null || current.epoch() != write.epoch() || current.sequence() != write.sequence()) {
            return; // an answer to an attempt of a write already settled
        }
        if (written.ok()) {
            inFlight[partition] = null;
            if (written.logError() == LogError.DUPLICATE_SEQUENCE) {
                duplicatesAnswered++; // written before the batches the log remembers: acknowledged, offset unknown
                return;
            }
            acks.add(new Ack(tp, written.baseOffset(), write.value()));
            return;
        }
        if (written.error() == WriteError.REFUSED
                && (written.logError() == LogError.OUT_OF_ORDER_SEQUENCE || written.logError() == LogError.INVALID_PRODUCER_EPOCH)) {
            if (!logMayForget) {
                violations.accept(tp + ": the leader refused write " + write.value() + " (epoch " + write.epoch() + ", sequence "
                        + write.sequence() + ") with " + written.logError() + ": " + written.message());
            }
            // KIP-360: a new epoch, every partition's sequences from 0; what was in flight may be in the log, or not.
            java.util.Arrays.fill(inFlight, null);
            java.util.Arrays.fill(nextSequence, 0);
            epoch++;
        }
        // Anything else (not the leader, too few in-sync replicas, timed out): sent again after RETRY_AFTER_MS.
    }
}
