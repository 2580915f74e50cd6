package io.spate.chaos.check;

import io.spate.chaos.history.MetadataLogEntry;
import io.spate.chaos.history.RunHistory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * Raft's log matching property over the controller voters' logs, as the runner read them through
 * the run: where two voters' logs hold an entry of the same term at one index, they hold the same
 * entries at every index before it. That holds between any two reads, whenever each was made
 * (both logs then carry the prefix that term's one leader wrote), but not between entries of one
 * voter taken from different reads, so each read is compared whole. A voter whose log broke it
 * replays a different metadata history from the others (fix 21: an old-term entry left under
 * newer ones made a restarted voter fence a healthy node and lead every partition alone); before
 * this check such a run showed only as lost writes, and only when the divergent voter happened to
 * lead. Entries a voter had compacted into its snapshot when read are not compared.
 */
final class MetadataAgreementCheck {

    private MetadataAgreementCheck() {
    }

    private record View(int node, NavigableMap<Long, MetadataLogEntry> entries) {
    }

    static void check(RunHistory h, List<Violation> out) {
        Map<Integer, View> views = new LinkedHashMap<>();
        for (MetadataLogEntry e : h.metadataLogs()) {
            views.computeIfAbsent(e.view(), v -> new View(e.node(), new TreeMap<>())).entries().put(e.index(), e);
        }
        Map<Integer, List<View>> byNode = new TreeMap<>();
        for (View v : views.values()) {
            byNode.computeIfAbsent(v.node(), k -> new ArrayList<>()).add(v);
        }
        List<Integer> nodes = new ArrayList<>(byNode.keySet());
        for (int i = 0; i < nodes.size(); i++) {
            for (int j = i + 1; j < nodes.size(); j++) {
                pair:
                for (View a : byNode.get(nodes.get(i))) {
                    for (View b : byNode.get(nodes.get(j))) {
                        Violation v = compare(a, b);
                        if (v != null) {
                            out.add(v); // one per pair of voters: the first break found says enough
                            break pair;
                        }
                    }
                }
            }
        }
    }

    private static Violation compare(View a, View b) {
        // The highest index where both hold an entry of the same term: everything below must match.
        MetadataLogEntry anchor = null;
        for (MetadataLogEntry x : a.entries().descendingMap().values()) {
            MetadataLogEntry y = b.entries().get(x.index());
            if (y != null && y.term() == x.term()) {
                anchor = x;
                break;
            }
        }
        if (anchor == null) {
            return null;
        }
        for (MetadataLogEntry x : a.entries().headMap(anchor.index(), true).values()) {
            MetadataLogEntry y = b.entries().get(x.index());
            if (y != null && (y.term() != x.term() || y.crc() != x.crc())) {
                return new Violation(Violation.METADATA_DIVERGED, -1, x.index(),
                        "controller voters " + a.node() + " and " + b.node() + " hold different entries at index " + x.index()
                                + " (terms " + x.term() + " and " + y.term() + (y.term() == x.term() ? ", different content" : "")
                                + ") though both hold the term-" + anchor.term() + " entry at index " + anchor.index()
                                + " (reads " + x.view() + " and " + y.view() + ")");
            }
        }
        return null;
    }
}
