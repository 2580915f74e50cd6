package io.spate.tables;

import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Hands hints to their replicas: each round, for every replica the membership says is live, up to
 * a batch of its hints as ordinary writes; a hint is forgotten once the replica acknowledges it
 * (durably, per the table's setting). One batch in flight per replica, so a slow replica is not
 * flooded; a batch whose acks do not come within the request timeout is offered again next round.
 */
final class HintDelivery {
    private final ReplicaNode node;
    /** Write id to the hint it carries. */
    private final Map<Long, HintStore.Hint> inFlight = new HashMap<>();
    private final Map<String, Long> batchSentAtMs = new HashMap<>();
    private final Set<String> busy = new HashSet<>();
    private long nextId; // negative: never collides with the coordinator's ids on this node
    /**
     * Hints past their age are dropped this often for targets that stay down (a full pass over the
     * store, on the tables' thread), not every round.
     */
    static final long EXPIRY_INTERVAL_MS = 60_000;
    private long nextExpiryMs = Long.MIN_VALUE;

    HintDelivery(ReplicaNode node) {
        this.node = node;
        this.nextId = -node.firstId();
    }

    void tick() {
        long now = node.scheduler.time().millis();
        if (now >= nextExpiryMs) {
            // Only bounds what targets that stay down hold: a hint is checked for its age again before it is sent.
            node.hints.expire();
            nextExpiryMs = now + EXPIRY_INTERVAL_MS;
        }
        busy.removeIf(target -> now - batchSentAtMs.get(target) >= node.settings.requestTimeoutMs()
                || inFlight.values().stream().noneMatch(h -> h.target().equals(target)));
        inFlight.values().removeIf(h -> !busy.contains(h.target()));
        Set<String> ready = new LinkedHashSet<>();
        for (String target : node.hints.targets()) {
            if (!busy.contains(target) && node.membership().isLive(target) && !target.equals(node.id)) {
                ready.add(target);
            }
        }
        if (ready.isEmpty()) {
            return; // while the replicas hinted for stay down, the store is not read every round
        }
        Map<String, List<HintStore.Hint>> batches = node.hints.forTargets(ready, node.settings.hintBatch());
        for (String target : ready) {
            for (HintStore.Hint h : batches.getOrDefault(target, List.of())) {
                long id = nextId--;
                inFlight.put(id, h);
                node.metrics.hintsSent++;
                node.send(target, new TableMessage.Write(id, h.table(), h.key(), h.cell(), null));
            }
            busy.add(target);
            batchSentAtMs.put(target, now);
        }
    }

    boolean onAck(String from, TableMessage.WriteAck ack) {
        HintStore.Hint h = inFlight.get(ack.id());
        if (h == null || !h.target().equals(from)) {
            return false;
        }
        inFlight.remove(ack.id());
        node.hints.delivered(h);
        return true;
    }
}
