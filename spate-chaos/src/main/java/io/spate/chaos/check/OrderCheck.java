package io.spate.chaos.check;

import io.spate.chaos.history.Write;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An idempotent producer keeps its order per partition: its values appear in the final log in
 * the order it sent them, and the broker acknowledges them at increasing offsets.
 */
final class OrderCheck {

    private OrderCheck() {
    }

    static void check(Map<String, Write> writesByValue, List<Write> writes, FinalLog log, List<Violation> out) {
        checkFinalLog(writesByValue, log, out);
        checkAcknowledgedOffsets(writes, out);
    }

    private static void checkFinalLog(Map<String, Write> writesByValue, FinalLog log, List<Violation> out) {
        for (Map.Entry<Integer, List<String>> e : log.partitions().entrySet()) {
            int p = e.getKey();
            long start = log.start(p);
            // producer -> the write of the highest seq seen so far in this partition
            Map<Integer, Write> last = new HashMap<>();
            List<String> values = e.getValue();
            for (int i = 0; i < values.size(); i++) {
                Write w = values.get(i) == null ? null : writesByValue.get(values.get(i));
                if (w == null || w.partition() != p) {
                    continue; // unexpected-value reports these
                }
                Write before = last.get(w.producer());
                if (before != null && w.seq() < before.seq()) {
                    out.add(new Violation(Violation.OUT_OF_ORDER, p, start + i,
                            "producer " + w.producer() + " seq " + w.seq() + " (" + w.outcome() + ") is after seq "
                                    + before.seq() + " (" + before.outcome() + ") in the final log"));
                } else if (before == null || w.seq() > before.seq()) {
                    last.put(w.producer(), w);
                }
                // equal seq: the same value twice, which duplicate reports
            }
        }
    }

    private static void checkAcknowledgedOffsets(List<Write> writes, List<Violation> out) {
        Map<Long, List<Write>> byProducerPartition = new HashMap<>();
        for (Write w : writes) {
            if (w.acknowledged() && w.offset() >= 0) { // an ack without an offset has nothing to order
                long key = ((long) w.producer() << 32) | (w.partition() & 0xffffffffL);
                byProducerPartition.computeIfAbsent(key, k -> new ArrayList<>()).add(w);
            }
        }
        for (List<Write> acked : byProducerPartition.values()) {
            acked.sort(Comparator.comparingLong(Write::seq));
            for (int i = 1; i < acked.size(); i++) {
                Write a = acked.get(i - 1);
                Write b = acked.get(i);
                if (b.offset() <= a.offset()) {
                    out.add(new Violation(Violation.OUT_OF_ORDER, b.partition(), b.offset(),
                            "producer " + b.producer() + " seq " + b.seq() + " was acknowledged at offset " + b.offset()
                                    + ", not after seq " + a.seq() + " at offset " + a.offset()));
                }
            }
        }
    }
}
