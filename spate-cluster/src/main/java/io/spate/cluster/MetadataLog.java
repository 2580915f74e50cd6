package io.spate.cluster;

import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The replicated metadata log as a node sees it: submit commands, learn committed images.
 * Implemented on Apache Ratis ({@code io.spate.cluster.ratis}); nothing outside that package
 * knows about Raft.
 */
public interface MetadataLog extends AutoCloseable {

    /** The latest committed image this node has applied (or fetched, on a node that is not a voter). */
    ClusterImage image();

    /** Commits {@code command} through the controller quorum; completes with the outcome once applied. */
    CompletableFuture<CommandResult> submit(MetadataCommand command);

    /**
     * Commits {@code command} from the quorum leader itself (the controller's own decisions), never
     * waiting on a client's idea of who leads; fails if this node does not lead.
     */
    CompletableFuture<CommandResult> submitAsLeader(MetadataCommand command);

    /** Called with every newer image, in order, on one metadata thread; it must not block for long. */
    void subscribe(Consumer<ClusterImage> listener);

    /** Completes when this node's image has reached {@code version}. */
    CompletableFuture<ClusterImage> awaitVersion(long version);

    /**
     * The controller says this node's metadata is behind. A node that is not a voter fetches the
     * current image; a voter's own replica catches up by itself, and one that stays behind
     * without applying anything is bridged by fetching and, if need be, restarted.
     */
    void refresh();

    /**
     * How far this node's own copy of the metadata log has applied: what heartbeats report, so
     * that the controller tells a voter whose replica is stuck that it is behind even when the
     * node's image was fetched. A node that is not a voter reports its image.
     */
    default long appliedVersion() {
        return image().version();
    }

    /** Tells the controller this node is alive; the answer says whether it is registered and unfenced. */
    CompletableFuture<HeartbeatReply> heartbeat(int nodeId, long incarnation);

    /** The node id of the controller quorum's current leader, or -1 while there is none. */
    int controllerLeader();

    /** Whether this node's voter currently leads the controller quorum. */
    boolean isControllerLeader();

    /**
     * How long ago this node's voter, as leader, last heard from enough other voters to make a
     * majority with itself (0 for a quorum of one; {@link Long#MAX_VALUE} when it does not lead).
     * A leader paused past an election still believes it leads until it hears the newer term; this
     * age tells its answers apart from a live leader's.
     */
    long quorumContactAgeMs();

    /**
     * The quorum as this node's voter sees it while it leads the controller quorum (Kafka's
     * DescribeQuorum), with wall-clock times relative to {@code nowMs}; empty on any other node.
     */
    default java.util.Optional<QuorumState> leaderQuorumState(long nowMs) {
        return java.util.Optional.empty();
    }

    /**
     * Before a planned stop: if this node's voter leads the quorum, hands the lead to another
     * voter (waiting at most {@code timeoutMs}), so that the others need not wait out an election
     * timeout after it is gone; nothing otherwise.
     */
    default void handOverLeadership(long timeoutMs) {
    }

    /**
     * The node is about to stop at once (a disk failed): whatever this node's voter must find again
     * when it restarts (its term and vote) is made readable first, from memory if a failed write
     * damaged it. Nothing for a node that is not a voter.
     */
    default void prepareForAbruptStop() {
    }

    /**
     * What this node fetched of the metadata from the controller leader, rather than applied from
     * its own voter: whole images, updates made of the entries it missed, and their bytes; and
     * the fetches passed over, left waiting on a voter that no longer led while another was sent
     * to the one that did.
     */
    default Fetched fetched() {
        return new Fetched(0, 0, 0, 0);
    }

    record Fetched(long wholeImages, long entryUpdates, long bytes, long passedOver) {
    }

    /**
     * Completes, with the cause, when this node's own copy of the metadata log can no longer be
     * written (a full or failing disk): its voter then only holds the quorum back.
     */
    default CompletableFuture<Throwable> localLogFailure() {
        return new CompletableFuture<>();
    }

    @Override
    void close();

    /** @param registered  the controller knows this node under this incarnation and has not fenced it */
    record HeartbeatReply(boolean registered, long imageVersion) {
    }
}
