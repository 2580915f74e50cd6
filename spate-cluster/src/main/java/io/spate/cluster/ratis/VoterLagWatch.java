package io.spate.cluster.ratis;

/**
 * Decides when a voter whose own Raft replica has stopped applying must be helped. It is told,
 * at every controller answer that says this node is behind, the last log index its replica
 * applied; it answers on the time it is given (no clock of its own), so a test can replay any history.
 *
 * <p>Why it exists: the fault campaigns found Ratis followers that stopped taking the leader's
 * entries for good while still answering it (an in-memory log refusing every append after a
 * truncation, seed 2018; a restarted voter the leader never matched again, seeds 2001 and 2020).
 * Such a voter holds no quorum back on its own, but its node works on an old image, and with a
 * second voter down the whole cluster stops. A replica that stays behind without applying
 * anything is first bridged (the node fetches the committed image from the leader, as a node
 * that is not a voter does) and, if it still applies nothing, its Raft server is restarted,
 * which reloads the log from disk and lets the leader catch it up from there.
 */
final class VoterLagWatch {
    enum Action { NONE, FETCH_IMAGE, RESTART_VOTER }

    private final long fetchAfterNanos;
    private final long restartAfterNanos;
    private final long staleAfterNanos;
    private final long restartBackoffNanos;

    private boolean observing;
    private long lastObservedNanos;
    private long behindSinceNanos;
    /** The start of the current unbroken run of reports. */
    private long stretchSinceNanos;
    private long appliedWhenBehind;
    private boolean restartedOnce;
    /** The node fetched an image in the current window: it may look current while its replica is not. */
    private boolean bridged;
    private long lastRestartNanos;
    private final long startGraceNanos;
    private boolean graceSet;
    private long graceUntilNanos;

    /**
     * @param fetchAfterNanos     behind without applying anything this long: fetch the committed image
     * @param restartAfterNanos   this long: restart the voter's Raft server
     * @param staleAfterNanos     a gap between reports this long means the node was caught up (or cut
     *                            off) meanwhile: the next report starts a new window
     * @param restartBackoffNanos no second restart sooner than this after one
     * @param startGraceNanos     no restart within this long of the Raft server's start (see {@link #serverStarted})
     */
    VoterLagWatch(long fetchAfterNanos, long restartAfterNanos, long staleAfterNanos, long restartBackoffNanos, long startGraceNanos) {
        if (fetchAfterNanos <= 0 || restartAfterNanos <= fetchAfterNanos || staleAfterNanos <= 0 || restartBackoffNanos < restartAfterNanos
                || startGraceNanos < 0) {
            throw new IllegalArgumentException("need 0 < fetchAfter < restartAfter <= restartBackoff, staleAfter > 0 and startGrace >= 0");
        }
        this.startGraceNanos = startGraceNanos;
        this.fetchAfterNanos = fetchAfterNanos;
        this.restartAfterNanos = restartAfterNanos;
        this.staleAfterNanos = staleAfterNanos;
        this.restartBackoffNanos = restartBackoffNanos;
    }

    /**
     * The voter's Raft server (re)started at {@code nowNanos}. A cluster starting on a busy machine
     * (five nodes in one test, three beside a CPU hog) can leave a voter without an applied entry
     * for many seconds while the others commit; restarting it then only makes the quorum weaker.
     * A replica that stopped for good is still restarted, once the grace is over.
     */
    void serverStarted(long nowNanos) {
        graceSet = true;
        graceUntilNanos = nowNanos + startGraceNanos;
    }

    /** The controller says this node is behind; its replica has applied up to log index {@code appliedIndex}. */
    Action behind(long nowNanos, long appliedIndex) {
        boolean stale = !observing || nowNanos - lastObservedNanos > staleAfterNanos;
        boolean progress = observing && appliedIndex != appliedWhenBehind;
        // A gap between reports ends the window when the replica caught up by itself, or the node
        // was cut off. Not when the node only looked current because it fetched the image: its
        // replica applied nothing meanwhile, and restarting the window at each metadata change
        // kept a replica that had stopped for good bridged, and never restarted (seed 3090, 80 s).
        if (progress || (stale && !(bridged && appliedIndex == appliedWhenBehind))) {
            // A new window, or progress: a replica that applies, however slowly, is catching up.
            behindSinceNanos = nowNanos;
            appliedWhenBehind = appliedIndex;
            bridged = false;
        }
        if (stale || progress) {
            stretchSinceNanos = nowNanos;
        }
        observing = true;
        lastObservedNanos = nowNanos;
        // Every unbroken run of reports gives the replica its own time to catch up by itself: a
        // node heard again after a cut-off, or a quorum that has just elected a leader, is not
        // judged on the time it could not have applied anything.
        if (nowNanos - stretchSinceNanos < fetchAfterNanos) {
            return Action.NONE;
        }
        long stalled = nowNanos - behindSinceNanos;
        boolean inGrace = graceSet && nowNanos - graceUntilNanos < 0;
        if (stalled >= restartAfterNanos && !inGrace && (!restartedOnce || nowNanos - lastRestartNanos >= restartBackoffNanos)) {
            restartedOnce = true;
            lastRestartNanos = nowNanos;
            behindSinceNanos = nowNanos;
            stretchSinceNanos = nowNanos;
            return Action.RESTART_VOTER;
        }
        bridged = true;
        return Action.FETCH_IMAGE;
    }
}
