package io.spate.tables;

import io.spate.time.Scheduler;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The coordinator's side of a request, on whichever node received it (no leader). A write goes to
 * the key's live replicas, and for each down one to a stand-in (the next live node on the ring
 * walk) with a hint; it answers once W count. A read asks every live replica, answers once R have
 * replied, after repairing the stale ones among those R (blocking read repair, so the next read at
 * R meets what this one returned), and repairs replicas that answer stale later in the background.
 *
 * <p>Timeouts: a write or read not answered within the request timeout ends in TIMEOUT; at that
 * moment every replica that has not acknowledged a write gets a hint on this node, so it is
 * handed over when the replica is reachable again, whether the write succeeded or not.
 */
final class RequestCoordinator {
    private final ReplicaNode node;
    private final Map<Long, PendingWrite> writes = new HashMap<>();
    private final Map<Long, PendingRead> reads = new HashMap<>();
    /** Read-repair writes awaiting acks: id to the read that waits for them (background repairs map to null). */
    private final Map<Long, PendingRead> repairs = new HashMap<>();
    private long nextId;

    RequestCoordinator(ReplicaNode node) {
        this.node = node;
        this.nextId = node.firstId();
    }

    private long newId() {
        return nextId++;
    }

    private final class PendingWrite {
        final long id;
        final ReplicaNode.Table table;
        final byte[] key;
        final Cell cell;
        final Consistency consistency;
        final int required;
        final long startNanos;
        final Consumer<WriteResult> done;
        /** Target node to the replica it writes for: itself, or the down replica it holds a hint for. */
        final Map<String, String> targets = new LinkedHashMap<>();
        final Set<String> acked = new HashSet<>();
        int counted;
        boolean answered;
        Scheduler.Timer timer;

        PendingWrite(long id, ReplicaNode.Table table, byte[] key, Cell cell, Consistency consistency, int required,
                     Consumer<WriteResult> done) {
            this.id = id;
            this.table = table;
            this.key = key;
            this.cell = cell;
            this.consistency = consistency;
            this.required = required;
            this.done = done;
            this.startNanos = node.scheduler.time().nanos();
        }
    }

    private final class PendingRead {
        final long id;
        final ReplicaNode.Table table;
        final byte[] key;
        final Consistency consistency;
        final int required;
        final int asked;
        final long startNanos;
        final Consumer<ReadResult> done;
        final Map<String, Cell> replies = new LinkedHashMap<>();
        /** Replicas a blocking repair waits for. */
        final Set<String> repairing = new HashSet<>();
        /**
         * What the read answers: the newest of the R replies it resolved, which its blocking repair
         * makes durable on those replicas. Fixed once resolved: a newer cell from a reply after that
         * is repaired in the background, with no wait for it, and answering it would let a later
         * read at R (if those repairs are lost) return something older than this answer.
         */
        Cell answer;
        /** The newest cell of every reply so far, what background repairs copy. */
        Cell winner;
        boolean answered;
        Scheduler.Timer timer;

        PendingRead(long id, ReplicaNode.Table table, byte[] key, Consistency consistency, int required, int asked,
                    Consumer<ReadResult> done) {
            this.id = id;
            this.table = table;
            this.key = key;
            this.consistency = consistency;
            this.required = required;
            this.asked = asked;
            this.done = done;
            this.startNanos = node.scheduler.time().nanos();
        }
    }

    /** The key's replicas (first N on the walk) and the rest of the walk, stand-ins in order. */
    private record Placement(List<String> replicas, List<String> standIns) {
    }

    private Placement place(ReplicaNode.Table table, byte[] key) {
        List<String> walk = node.ring().walk(TokenRing.token(key));
        int n = Math.min(table.config().replicationFactor(), walk.size());
        return new Placement(walk.subList(0, n), walk.subList(n, walk.size()));
    }

    void write(String tableName, byte[] key, boolean tombstone, byte[] value, Consistency w, long after,
               Consumer<WriteResult> done) {
        ReplicaNode.Table table = node.tables.get(tableName);
        if (table == null) {
            throw new IllegalArgumentException("no table " + tableName);
        }
        if (writes.size() + reads.size() >= node.settings.maxInFlightRequests()) {
            done.accept(new WriteResult(WriteResult.Status.OVERLOADED, 0));
            return;
        }
        int required = w.required(table.config().replicationFactor());
        Placement p = place(table, key);
        Membership m = node.membership();
        Map<String, String> targets = new LinkedHashMap<>();
        List<String> unplaced = new ArrayList<>();
        int standInIndex = 0;
        for (String replica : p.replicas()) {
            if (m.isLive(replica)) {
                targets.put(replica, replica);
                continue;
            }
            while (standInIndex < p.standIns().size() && !m.isLive(p.standIns().get(standInIndex))) {
                standInIndex++;
            }
            if (standInIndex < p.standIns().size()) {
                targets.put(p.standIns().get(standInIndex++), replica);
            } else {
                unplaced.add(replica);
            }
        }
        long countable = targets.entrySet().stream()
                .filter(e -> e.getKey().equals(e.getValue()) || table.config().sloppyQuorum()).count();
        if (countable < required) {
            node.metrics.writesUnavailable++;
            done.accept(new WriteResult(WriteResult.Status.UNAVAILABLE, 0));
            return;
        }
        // Throws, before anything is registered or sent, when `after` is too far ahead to order this write after it.
        long version = node.hlc.next(after);
        Cell cell = tombstone ? Cell.tombstone(version) : Cell.value(version, value);
        PendingWrite pw = new PendingWrite(newId(), table, key, cell, w, required, done);
        pw.targets.putAll(targets);
        writes.put(pw.id, pw);
        // Armed before anything can fail or ack: every path that ends the write cancels it.
        pw.timer = node.scheduler.schedule(node.settings.requestTimeoutMs(), () -> onWriteTimeout(pw));
        for (Map.Entry<String, String> t : targets.entrySet()) {
            String hintFor = t.getKey().equals(t.getValue()) ? null : t.getValue();
            node.send(t.getKey(), new TableMessage.Write(pw.id, tableName, key, cell, hintFor));
        }
        for (String replica : unplaced) {
            hint(replica, pw); // no live node left to stand in: this node keeps the hint itself
        }
    }

    boolean onWriteAck(String from, TableMessage.WriteAck ack) {
        if (repairs.containsKey(ack.id())) {
            onRepairAck(from, ack.id());
            return true;
        }
        PendingWrite pw = writes.get(ack.id());
        if (pw == null || !pw.targets.containsKey(from) || !pw.acked.add(from)) {
            return pw != null;
        }
        String forReplica = pw.targets.get(from);
        if (from.equals(forReplica) || pw.table.config().sloppyQuorum()) {
            pw.counted++;
        }
        if (!pw.answered && pw.counted >= pw.required) {
            pw.answered = true;
            node.metrics.writes++;
            node.metrics.write(pw.consistency, node.scheduler.time().nanos() - pw.startNanos);
            pw.done.accept(new WriteResult(WriteResult.Status.OK, pw.cell.hlc()));
        }
        if (pw.acked.size() == pw.targets.size()) {
            pw.timer.cancel();
            writes.remove(pw.id);
        }
        return true;
    }

    private void onWriteTimeout(PendingWrite pw) {
        if (writes.remove(pw.id) == null) {
            return;
        }
        // The client first: whatever the hinting meets, the request is over.
        if (!pw.answered) {
            pw.answered = true;
            node.metrics.writeTimeouts++;
            pw.done.accept(new WriteResult(WriteResult.Status.TIMEOUT, pw.cell.hlc()));
        }
        hintUnacknowledged(pw);
    }

    /** Hints every target of {@code pw} that has not acknowledged it. */
    private void hintUnacknowledged(PendingWrite pw) {
        for (Map.Entry<String, String> t : pw.targets.entrySet()) {
            if (!pw.acked.contains(t.getKey())) {
                hint(t.getValue(), pw);
            }
        }
    }

    private void hint(String replica, PendingWrite pw) {
        if (!replica.equals(node.id)) { // this node's own write completes through its own store
            node.hints.add(replica, pw.table.config().name(), pw.key, pw.cell, () -> { });
        }
    }

    void read(String tableName, byte[] key, Consistency r, Consumer<ReadResult> done) {
        ReplicaNode.Table table = node.tables.get(tableName);
        if (table == null) {
            throw new IllegalArgumentException("no table " + tableName);
        }
        if (writes.size() + reads.size() >= node.settings.maxInFlightRequests()) {
            done.accept(new ReadResult(ReadResult.Status.OVERLOADED, null));
            return;
        }
        int required = r.required(table.config().replicationFactor());
        List<String> live = place(table, key).replicas().stream().filter(node.membership()::isLive).toList();
        if (live.size() < required) {
            node.metrics.readsUnavailable++;
            done.accept(new ReadResult(ReadResult.Status.UNAVAILABLE, null));
            return;
        }
        PendingRead pr = new PendingRead(newId(), table, key, r, required, live.size(), done);
        reads.put(pr.id, pr);
        for (String replica : live) {
            node.send(replica, new TableMessage.Read(pr.id, tableName, key));
        }
        pr.timer = node.scheduler.schedule(node.settings.requestTimeoutMs(), () -> onReadTimeout(pr));
    }

    void onReadReply(String from, TableMessage.ReadReply reply) {
        PendingRead pr = reads.get(reply.id());
        if (pr == null || pr.replies.containsKey(from)) {
            return;
        }
        pr.replies.put(from, reply.cell());
        if (pr.answered || !pr.repairing.isEmpty()) {
            backgroundRepair(pr, from, reply.cell());
        } else if (pr.replies.size() >= pr.required) {
            resolve(pr);
        }
        if (pr.replies.size() == pr.asked && pr.answered) {
            finishRead(pr);
        }
    }

    /** R replies are in: answer with the newest, after repairing any of them that is behind it. */
    private void resolve(PendingRead pr) {
        Cell winner = null;
        for (Cell c : pr.replies.values()) {
            winner = Cell.merge(winner, c);
        }
        pr.winner = winner;
        pr.answer = winner;
        for (Map.Entry<String, Cell> e : pr.replies.entrySet()) {
            if (needsRepair(pr, e.getValue())) {
                pr.repairing.add(e.getKey());
            }
        }
        if (pr.repairing.isEmpty()) {
            answerRead(pr);
            return;
        }
        node.metrics.blockingReadRepairs++;
        for (String replica : pr.repairing) {
            long id = newId();
            repairs.put(id, pr);
            node.metrics.keysReadRepaired++;
            node.send(replica, new TableMessage.Write(id, pr.table.config().name(), pr.key, winner, null));
        }
    }

    private boolean needsRepair(PendingRead pr, Cell replicaCell) {
        if (pr.winner == null || Cell.compare(pr.winner, replicaCell) <= 0) {
            return false;
        }
        // A collectable tombstone need not be copied where the key is already absent: both mean gone.
        return !(replicaCell == null && pr.winner.purgeable(node.purgeBeforeMs(pr.table.config())));
    }

    private void onRepairAck(String from, long id) {
        PendingRead pr = repairs.remove(id);
        if (pr == null) {
            return; // a background repair
        }
        pr.repairing.remove(from);
        if (pr.repairing.isEmpty() && !pr.answered && reads.containsKey(pr.id)) {
            answerRead(pr);
            if (pr.replies.size() == pr.asked) {
                finishRead(pr);
            }
        }
    }

    /** A reply after the answer (or during its repair): repair that replica, or, if it is newer, the others. */
    private void backgroundRepair(PendingRead pr, String from, Cell cell) {
        Cell newest = Cell.merge(pr.winner, cell);
        if (Cell.compare(newest, pr.winner) > 0) {
            pr.winner = newest;
            for (Map.Entry<String, Cell> e : pr.replies.entrySet()) {
                if (!e.getKey().equals(from) && needsRepair(pr, e.getValue())) {
                    sendBackgroundRepair(pr, e.getKey());
                }
            }
        } else if (needsRepair(pr, cell)) {
            sendBackgroundRepair(pr, from);
        }
    }

    private void sendBackgroundRepair(PendingRead pr, String replica) {
        node.metrics.backgroundReadRepairs++;
        node.metrics.keysReadRepaired++;
        node.send(replica, new TableMessage.Write(newId(), pr.table.config().name(), pr.key, pr.winner, null));
    }

    private void answerRead(PendingRead pr) {
        pr.answered = true;
        node.metrics.reads++;
        node.metrics.read(pr.consistency, node.scheduler.time().nanos() - pr.startNanos);
        pr.done.accept(new ReadResult(ReadResult.Status.OK, pr.answer));
    }

    private void finishRead(PendingRead pr) {
        pr.timer.cancel();
        reads.remove(pr.id);
        repairs.values().removeIf(r -> r == pr);
    }

    private void onReadTimeout(PendingRead pr) {
        if (reads.remove(pr.id) == null) {
            return;
        }
        repairs.values().removeIf(r -> r == pr);
        if (!pr.answered) {
            pr.answered = true;
            node.metrics.readTimeouts++;
            pr.done.accept(new ReadResult(ReadResult.Status.TIMEOUT, null));
        }
    }

    /**
     * The node stops: nothing pending will be answered. A write still waiting for some replicas
     * leaves them the hints its timeout would have (the hint store is flushed as the node stops):
     * acknowledged at QUORUM by two replicas, its third copy otherwise waited for anti-entropy.
     */
    void abandonAll() {
        List<PendingWrite> unfinished = List.copyOf(writes.values());
        writes.values().forEach(w -> w.timer.cancel());
        reads.values().forEach(r -> r.timer.cancel());
        writes.clear();
        reads.clear();
        repairs.clear();
        unfinished.forEach(this::hintUnacknowledged);
    }
}
