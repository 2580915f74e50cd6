package io.spate.chaos;

import io.spate.chaos.fault.FaultKind;

import java.nio.file.Path;
import java.util.Set;

/**
 * How one chaos run is shaped.
 *
 * @param durationMs  how long faults are injected (writes go on for {@code tailMs} more after healing)
 * @param neighbour   a CPU-heavy process per core beside the cluster, as on a shared machine
 * @param workloads   what runs beside the producers: the consumer group, the exactly-once pipeline, or both
 * @param pipelineMembers members of the exactly-once pipeline's group (with {@link Workload#TXN})
 * @param nodeOverrides   node settings on top of {@link #nodeSettings()} (the campaign's {@code --set})
 */
public record RunOptions(Path brokerJar, int nodes, int partitions, int rate, int producers, int consumers,
                         long durationMs, long tailMs, Set<FaultKind> faults, boolean neighbour,
                         Set<Workload> workloads, int pipelineMembers, java.util.Map<String, String> nodeOverrides) {

    public RunOptions {
        nodeOverrides = java.util.Map.copyOf(nodeOverrides);
    }

    /** With the nodes' settings as the runs use them by default. */
    public RunOptions(Path brokerJar, int nodes, int partitions, int rate, int producers, int consumers,
                      long durationMs, long tailMs, Set<FaultKind> faults, boolean neighbour,
                      Set<Workload> workloads, int pipelineMembers) {
        this(brokerJar, nodes, partitions, rate, producers, consumers, durationMs, tailMs, faults, neighbour, workloads, pipelineMembers,
                java.util.Map.of());
    }

    /** The producers and the consumer group, without the exactly-once pipeline. */
    public RunOptions(Path brokerJar, int nodes, int partitions, int rate, int producers, int consumers,
                      long durationMs, long tailMs, Set<FaultKind> faults, boolean neighbour) {
        this(brokerJar, nodes, partitions, rate, producers, consumers, durationMs, tailMs, faults, neighbour,
                Set.of(Workload.GROUP), 2);
    }

    /**
     * The controller voters, nodes 1 to this: every node up to five, three of six (as {@code spate
     * cluster up} places them), so that six-node runs also put nodes that are not voters through
     * the faults.
     */
    public int voters() {
        return nodes <= 5 ? nodes : 3;
    }

    /** What every node of a run is started with: {@link #nodeSettings()} and the overrides. */
    public java.util.Map<String, String> runNodeSettings() {
        java.util.Map<String, String> settings = new java.util.TreeMap<>(nodeSettings());
        settings.putAll(nodeOverrides);
        return settings;
    }

    public boolean has(Workload w) {
        return workloads.contains(w);
    }

    /**
     * How long the exactly-once pipeline may take, once the producers stopped, to consume the rest
     * of the input: it keeps up during the tail, so this is a generous bound, not a measure.
     */
    public static final long PIPELINE_DRAIN_MS = 60_000;

    /** Spate's defaults, which the runs use unchanged: what a user gets. */
    public static final long SESSION_TIMEOUT_MS = 1_000;
    public static final long ELECTION_TIMEOUT_MS = 300;
    /** The workload's producers give up on a request after this (see ProducerWorkload). */
    public static final long CLIENT_REQUEST_TIMEOUT_MS = 2_000;
    /**
     * The settings the runs change: how long a follower may fail to keep up before it leaves
     * the in-sync set. An {@code acks=all} write waits for every in-sync replica, so a follower
     * cut off from its leader while still heard by the controller (a one-way loss, a link down)
     * holds every write of the partition for this long; it is that failure's detector. Spate's
     * default of 10 s (Kafka's: 30 s) favours a stable in-sync set; a user who wants short stalls
     * sets it as the broker session is set, to seconds.
     */
    public static final long REPLICA_LAG_TIME_MAX_MS = 2_000;
    /**
     * With it, the follower's own detector: how long a follower waits for its leader's answer
     * before it dials again (default 5 s). A fetch lost in a partition otherwise waits out TCP's
     * retransmission backoff after the heal, and the follower rejoins the in-sync set that late.
     */
    public static final long REPLICA_SOCKET_TIMEOUT_MS = 2_000;

    /** The node settings the runs use beyond Spate's defaults. */
    public static java.util.Map<String, String> nodeSettings() {
        return java.util.Map.of("replica.lag.time.max.ms", String.valueOf(REPLICA_LAG_TIME_MAX_MS),
                "replica.socket.timeout.ms", String.valueOf(REPLICA_SOCKET_TIMEOUT_MS));
    }

    /**
     * The longest a partition may accept no write while a quorum is up: failure detection (the
     * broker session, the client's request timeout for a frozen leader it is talking to, or the
     * replica lag time for a follower cut off from its leader), an election (up to twice the
     * election timeout), and 2 s.
     */
    public long maxStallMs() {
        return Math.max(Math.max(SESSION_TIMEOUT_MS, CLIENT_REQUEST_TIMEOUT_MS), REPLICA_LAG_TIME_MAX_MS)
                + 2 * ELECTION_TIMEOUT_MS + 2_000;
    }

    public long maxRecoveryMs() {
        return 10_000;
    }
}
