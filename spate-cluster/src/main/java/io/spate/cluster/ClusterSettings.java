package io.spate.cluster;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * How a node takes part in the cluster.
 *
 * @param voters              the controller quorum (Kafka's {@code controller.quorum.voters}: {@code id@host:port,...})
 * @param heartbeatMs         how often a node tells the controller it is alive
 * @param sessionTimeoutMs    silence after which the controller fences a node and moves its leaders
 * @param electionTimeoutMs   Raft election timeout (lower bound; the upper bound is twice this)
 * @param leaderRebalanceMs   how often the controller moves leadership back to preferred replicas (0: never)
 * @param nodeAddMoves        how many partition moves at once the controller runs to fill a node that
 *                            joins holding no replica (0: none; Redpanda's {@code node_add} autobalancing), and
 *                            to move replicas off a node unavailable too long
 * @param unavailableMoveAfterMs  how long a node may stay fenced before the controller moves its replicas
 *                            to the live nodes (0: never; Redpanda's {@code continuous} autobalancing and its
 *                            {@code partition_autobalancing_node_availability_timeout_sec})
 */
public record ClusterSettings(int nodeId, List<Voter> voters, Path metadataDir,
                              long heartbeatMs, long sessionTimeoutMs, long electionTimeoutMs, long leaderRebalanceMs,
                              int nodeAddMoves, long unavailableMoveAfterMs) {

    /** Settings that never move the replicas of an unavailable node on their own. */
    public ClusterSettings(int nodeId, List<Voter> voters, Path metadataDir, long heartbeatMs, long sessionTimeoutMs, long electionTimeoutMs,
                           long leaderRebalanceMs, int nodeAddMoves) {
        this(nodeId, voters, metadataDir, heartbeatMs, sessionTimeoutMs, electionTimeoutMs, leaderRebalanceMs, nodeAddMoves, 0);
    }

    /** Settings that move no partition on their own when a node joins. */
    public ClusterSettings(int nodeId, List<Voter> voters, Path metadataDir, long heartbeatMs, long sessionTimeoutMs, long electionTimeoutMs,
                           long leaderRebalanceMs) {
        this(nodeId, voters, metadataDir, heartbeatMs, sessionTimeoutMs, electionTimeoutMs, leaderRebalanceMs, 0, 0);
    }

    public record Voter(int id, String host, int port) {
        public String address() {
            return host + ":" + port;
        }
    }

    /**
     * How long one heartbeat may take before the node tries another controller: short enough that
     * a node finds a new controller leader well inside its session.
     */
    public long heartbeatTimeoutMs() {
        return Math.max(200, Math.min(sessionTimeoutMs / 3, 2 * heartbeatMs));
    }

    public boolean isVoter() {
        return voters.stream().anyMatch(v -> v.id() == nodeId);
    }

    public Voter self() {
        return voters.stream().filter(v -> v.id() == nodeId).findFirst().orElse(null);
    }

    /** Parses {@code 1@127.0.0.1:9093,2@127.0.0.1:9094}. */
    public static List<Voter> parseVoters(String text) {
        List<Voter> voters = new ArrayList<>();
        for (String part : text.split(",")) {
            String s = part.trim();
            if (s.isEmpty()) {
                continue;
            }
            int at = s.indexOf('@');
            int colon = s.lastIndexOf(':');
            if (at <= 0 || colon <= at + 1 || colon == s.length() - 1) {
                throw new IllegalArgumentException("controller '" + s + "' must look like ID@HOST:PORT");
            }
            try {
                int id = Integer.parseInt(s.substring(0, at));
                int port = Integer.parseInt(s.substring(colon + 1));
                if (id < 0 || port <= 0 || port > 65535) {
                    throw new NumberFormatException();
                }
                voters.add(new Voter(id, s.substring(at + 1, colon), port));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("controller '" + s + "' must look like ID@HOST:PORT with a non-negative id and a valid port");
            }
        }
        if (voters.isEmpty()) {
            throw new IllegalArgumentException("at least one controller is needed");
        }
        if (voters.stream().map(Voter::id).distinct().count() != voters.size()) {
            throw new IllegalArgumentException("controller ids must be distinct: " + text);
        }
        return voters;
    }
}
