package io.spate.chaos.check;

import io.spate.chaos.history.RunHistory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The final logs of a run, indexed once so that every check can ask "what is at (p, o)" and
 * "where is value v" in constant time.
 */
final class FinalLog {

    /** A place in the final log. */
    record Location(int partition, long offset) {
        @Override
        public String toString() {
            return "p" + partition + "@" + offset;
        }
    }

    private final Map<Integer, List<String>> values;
    private final Map<Integer, Long> starts;
    /** Per partition, holes before index i ({@code holes[i]}), to ask "is [a, b) dense" in O(1). */
    private final Map<Integer, int[]> holesBefore = new HashMap<>();
    /** Every location of each value; almost always one, more for duplicates. */
    private final Map<String, List<Location>> locations = new HashMap<>();

    FinalLog(RunHistory h) {
        this.values = h.finalLog();
        this.starts = h.logStart();
        for (Map.Entry<Integer, List<String>> e : values.entrySet()) {
            int p = e.getKey();
            List<String> log = e.getValue();
            long start = start(p);
            int[] holes = new int[log.size() + 1];
            for (int i = 0; i < log.size(); i++) {
                String v = log.get(i);
                holes[i + 1] = holes[i] + (v == null ? 1 : 0);
                if (v != null) {
                    locations.computeIfAbsent(v, k -> new ArrayList<>(1)).add(new Location(p, start + i));
                }
            }
            holesBefore.put(p, holes);
        }
    }

    long start(int partition) {
        return starts.getOrDefault(partition, 0L);
    }

    /** The offset after the last one the final log holds (its end offset). */
    long end(int partition) {
        List<String> log = values.get(partition);
        return start(partition) + (log == null ? 0 : log.size());
    }

    /** The value at (p, o), or null if the final log has no record there. */
    String valueAt(int partition, long offset) {
        List<String> log = values.get(partition);
        long i = offset - start(partition);
        if (log == null || i < 0 || i >= log.size()) {
            return null;
        }
        return log.get((int) i);
    }

    boolean has(int partition, long offset) {
        return valueAt(partition, offset) != null;
    }

    /** True if the final log has a record at every offset of [from, to) (an empty range is dense). */
    boolean dense(int partition, long from, long to) {
        if (from >= to) {
            return true;
        }
        if (from < start(partition) || to > end(partition)) {
            return false;
        }
        int[] holes = holesBefore.get(partition);
        int a = (int) (from - start(partition));
        int b = (int) (to - start(partition));
        return holes[b] - holes[a] == 0;
    }

    List<Location> locationsOf(String value) {
        return locations.getOrDefault(value, List.of());
    }

    Map<String, List<Location>> allLocations() {
        return locations;
    }

    Map<Integer, List<String>> partitions() {
        return values;
    }
}
