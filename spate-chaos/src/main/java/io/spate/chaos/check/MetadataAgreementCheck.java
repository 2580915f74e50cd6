package io.spate.chaos.check;

import io.spate.chaos.history.MetadataLogEntry;
import io.spate.chaos.history.RunHistory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * Raft's log matching property over the controller voters' logs as they stood at the end: where
 * two voters hold an entry of the same term at one index, they hold the same entries at every
 * index before it. A voter whose log broke it replays a different metadata history from the
 * others (fix 21: an old-term entry left under newer ones made a restarted voter fence a healthy
 * node and lead every partition alone); before this check such a run showed only as lost writes,
 * and only when the divergent voter happened to lead. Entries a voter has compacted into its
 * snapshot are not compared.
 */
final class MetadataAgreementCheck {

    private MetadataAgreementCheck() {
    }

    static void check(RunHistory h, List<Violation> out) {
        Map<Integer, NavigableMap<Long, MetadataLogEntry>> byNode = new TreeMap<>();
        for (MetadataLogEntry e : h.metadataLogs()) {
            byNode.computeIfAbsent(e.node(), k -> new TreeMap<>()).put(e.index(), e);
        }
        List<Integer> nodes = new ArrayList<>(byNode.keySet());
        for (int i = 0; i < nodes.size(); i++) {
            for (int j = i + 1; j < nodes.size(); j++) {
                compare(nodes.get(i), byNode.get(nodes.get(i)), nodes.get(j), byNode.get(nodes.get(j)), out);
            }
        }
    }

    private static void compare(int a, NavigableMap<Long, MetadataLogEntry> logA, int b, NavigableMap<Long, MetadataLogEntry> logB,
                                List<Violation> out) {
        // The highest index where both hold an entry of the same term: everything below must match.
        MetadataLogEntry anchor = null;
        for (MetadataLogEntry x : logA.descendingMap().values()) {
            MetadataLogEntry y = logB.get(x.index());
            if (y != null && y.term() == x.term()) {
                anchor = x;
                break;
            }
        }
        if (anchor == null) {
            return;
        }
        for (MetadataLogEntry x : logA.headMap(anchor.index(), true).values()) {
            MetadataLogEntry y = logB.get(x.index());
            if (y == null) {
                continue;
            }
            if (y.term() != x.term() || y.crc() != x.crc()) {
                out.add(new Violation(Violation.METADATA_DIVERGED, -1, x.index(),
                        "controller voters " + a + " and " + b + " hold different entries at index " + x.index()
                                + " (terms " + x.term() + " and " + y.term() + (y.term() == x.term() ? ", different content" : "")
                                + ") though both hold the term-" + anchor.term() + " entry at index " + anchor.index()));
                return;
            }
        }
    }
}
