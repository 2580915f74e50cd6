package io.spate.chaos.check;

import io.spate.chaos.history.Assignment;
import io.spate.chaos.history.Read;
import io.spate.chaos.history.RunHistory;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Consumers do not skip records. Offsets are dense in these runs (no compaction, no
 * transactions), so within one continuous assignment a consumer reads position, position + 1,
 * ...; and as a group, every offset below the final committed offset was read at least once.
 */
final class SkipCheck {

    private SkipCheck() {
    }

    private record Member(String consumer, int incarnation, int partition) {
    }

    /** A read or an assignment change of one member, in the order it happened. */
    private record Event(long atUs, int order, Assignment assignment, Read read) {
    }

    static void check(RunHistory h, FinalLog log, List<Violation> out) {
        checkEachConsumer(h, log, out);
        checkGroupReadEverythingCommitted(h, log, out);
    }

    private static void checkEachConsumer(RunHistory h, FinalLog log, List<Violation> out) {
        Map<Member, List<Event>> events = new HashMap<>();
        int order = 0;
        // Assignments first, so that at equal times an assignment precedes the reads of the poll
        // that followed it (its callback runs inside that poll, before records are returned).
        for (Assignment a : h.assignments()) {
            events.computeIfAbsent(new Member(a.consumer(), a.incarnation(), a.partition()), k -> new ArrayList<>())
                    .add(new Event(a.atUs(), order++, a, null));
        }
        for (Read r : h.reads()) {
            events.computeIfAbsent(new Member(r.consumer(), r.incarnation(), r.partition()), k -> new ArrayList<>())
                    .add(new Event(r.atUs(), order++, null, r));
        }
        for (List<Event> list : events.values()) {
            // Stable on order: reads of one poll share a time and keep their history order.
            list.sort((x, y) -> x.atUs != y.atUs ? Long.compare(x.atUs, y.atUs) : Integer.compare(x.order, y.order));
            walk(list, log, out);
        }
    }

    private static void walk(List<Event> events, FinalLog log, List<Violation> out) {
        Assignment current = null; // null: not assigned, reads are not checked
        Read previous = null;      // the last read in the current assignment
        for (Event e : events) {
            if (e.assignment != null) {
                current = e.assignment.assigned() ? e.assignment : null;
                previous = null;
                continue;
            }
            Read r = e.read;
            if (current == null) {
                continue;
            }
            int p = r.partition();
            if (previous == null) {
                long position = current.position();
                if (r.offset() != position && log.has(p, position)) {
                    out.add(new Violation(Violation.SKIPPED, p, position,
                            ReadConsistencyCheck.who(r) + " first read offset " + r.offset()
                                    + " after being assigned at position " + position + " at "
                                    + Times.s(current.atUs())));
                }
            } else if (r.offset() > previous.offset() + 1 && log.dense(p, previous.offset() + 1, r.offset())) {
                out.add(new Violation(Violation.SKIPPED, p, previous.offset() + 1,
                        ReadConsistencyCheck.who(r) + " read offset " + r.offset() + " right after "
                                + previous.offset() + ", skipping " + records(r.offset() - previous.offset() - 1)));
            }
            // A read at or below the previous offset is a re-delivery, not a skip.
            previous = r;
        }
    }

    private static void checkGroupReadEverythingCommitted(RunHistory h, FinalLog log, List<Violation> out) {
        Map<Integer, BitSet> read = new HashMap<>();
        for (Read r : h.reads()) {
            long i = r.offset() - log.start(r.partition());
            Long committed = h.finalCommitted().get(r.partition());
            if (committed != null && i >= 0 && r.offset() < committed) {
                read.computeIfAbsent(r.partition(), k -> new BitSet()).set((int) i);
            }
        }
        for (Map.Entry<Integer, Long> e : h.finalCommitted().entrySet()) {
            int p = e.getKey();
            long start = log.start(p);
            // Offsets past the final log's end have no record to read: lost-write and
            // commit checks speak about those.
            long to = Math.min(e.getValue(), log.end(p));
            BitSet done = read.getOrDefault(p, new BitSet());
            long missingFrom = -1;
            int missingRecords = 0;
            for (long o = start; o <= to; o++) {
                boolean missing = o < to && log.has(p, o) && !done.get((int) (o - start));
                boolean hole = o < to && !log.has(p, o);
                if (missing) {
                    if (missingFrom < 0) {
                        missingFrom = o;
                    }
                    missingRecords++;
                } else if (!hole && missingFrom >= 0) {
                    // Holes (no record) neither extend nor end a missing range.
                    out.add(new Violation(Violation.SKIPPED, p, missingFrom,
                            "offsets " + missingFrom + ".." + lastBefore(log, p, o) + " (" + records(missingRecords)
                                    + ") are below the final committed offset " + e.getValue()
                                    + " but no consumer read them"));
                    missingFrom = -1;
                    missingRecords = 0;
                }
            }
        }
    }

    private static String records(long n) {
        return n == 1 ? "1 record" : n + " records";
    }

    private static long lastBefore(FinalLog log, int p, long o) {
        long last = o - 1;
        while (!log.has(p, last)) {
            last--;
        }
        return last;
    }
}
