package io.spate.tables;

import io.spate.time.Scheduler;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Merkle-tree anti-entropy: the repair that needs no request to find a difference. Each round
 * this node takes the next (table, range it replicates, other live replica of it) in turn and
 * runs one session with that peer:
 *
 * <pre>
 * initiator                                   peer
 *   TreeRequest(range, depth)         ───▶    builds its tree of the range
 *                                     ◀───    TreeReply(hashes)
 *   compares trees; equal: done
 *   DigestRequest(differing leaves)   ───▶
 *                                     ◀───    DigestReply(key, timestamp, digest) of those leaves
 *   compares key by key
 *   Push(cells newer here)            ───▶    merges them
 *   PullRequest(keys newer there)     ───▶
 *                                     ◀───    PullReply(cells); initiator merges them
 * </pre>
 * Only the keys that differ travel, so a replica back from an outage, or a new one, gets what it
 * lacks of its own ranges and nothing else. Both sides leave out tombstones old enough to
 * collect (they count as gone). The peer's side keeps no state. One session at a time, abandoned
 * after the request timeout; a message carries at most {@code maxKeysPerMessage} keys, and a Push
 * or PullReply at most {@code maxBytesPerMessage} of keys and values (at least one cell), the rest
 * waits for the range's next turn.
 *
 * <p>A digest list cut at the bound covers the differing leaves up to its last key, in token order:
 * within that window a key the list lacks is missing on the peer, and the range's next turn asks
 * from past that key, so the lists walk leaves of any size (one that restarted from the first key
 * each turn, as this once did, never got past the first {@code maxKeysPerMessage} keys, and a
 * difference behind them was never repaired). The window moves on only once it was fully handled.
 */
final class AntiEntropy {
    /** How often a repair runs one range with one peer again while it still finds differences (more than a message's keys). */
    static final int MAX_REPAIR_ROUNDS_PER_STEP = 50;
    private final ReplicaNode node;
    private List<Step> plan = List.of();
    private int cursor;
    private Session session;
    private long nextSession;
    /** Where each (table, range, peer)'s next digest list starts: past the key the last cut one ended at. */
    private final Map<Step, byte[]> resumeAfter = new HashMap<>();
    /** Steps an asked-for repair still has to run, before the periodic rounds' next turn. */
    private final java.util.ArrayDeque<RepairStep> repairSteps = new java.util.ArrayDeque<>();
    private final List<java.util.function.Consumer<RepairResult>> repairWaiters = new ArrayList<>();
    private int repairSessions;
    private int repairInSync;
    private int repairAbandoned;
    private long repairPushedBefore;
    private long repairPulledBefore;

    private record RepairStep(Step step, int round) {
    }

    /** One unit of work: a range of a table and the peer to compare it with. */
    private record Step(String table, TokenRange range, String peer) {
    }

    private final class Session {
        final long id;
        final Step step;
        /** The round of an asked-for repair this is, or -1 for a periodic one. */
        final int repairRound;
        final Scheduler.Timer timer;
        MerkleTree tree;
        List<Integer> leaves;
        /** The window this session compares: past {@code after} (null: from the start) up to {@code cut} (null: to the end). */
        byte[] after;
        byte[] cut;
        /** Everything that differed in the window was pushed, or asked for, within the message bounds. */
        boolean windowSent;
        int pulling;

        Session(long id, Step step, int repairRound) {
            this.id = id;
            this.step = step;
            this.repairRound = repairRound;
            this.timer = node.scheduler.schedule(node.settings.requestTimeoutMs(), () -> {
                if (session == this) {
                    node.metrics.antiEntropyAbandoned++;
                    session = null;
                    over(this, true);
                }
            });
        }
    }

    AntiEntropy(ReplicaNode node) {
        this.node = node;
        this.nextSession = node.firstId();
    }

    void ringChanged() {
        plan = null;
        resumeAfter.clear();
    }

    private List<Step> plan() {
        if (plan == null) {
            List<Step> steps = new ArrayList<>();
            for (ReplicaNode.Table t : node.tables.values().stream()
                    .sorted((a, b) -> a.config().name().compareTo(b.config().name())).toList()) {
                for (TokenRing.RangeReplicas r : node.ring().rangesOf(node.id, t.config().replicationFactor())) {
                    for (String peer : r.replicas()) {
                        if (!peer.equals(node.id)) {
                            steps.add(new Step(t.config().name(), r.range(), peer));
                        }
                    }
                }
            }
            plan = steps;
            cursor = 0;
        }
        return plan;
    }

    void tick() {
        if (session != null) {
            return;
        }
        while (!repairSteps.isEmpty()) {
            RepairStep next = repairSteps.poll();
            if (node.membership().isLive(next.step.peer) && node.tables.containsKey(next.step.table)) {
                start(next.step, next.round);
                return;
            }
        }
        List<Step> steps = plan();
        for (int tried = 0; tried < steps.size(); tried++) {
            Step step = steps.get(cursor);
            cursor = (cursor + 1) % steps.size();
            if (node.membership().isLive(step.peer) && node.tables.containsKey(step.table)) {
                start(step, -1);
                return;
            }
        }
    }

    private void start(Step step, int repairRound) {
        session = new Session(nextSession++, step, repairRound);
        node.metrics.antiEntropySessions++;
        node.send(step.peer, new TableMessage.TreeRequest(session.id, step.table, step.range, node.settings.merkleDepth()));
    }

    private void end() {
        Session s = session;
        s.timer.cancel();
        session = null;
        over(s, false);
    }

    /**
     * Runs every (range, other replica) of the table now, one session after another, each again
     * while it still finds differences (a message carries at most {@code maxKeysPerMessage} keys),
     * and reports once all have run. Replicas not live are skipped.
     */
    void repair(String table, java.util.function.Consumer<RepairResult> done) {
        if (repairWaiters.isEmpty()) {
            repairSessions = 0;
            repairInSync = 0;
            repairAbandoned = 0;
            repairPushedBefore = node.metrics.keysPushedByAntiEntropy;
            repairPulledBefore = node.metrics.keysPulledByAntiEntropy;
        }
        for (Step step : plan()) {
            if (step.table.equals(table)) {
                repairSteps.add(new RepairStep(step, 0));
            }
        }
        repairWaiters.add(done);
        tick();
        if (session == null || session.repairRound < 0) {
            repairDoneIfIdle();
        }
    }

    /** A session ended: an asked-for repair's next step follows at once. */
    private void over(Session s, boolean abandoned) {
        if (s.repairRound < 0) {
            if (!repairSteps.isEmpty()) {
                node.scheduler.schedule(0, this::tick); // a repair asked for during a periodic session
            }
            return;
        }
        repairSessions++;
        if (abandoned) {
            repairAbandoned++;
        } else if (s.leaves != null && s.leaves.isEmpty()) {
            repairInSync++;
        } else if (s.repairRound + 1 < MAX_REPAIR_ROUNDS_PER_STEP) {
            repairSteps.addFirst(new RepairStep(s.step, s.repairRound + 1));
        }
        if (!repairSteps.isEmpty()) {
            node.scheduler.schedule(0, this::tick);
        } else {
            repairDoneIfIdle();
        }
    }

    private void repairDoneIfIdle() {
        if (!repairSteps.isEmpty() || repairWaiters.isEmpty()) {
            return;
        }
        RepairResult result = new RepairResult(repairSessions, repairInSync, repairAbandoned,
                node.metrics.keysPushedByAntiEntropy - repairPushedBefore, node.metrics.keysPulledByAntiEntropy - repairPulledBefore);
        List<java.util.function.Consumer<RepairResult>> waiting = List.copyOf(repairWaiters);
        repairWaiters.clear();
        waiting.forEach(w -> w.accept(result));
    }

    private Session current(String from, long id) {
        return session != null && session.id == id && session.step.peer.equals(from) ? session : null;
    }

    private MerkleTree tree(ReplicaNode.Table t, TokenRange range, int depth) {
        return MerkleTree.of(t.store(), range, depth, node.purgeBeforeMs(t.config()));
    }

    void onTreeRequest(String from, TableMessage.TreeRequest m) {
        ReplicaNode.Table t = node.tables.get(m.table());
        if (t != null && m.depth() <= MerkleTree.MAX_DEPTH) {
            node.send(from, new TableMessage.TreeReply(m.session(), tree(t, m.range(), m.depth()).toArray()));
        }
    }

    void onTreeReply(String from, TableMessage.TreeReply m) {
        Session s = current(from, m.session());
        if (s == null) {
            return;
        }
        ReplicaNode.Table t = node.tables.get(s.step.table);
        int depth = node.settings.merkleDepth();
        s.tree = tree(t, s.step.range, depth);
        s.leaves = s.tree.differingLeaves(MerkleTree.fromArray(s.step.range, depth, m.nodes()));
        if (s.leaves.isEmpty()) {
            node.metrics.antiEntropyInSync++;
            resumeAfter.remove(s.step);
            end();
            return;
        }
        s.after = resumeAfter.get(s.step);
        node.send(from, new TableMessage.DigestRequest(s.id, s.step.table, s.step.range, depth, s.leaves, s.after));
    }

    /**
     * Key versions in the given leaves of a range, in token order, past {@code after} and up to
     * {@code upTo} (either null: no bound), collectable tombstones left out, at most {@code max}.
     */
    private List<TableMessage.KeyVersion> versions(ReplicaNode.Table t, TokenRange range, int depth, List<Integer> leaves,
                                                   byte[] after, byte[] upTo, int max, boolean[] complete) {
        Set<Integer> wanted = new HashSet<>(leaves);
        long purgeBefore = node.purgeBeforeMs(t.config());
        List<TableMessage.KeyVersion> out = new ArrayList<>();
        complete[0] = true;
        t.store().scan(range, (key, cell) -> {
            if (cell.purgeable(purgeBefore) || !wanted.contains(MerkleTree.leafOf(range, depth, TokenRing.token(key)))) {
                return;
            }
            if (after != null && compareInScan(range, key, after) <= 0 || upTo != null && compareInScan(range, key, upTo) > 0) {
                return;
            }
            if (out.size() >= max) {
                complete[0] = false;
                return;
            }
            out.add(new TableMessage.KeyVersion(key, cell.hlc(), cell.digest()));
        });
        return out;
    }

    /**
     * Which of two keys a scan of the range meets first: by token from just past the range's start
     * (a range may wrap past the largest token to the smallest), then by key bytes, as stores keep them.
     */
    static int compareInScan(TokenRange range, byte[] a, byte[] b) {
        long start = range.startExclusive() + 1;
        int byToken = Long.compareUnsigned(TokenRing.token(a) - start, TokenRing.token(b) - start);
        return byToken != 0 ? byToken : java.util.Arrays.compareUnsigned(a, b);
    }

    void onDigestRequest(String from, TableMessage.DigestRequest m) {
        ReplicaNode.Table t = node.tables.get(m.table());
        if (t == null || m.depth() > MerkleTree.MAX_DEPTH) {
            return;
        }
        boolean[] complete = new boolean[1];
        List<TableMessage.KeyVersion> v = versions(t, m.range(), m.depth(), m.leaves(), m.after(), null,
                node.settings.maxKeysPerMessage(), complete);
        node.send(from, new TableMessage.DigestReply(m.session(), v, complete[0]));
    }

    void onDigestReply(String from, TableMessage.DigestReply m) {
        Session s = current(from, m.session());
        if (s == null) {
            return;
        }
        ReplicaNode.Table t = node.tables.get(s.step.table);
        if (!m.complete() && m.versions().isEmpty()) {
            end(); // no window to compare (a bound of no keys)
            return;
        }
        s.cut = m.complete() ? null : m.versions().getLast().key();
        boolean[] complete = new boolean[1];
        Map<ByteBuffer, TableMessage.KeyVersion> mine = new HashMap<>();
        for (TableMessage.KeyVersion v : versions(t, s.step.range, s.tree.depth(), s.leaves, s.after, s.cut, Integer.MAX_VALUE, complete)) {
            mine.put(ByteBuffer.wrap(v.key()), v);
        }
        Map<ByteBuffer, TableMessage.KeyVersion> theirs = new HashMap<>();
        for (TableMessage.KeyVersion v : m.versions()) {
            theirs.put(ByteBuffer.wrap(v.key()), v);
        }
        int max = node.settings.maxKeysPerMessage();
        List<TableMessage.KeyCell> push = new ArrayList<>();
        long pushBytes = 0;
        List<byte[]> pull = new ArrayList<>();
        boolean bounded = false;
        for (Map.Entry<ByteBuffer, TableMessage.KeyVersion> e : mine.entrySet()) {
            TableMessage.KeyVersion their = theirs.get(e.getKey());
            TableMessage.KeyVersion my = e.getValue();
            // Mine lists only the window the peer's list covers: a key it lacks there is missing on the peer.
            if (their == null || my.digest() != their.digest() && my.hlc() >= their.hlc()) {
                if (push.size() >= max) {
                    bounded = true;
                    continue;
                }
                Cell cell = t.store().get(my.key());
                if (cell == null) {
                    continue;
                }
                long size = wireSize(my.key(), cell);
                if (!push.isEmpty() && pushBytes + size > node.settings.maxBytesPerMessage()) {
                    bounded = true;
                    continue; // a smaller one may still fit; the rest at the range's next turn
                }
                pushBytes += size;
                push.add(new TableMessage.KeyCell(my.key(), cell));
            }
        }
        for (Map.Entry<ByteBuffer, TableMessage.KeyVersion> e : theirs.entrySet()) {
            TableMessage.KeyVersion my = mine.get(e.getKey());
            TableMessage.KeyVersion their = e.getValue();
            if (my == null || my.digest() != their.digest() && their.hlc() >= my.hlc()) {
                if (pull.size() >= max) {
                    bounded = true;
                } else {
                    pull.add(their.key());
                }
            }
        }
        s.windowSent = !bounded;
        if (!push.isEmpty()) {
            node.metrics.keysPushedByAntiEntropy += push.size();
            node.send(from, new TableMessage.Push(s.id, s.step.table, push));
        }
        if (pull.isEmpty()) {
            windowDone(s);
            end();
        } else {
            s.pulling = pull.size();
            node.send(from, new TableMessage.PullRequest(s.id, s.step.table, pull));
        }
    }

    /** The session's window is repaired: the range's next turn starts past it, or from the start once the list reached the end. */
    private void windowDone(Session s) {
        if (!s.windowSent) {
            return; // what the bounds held back is in this window still: the next turn compares it again
        }
        if (s.cut == null) {
            resumeAfter.remove(s.step);
        } else {
            resumeAfter.put(s.step, s.cut);
        }
    }

    /** A cell's share of a message: key and value with their length fields, flag and timestamp (rounded up). */
    static long wireSize(byte[] key, Cell cell) {
        return 32L + key.length + (cell.value() == null ? 0 : cell.value().length);
    }

    void onPush(TableMessage.Push m) {
        ReplicaNode.Table t = node.tables.get(m.table());
        if (t != null) {
            for (TableMessage.KeyCell kc : m.cells()) {
                t.store().merge(kc.key(), kc.cell(), () -> { });
            }
        }
    }

    void onPullRequest(String from, TableMessage.PullRequest m) {
        ReplicaNode.Table t = node.tables.get(m.table());
        if (t == null) {
            return;
        }
        List<TableMessage.KeyCell> cells = new ArrayList<>();
        long bytes = 0;
        for (byte[] key : m.keys().subList(0, Math.min(m.keys().size(), node.settings.maxKeysPerMessage()))) {
            Cell c = t.store().get(key);
            if (c != null) {
                long size = wireSize(key, c);
                if (!cells.isEmpty() && bytes + size > node.settings.maxBytesPerMessage()) {
                    continue; // the initiator asks for the rest at the range's next turn
                }
                bytes += size;
                cells.add(new TableMessage.KeyCell(key, c));
            }
        }
        node.send(from, new TableMessage.PullReply(m.session(), cells));
    }

    void onPullReply(String from, TableMessage.PullReply m) {
        Session s = current(from, m.session());
        if (s == null) {
            return;
        }
        ReplicaNode.Table t = node.tables.get(s.step.table);
        for (TableMessage.KeyCell kc : m.cells()) {
            if (t.store().merge(kc.key(), kc.cell(), () -> { })) {
                node.metrics.keysPulledByAntiEntropy++;
            }
        }
        if (m.cells().size() == s.pulling) { // fewer: the peer's byte bound held some back
            windowDone(s);
        }
        end();
    }
}
