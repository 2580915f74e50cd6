package io.spate.chaos.check;

import io.spate.chaos.history.Assignment;
import io.spate.chaos.history.Commit;
import io.spate.chaos.history.RunHistory;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The group's committed offset never goes back: not between acknowledged commits that did not
 * overlap in time, not in the position a newly assigned consumer starts from, not at the end.
 */
final class CommitCheck {

    private CommitCheck() {
    }

    /** A partition's acknowledged commits by completion time, with the running maximum. */
    private static final class Acked {
        final List<Commit> byDone = new ArrayList<>();
        /** {@code highest[i]}: the commit with the highest offset among byDone[0..i]. */
        Commit[] highest;

        void index() {
            byDone.sort(Comparator.comparingLong(Commit::doneUs));
            highest = new Commit[byDone.size()];
            for (int i = 0; i < byDone.size(); i++) {
                Commit c = byDone.get(i);
                highest[i] = i == 0 || c.offset() > highest[i - 1].offset() ? c : highest[i - 1];
            }
        }

        /** The highest commit acknowledged strictly before {@code us}, or null. */
        Commit highestDoneBefore(long us) {
            int lo = 0;
            int hi = byDone.size(); // first index with doneUs >= us
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (byDone.get(mid).doneUs() < us) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            return lo == 0 ? null : highest[lo - 1];
        }

        Commit highestOverall() {
            return highest.length == 0 ? null : highest[highest.length - 1];
        }
    }

    static void check(RunHistory h, List<Violation> out) {
        Map<Integer, Acked> acked = new HashMap<>();
        for (Commit c : h.commits()) {
            if (c.ok()) {
                acked.computeIfAbsent(c.partition(), k -> new Acked()).byDone.add(c);
            }
        }
        acked.values().forEach(Acked::index);
        for (Map.Entry<Integer, Acked> e : acked.entrySet()) {
            checkCommitsInOrder(e.getKey(), e.getValue(), out);
        }
        checkAssignments(h, acked, out);
        checkFinal(h, acked, out);
    }

    /**
     * A commit B regressed if some commit A was acknowledged before B was sent (so they did not
     * overlap and A must have been applied first) and A's offset is higher. Overlapping commits
     * may be applied in either order, so they are not compared.
     */
    private static void checkCommitsInOrder(int p, Acked acked, List<Violation> out) {
        for (Commit b : acked.byDone) {
            Commit a = acked.highestDoneBefore(b.sentUs());
            if (a != null && b.offset() < a.offset()) {
                out.add(new Violation(Violation.COMMIT_REGRESSED, p, b.offset(),
                        "commit of " + b.offset() + " by " + who(b) + " (sent " + Times.s(b.sentUs()) + ", acked "
                                + Times.s(b.doneUs()) + ") after the commit of " + a.offset() + " by " + who(a)
                                + " was acked at " + Times.s(a.doneUs())));
            }
        }
    }

    private static void checkAssignments(RunHistory h, Map<Integer, Acked> acked, List<Violation> out) {
        for (Assignment a : h.assignments()) {
            Acked commits = acked.get(a.partition());
            if (!a.assigned() || commits == null) {
                continue;
            }
            Commit before = commits.highestDoneBefore(a.atUs());
            if (before == null) {
                continue;
            }
            String who = a.consumer() + "#" + a.incarnation() + " assigned at " + Times.s(a.atUs());
            if (!a.fromCommit()) {
                out.add(new Violation(Violation.COMMIT_REGRESSED, a.partition(), a.position(),
                        who + " started from the log start (" + a.position() + ") as if nothing was committed, but "
                                + who(before) + "'s commit of " + before.offset() + " was acked at "
                                + Times.s(before.doneUs())));
            } else if (a.position() < before.offset()) {
                out.add(new Violation(Violation.COMMIT_REGRESSED, a.partition(), a.position(),
                        who + " starts at position " + a.position() + ", below the commit of " + before.offset()
                                + " by " + who(before) + " acked at " + Times.s(before.doneUs())));
            }
        }
    }

    /**
     * The final committed offset may be lower than the highest acknowledged commit H only if a
     * commit of exactly that offset overlapped H or came after it (then it may have been applied last).
     */
    private static void checkFinal(RunHistory h, Map<Integer, Acked> acked, List<Violation> out) {
        for (Map.Entry<Integer, Acked> e : acked.entrySet()) {
            int p = e.getKey();
            Commit highest = e.getValue().highestOverall();
            Long fin = h.finalCommitted().get(p);
            if (fin == null) {
                out.add(new Violation(Violation.COMMIT_REGRESSED, p, -1,
                        "nothing is committed at the end, but " + who(highest) + "'s commit of " + highest.offset()
                                + " was acked at " + Times.s(highest.doneUs())));
                continue;
            }
            if (fin >= highest.offset()) {
                continue;
            }
            boolean explained = e.getValue().byDone.stream()
                    .anyMatch(c -> c.offset() == fin && c.doneUs() >= highest.sentUs());
            if (!explained) {
                out.add(new Violation(Violation.COMMIT_REGRESSED, p, fin,
                        "the final committed offset " + fin + " is below the commit of " + highest.offset() + " by "
                                + who(highest) + " acked at " + Times.s(highest.doneUs())));
            }
        }
    }

    private static String who(Commit c) {
        return c.consumer() + "#" + c.incarnation();
    }
}
