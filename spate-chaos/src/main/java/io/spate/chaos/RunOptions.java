package io.spate.chaos;

import io.spate.chaos.fault.FaultKind;

import java.nio.file.Path;
import java.util.Set;

/**
 * How one chaos run is shaped.
 *
 * @param durationMs  how long faults are injected (writes go on for {@code tailMs} more after healing)
 * @param neighbour   a CPU-heavy process per core beside the cluster, as on a shared machine
 */
public record RunOptions(Path brokerJar, int nodes, int partitions, int rate, int producers, int consumers,
                         long durationMs, long tailMs, Set<FaultKind> faults, boolean neighbour) {

    /** Spate's defaults, which the runs use unchanged: what a user gets. */
    public static final long SESSION_TIMEOUT_MS = 1_000;
    public static final long ELECTION_TIMEOUT_MS = 300;
    /** The workload's producers give up on a request after this (see ProducerWorkload). */
    public static final long CLIENT_REQUEST_TIMEOUT_MS = 2_000;

    /**
     * The longest a partition may accept no write while a quorum is up: failure detection (the
     * broker session, or the client's request timeout for a frozen leader it is talking to),
     * an election (up to twice the election timeout), and 2 s.
     */
    public long maxStallMs() {
        return Math.max(SESSION_TIMEOUT_MS, CLIENT_REQUEST_TIMEOUT_MS) + 2 * ELECTION_TIMEOUT_MS + 2_000;
    }

    public long maxRecoveryMs() {
        return 10_000;
    }
}
