package io.spate.chaos.check;

import io.spate.chaos.history.Assignment;
import io.spate.chaos.history.Read;
import io.spate.chaos.history.Write;
import org.junit.jupiter.api.Test;

import java.util.Collections;
import java.util.List;

import static io.spate.chaos.check.HistoryBuilder.SECOND;
import static org.assertj.core.api.Assertions.assertThat;

class SafetyChecksTest {

    @Test
    void cleanRunPasses() {
        HistoryBuilder b = HistoryBuilder.clean();
        b.attempt(1, 0, Write.Outcome.INDETERMINATE, 5 * SECOND);
        b.attempt(2, 1, Write.Outcome.FAIL, 5 * SECOND);
        Verdict v = Checker.check(b.build());
        assertThat(v.violations()).isEmpty();
        assertThat(v.ok()).isTrue();
        assertThat(v.safetyOk()).isTrue();
        assertThat(v.availabilityOk()).isTrue();
        assertThat(v.counts().writesAcked()).isEqualTo(400);
        assertThat(v.counts().writesIndeterminate()).isEqualTo(1);
        assertThat(v.counts().writesFailed()).isEqualTo(1);
        assertThat(v.summaryLine()).startsWith("PASS seed 42");
    }

    @Test
    void indeterminateWriteThatLandedIsFine() {
        HistoryBuilder b = HistoryBuilder.clean();
        Write w = b.attempt(1, 0, Write.Outcome.INDETERMINATE, 11 * SECOND + 1);
        b.finalLog.get(0).add(w.value());
        assertThat(Checker.check(b.build()).safetyOk()).isTrue();
    }

    @Test
    void acknowledgedWriteMissingFromItsOffsetIsLost() {
        HistoryBuilder b = HistoryBuilder.clean();
        b.finalLog.get(0).set(10, null);
        Verdict v = Checker.check(b.build());
        assertThat(v.violationsOf(Violation.LOST_WRITE)).singleElement().satisfies(x -> {
            assertThat(x.partition()).isZero();
            assertThat(x.offset()).isEqualTo(10);
            assertThat(x.detail()).contains("has no record").contains("nowhere in the final log");
        });
        assertThat(v.safetyOk()).isFalse();
        assertThat(v.describe()).contains("lost-write").contains("p0@10").contains("seed 42");
    }

    @Test
    void lostWriteSaysWhereTheValueIsInstead() {
        HistoryBuilder b = HistoryBuilder.clean();
        List<String> log = b.finalLog.get(1);
        String moved = log.remove(5); // everything after shifts down by one
        log.add(moved);
        Verdict v = Checker.check(b.build());
        assertThat(v.violationsOf(Violation.LOST_WRITE)).hasSize(log.size() - 5);
        assertThat(v.violationsOf(Violation.LOST_WRITE).getFirst().detail())
                .contains("holds " + log.get(5)).contains("at [p1@" + (log.size() - 1) + "] instead");
    }

    @Test
    void truncatedLogLosesWritesBeyondItsEnd() {
        HistoryBuilder b = HistoryBuilder.clean();
        List<String> log = b.finalLog.get(0);
        log.subList(log.size() - 3, log.size()).clear();
        Verdict v = Checker.check(b.build());
        assertThat(v.violationsOf(Violation.LOST_WRITE)).hasSize(3)
                .allSatisfy(x -> assertThat(x.detail()).contains("beyond the log end"));
    }

    @Test
    void valueTwiceInTheLogIsADuplicate() {
        HistoryBuilder b = HistoryBuilder.clean();
        List<String> log = b.finalLog.get(0);
        log.add(log.get(7));
        Verdict v = Checker.check(b.build());
        assertThat(v.violationsOf(Violation.DUPLICATE)).singleElement().satisfies(x -> {
            assertThat(x.offset()).isEqualTo(log.size() - 1);
            assertThat(x.detail()).contains(log.get(7)).contains("2 times");
        });
    }

    @Test
    void duplicateAcrossPartitionsIsFoundToo() {
        HistoryBuilder b = HistoryBuilder.clean();
        b.finalLog.get(1).add(b.finalLog.get(0).get(3));
        Verdict v = Checker.check(b.build());
        assertThat(v.violationsOf(Violation.DUPLICATE)).hasSize(1);
        assertThat(v.violationsOf(Violation.UNEXPECTED_VALUE)).singleElement()
                .satisfies(x -> assertThat(x.detail()).contains("was sent to partition 0"));
    }

    @Test
    void garbageIsAnUnexpectedValue() {
        HistoryBuilder b = HistoryBuilder.clean();
        b.finalLog.get(1).add("garbage");
        Verdict v = Checker.check(b.build());
        assertThat(v.violationsOf(Violation.UNEXPECTED_VALUE)).singleElement()
                .satisfies(x -> assertThat(x.detail()).contains("garbage").contains("never written"));
    }

    @Test
    void producerValuesOutOfSendOrderInTheLog() {
        HistoryBuilder b = new HistoryBuilder().partitions(1);
        b.endUs = 2 * SECOND;
        Write first = b.attempt(1, 0, Write.Outcome.INDETERMINATE, SECOND + 10);
        b.ack(1, 0, SECOND + 20);
        b.finalLog.get(0).add(first.value()); // seq 0 landed after seq 1
        Verdict v = Checker.check(b.build());
        assertThat(v.violationsOf(Violation.OUT_OF_ORDER)).singleElement().satisfies(x -> {
            assertThat(x.offset()).isEqualTo(1);
            assertThat(x.detail()).contains("seq 0").contains("after seq 1");
        });
    }

    @Test
    void acknowledgedOffsetsMustGrowWithSeq() {
        HistoryBuilder b = new HistoryBuilder().partitions(1);
        b.endUs = 2 * SECOND;
        // Acked at offsets 1 then 0 although sent as seq 0 then 1; the log agrees with the acks.
        b.writes.add(new Write(1, 0, 0, "w-1-0-0", 10, SECOND + 10, Write.Outcome.OK, 1, ""));
        b.writes.add(new Write(1, 0, 1, "w-1-0-1", 20, SECOND + 20, Write.Outcome.OK, 0, ""));
        b.finalLog.get(0).addAll(List.of("w-1-0-1", "w-1-0-0"));
        Verdict v = Checker.check(b.build());
        assertThat(v.violationsOf(Violation.LOST_WRITE)).isEmpty();
        assertThat(v.violationsOf(Violation.OUT_OF_ORDER)).hasSize(2)
                .anySatisfy(x -> assertThat(x.detail()).contains("acknowledged at offset 0, not after seq 0 at offset 1"));
    }

    @Test
    void readOfADifferentValueThanTheFinalLogIsInconsistent() {
        HistoryBuilder b = HistoryBuilder.clean();
        b.reads.add(new Read("c2", 0, 0, 4, "w-9-0-0", 14 * SECOND));
        Verdict v = Checker.check(b.build());
        assertThat(v.violationsOf(Violation.INCONSISTENT_READ)).singleElement().satisfies(x -> {
            assertThat(x.offset()).isEqualTo(4);
            assertThat(x.detail()).contains("c2#0").contains("w-9-0-0").contains(b.finalLog.get(0).get(4));
        });
    }

    @Test
    void readPastTheFinalLogEndIsInconsistent() {
        HistoryBuilder b = HistoryBuilder.clean();
        long end = b.finalLog.get(1).size();
        b.reads.add(new Read("c2", 1, 1, end, "w-1-1-999", 14 * SECOND));
        Verdict v = Checker.check(b.build());
        assertThat(v.violationsOf(Violation.INCONSISTENT_READ)).singleElement()
                .satisfies(x -> assertThat(x.detail()).startsWith("read but not in final log"));
    }

    @Test
    void consumerSkippingWithinAnAssignmentIsSkipped() {
        HistoryBuilder b = HistoryBuilder.clean();
        // c1 read p0 0..n-1 in one assignment: drop its read of offset 6.
        b.reads.removeIf(r -> r.partition() == 0 && r.offset() == 6);
        b.reads.add(new Read("c2", 0, 0, 6, b.finalLog.get(0).get(6), 14 * SECOND)); // someone else read it
        Verdict v = Checker.check(b.build());
        assertThat(v.violationsOf(Violation.SKIPPED)).singleElement().satisfies(x -> {
            assertThat(x.offset()).isEqualTo(6);
            assertThat(x.detail()).contains("c1#0 at 12.000s read offset 7 right after 5, skipping 1 record");
        });
    }

    @Test
    void firstReadAfterAssignmentMustBeAtThePosition() {
        HistoryBuilder b = HistoryBuilder.clean();
        b.commit("c2", 0, 20, 14 * SECOND, 14 * SECOND + 10);
        b.assignments.add(new Assignment("c2", 0, 0, true, 30, true, 15 * SECOND));
        b.reads.add(new Read("c2", 0, 0, 33, b.finalLog.get(0).get(33), 16 * SECOND));
        b.assignments.add(new Assignment("c2", 0, 0, false, -1, false, 17 * SECOND));
        // After revocation and a new assignment, reading again from its position is fine.
        b.assignments.add(new Assignment("c2", 0, 0, true, 40, true, 18 * SECOND));
        b.reads.add(new Read("c2", 0, 0, 40, b.finalLog.get(0).get(40), 18 * SECOND));
        b.reads.add(new Read("c2", 0, 0, 41, b.finalLog.get(0).get(41), 18 * SECOND));
        b.finalCommitted.put(0, (long) b.finalLog.get(0).size()); // unchanged
        Verdict v = Checker.check(b.build());
        assertThat(v.violationsOf(Violation.SKIPPED)).singleElement().satisfies(x -> {
            assertThat(x.offset()).isEqualTo(30);
            assertThat(x.detail()).contains("first read offset 33 after being assigned at position 30");
        });
    }

    @Test
    void readsOfAnotherIncarnationAreNotChainedWithTheOldOne() {
        HistoryBuilder b = HistoryBuilder.clean();
        // c1 restarted (incarnation 1) and read from offset 50 on its new assignment.
        b.assignments.add(new Assignment("c1", 1, 0, true, 50, true, 20 * SECOND));
        b.reads.add(new Read("c1", 1, 0, 50, b.finalLog.get(0).get(50), 20 * SECOND));
        b.reads.add(new Read("c1", 1, 0, 51, b.finalLog.get(0).get(51), 20 * SECOND));
        assertThat(Checker.check(b.build()).violationsOf(Violation.SKIPPED)).isEmpty();
    }

    @Test
    void offsetsBelowTheFinalCommitThatNobodyReadAreReportedAsRanges() {
        HistoryBuilder b = HistoryBuilder.clean();
        b.reads.removeIf(r -> r.partition() == 1 && (r.offset() >= 10 && r.offset() < 20
                || r.offset() >= 30 && r.offset() < 35));
        // c1's own chain also skips at those gaps.
        Verdict v = Checker.check(b.build());
        List<Violation> groupLevel = v.violationsOf(Violation.SKIPPED).stream()
                .filter(x -> x.detail().contains("no consumer read them")).toList();
        assertThat(groupLevel).hasSize(2);
        assertThat(groupLevel.get(0).offset()).isEqualTo(10);
        assertThat(groupLevel.get(0).detail()).contains("offsets 10..19 (10 records)");
        assertThat(groupLevel.get(1).detail()).contains("offsets 30..34 (5 records)");
    }

    @Test
    void sequentialCommitGoingBackRegressed() {
        HistoryBuilder b = HistoryBuilder.clean();
        b.commit("c2", 0, 10, 14 * SECOND, 14 * SECOND + 100);
        Verdict v = Checker.check(b.build());
        assertThat(v.violationsOf(Violation.COMMIT_REGRESSED)).singleElement().satisfies(x -> {
            assertThat(x.offset()).isEqualTo(10);
            assertThat(x.detail()).contains("commit of 10 by c2#0").contains("after the commit of 200");
        });
    }

    @Test
    void concurrentCommitsInEitherOrderAreNotFlagged() {
        HistoryBuilder b = HistoryBuilder.clean();
        long end = b.finalLog.get(0).size();
        // c1 commits end (already acked at 13 s); both of these overlap each other, and the lower one
        // completes last: they may be applied in either order.
        b.commits.removeIf(c -> c.partition() == 0);
        b.commit("c1", 0, end, 13 * SECOND, 13 * SECOND + 1000);
        b.commit("c2", 0, end - 5, 13 * SECOND + 500, 13 * SECOND + 2000);
        b.finalCommitted.put(0, end - 5);
        assertThat(Checker.check(b.build()).violationsOf(Violation.COMMIT_REGRESSED)).isEmpty();
    }

    @Test
    void assignmentBelowAnAcknowledgedCommitRegressed() {
        HistoryBuilder b = HistoryBuilder.clean();
        b.assignments.add(new Assignment("c2", 0, 0, true, 100, true, 14 * SECOND));
        b.reads.add(new Read("c2", 0, 0, 100, b.finalLog.get(0).get(100), 14 * SECOND));
        Verdict v = Checker.check(b.build());
        assertThat(v.violationsOf(Violation.COMMIT_REGRESSED)).singleElement()
                .satisfies(x -> assertThat(x.detail()).contains("starts at position 100, below the commit of 200"));
    }

    @Test
    void assignmentFromLogStartAfterACommitRegressed() {
        HistoryBuilder b = HistoryBuilder.clean();
        b.assignments.add(new Assignment("c2", 0, 1, true, 0, false, 14 * SECOND));
        Verdict v = Checker.check(b.build());
        assertThat(v.violationsOf(Violation.COMMIT_REGRESSED)).singleElement()
                .satisfies(x -> assertThat(x.detail()).contains("as if nothing was committed"));
    }

    @Test
    void finalCommitBelowTheHighestAcknowledgedRegressed() {
        HistoryBuilder b = HistoryBuilder.clean();
        b.finalCommitted.put(1, 150L);
        b.finalCommitted.remove(0);
        Verdict v = Checker.check(b.build());
        assertThat(v.violationsOf(Violation.COMMIT_REGRESSED)).hasSize(2)
                .anySatisfy(x -> assertThat(x.detail()).contains("final committed offset 150 is below the commit of 200"))
                .anySatisfy(x -> assertThat(x.detail()).contains("nothing is committed at the end"));
    }

    @Test
    void ackedCommitsOutOfOrderInTheListAreSortedByTime() {
        HistoryBuilder b = HistoryBuilder.clean();
        Collections.reverse(b.commits);
        assertThat(Checker.check(b.build()).violations()).isEmpty();
    }
}
