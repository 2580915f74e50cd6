package io.spate.chaos.check;

import io.spate.chaos.history.Txn.Outcome;
import io.spate.chaos.history.TxnOutput;
import org.junit.jupiter.api.Test;

import java.util.Collections;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ExactlyOnceCheckTest {

    @Test
    void cleanPipelinePasses() {
        PipelineBuilder b = PipelineBuilder.clean(HistoryBuilder.clean());
        Verdict v = Checker.check(b.history());
        assertThat(v.violations()).isEmpty();
        assertThat(v.notes()).isEmpty();
        assertThat(v.counts().txnsByOutcome()).containsEntry("committed", 40).containsEntry("aborted on purpose", 8);
        assertThat(v.summaryLine()).startsWith("PASS").contains("48 transactions (aborted on purpose 8, committed 40)");
    }

    @Test
    void runWithoutThePipelineIsNotJudgedByIt() {
        Verdict v = Checker.check(HistoryBuilder.clean().build());
        assertThat(v.violations()).isEmpty();
        assertThat(v.summaryLine()).doesNotContain("transactions");
    }

    @Test
    void inputProcessedTwiceIsADuplicate() {
        PipelineBuilder b = PipelineBuilder.clean(HistoryBuilder.clean());
        b.txn(Outcome.COMMITTED, 1, 30, 34, true); // offsets 30..34 committed once already
        b.committedInput.put(1, 200L);
        Verdict v = Checker.check(b.history());
        assertThat(v.violationsOf(Violation.TXN_DUPLICATE)).hasSize(5).first().satisfies(x -> {
            assertThat(x.partition()).isEqualTo(1);
            assertThat(x.detail()).startsWith("input 1@30 (").contains("has 2 results").contains("t1.1.49");
        });
        assertThat(v.violationsOf(Violation.TXN_OUT_OF_ORDER)).as("duplicates are not reported again as disorder").isEmpty();
        assertThat(v.safetyOk()).isFalse();
    }

    @Test
    void committedResultMissingIsMissingAndBreaksItsTransaction() {
        PipelineBuilder b = PipelineBuilder.clean(HistoryBuilder.clean());
        int i = b.committedIndexOf(0, 17);
        b.readCommitted.get(0).set(i, null);
        b.readUncommitted.get(0).set(i, null);
        Verdict v = Checker.check(b.history());
        assertThat(v.violationsOf(Violation.TXN_MISSING)).singleElement()
                .satisfies(x -> assertThat(x.detail()).startsWith("input 0@17 (w-").contains("below the committed offset 200"));
        assertThat(v.violationsOf(Violation.TXN_PARTIAL)).singleElement()
                .satisfies(x -> assertThat(x.detail()).contains("COMMITTED").contains("9 of its 10 results").contains("0@10..19"));
    }

    @Test
    void committedTransactionWithNoResultIsMissing() {
        PipelineBuilder b = PipelineBuilder.clean(HistoryBuilder.clean());
        b.txn(Outcome.COMMITTED, 1, 0, 4, false);
        b.committedInput.put(1, 200L);
        Verdict v = Checker.check(b.history());
        assertThat(v.violationsOf(Violation.TXN_MISSING)).singleElement()
                .satisfies(x -> assertThat(x.detail()).contains("t1.1.49").contains("none of its 5 results"));
    }

    @Test
    void resultOfAnAbortedTransactionReadCommittedIsReported() {
        for (Outcome aborted : List.of(Outcome.ABORTED_ON_PURPOSE, Outcome.ABORTED, Outcome.ABANDONED, Outcome.FENCED)) {
            PipelineBuilder b = PipelineBuilder.clean(HistoryBuilder.clean());
            b.txn(aborted, 0, 195, 199, true);
            Verdict v = Checker.check(b.history());
            assertThat(v.violationsOf(Violation.TXN_ABORTED_READ)).as(aborted.name()).hasSize(5)
                    .allSatisfy(x -> assertThat(x.detail()).contains("is read committed, but its transaction t1.1.49 ended " + aborted));
            assertThat(v.violationsOf(Violation.TXN_DUPLICATE)).hasSize(5);
        }
    }

    @Test
    void zombieWhoseCommitWasAcknowledgedIsReported() {
        PipelineBuilder fenced = PipelineBuilder.clean(HistoryBuilder.clean());
        fenced.txn(Outcome.FENCED, 0, 190, 194, false);
        assertThat(Checker.check(fenced.history()).violations()).isEmpty();

        PipelineBuilder zombie = PipelineBuilder.clean(HistoryBuilder.clean());
        zombie.txn(Outcome.ZOMBIE_COMMITTED, 0, 190, 194, false);
        Verdict v = Checker.check(zombie.history());
        assertThat(v.violationsOf(Violation.TXN_ZOMBIE)).singleElement()
                .satisfies(x -> assertThat(x.detail()).contains("t1.1.49").contains("0@190..194").contains("it was not fenced"));
        assertThat(v.safetyOk()).isFalse();
    }

    @Test
    void transactionOfUnknownOutcomeIsAllOrNothing() {
        PipelineBuilder none = PipelineBuilder.clean(HistoryBuilder.clean());
        none.txn(Outcome.UNKNOWN, 0, 190, 194, false);
        assertThat(Checker.check(none.history()).violations()).isEmpty();

        PipelineBuilder all = PipelineBuilder.clean(HistoryBuilder.clean());
        moreInput(all, 0, 5);
        all.txn(Outcome.UNKNOWN, 0, 200, 204, true);
        all.committedInput.put(0, 205L);
        assertThat(Checker.check(all.history()).violations()).isEmpty();

        int i = all.committedIndexOf(0, 202);
        all.readCommitted.get(0).set(i, null);
        Verdict v = Checker.check(all.history());
        assertThat(v.violationsOf(Violation.TXN_PARTIAL)).singleElement()
                .satisfies(x -> assertThat(x.detail()).contains("UNKNOWN").contains("4 of its 5 results"));
    }

    @Test
    void resultPastTheCommittedOffsetIsUnexpected() {
        PipelineBuilder b = PipelineBuilder.clean(HistoryBuilder.clean());
        moreInput(b, 0, 1);
        b.txn(Outcome.UNKNOWN, 0, 200, 200, true); // visible, but its offset commit is not
        Verdict v = Checker.check(b.history());
        assertThat(v.violationsOf(Violation.TXN_UNEXPECTED)).singleElement()
                .satisfies(x -> assertThat(x.detail()).contains("committed offset is 200"));
        assertThat(v.violationsOf(Violation.TXN_UNDRAINED)).singleElement()
                .satisfies(x -> assertThat(x.detail()).contains("offset 200 of 201"));
    }

    /** {@code n} more acknowledged input writes to {@code partition}, by a third producer. */
    private static void moreInput(PipelineBuilder b, int partition, int n) {
        for (int i = 0; i < n; i++) {
            b.input.ack(3, partition, 10 * HistoryBuilder.SECOND + i * 1_000);
        }
    }

    @Test
    void resultNamingAnInputThatIsNotThereIsUnexpected() {
        PipelineBuilder b = PipelineBuilder.clean(HistoryBuilder.clean());
        int i = b.committedIndexOf(1, 50);
        TxnOutput o = TxnOutput.parse(b.readCommitted.get(1).get(i));
        String forged = new TxnOutput(o.inputPartition(), o.inputOffset(), "w-9-1-0", o.label()).value();
        b.readCommitted.get(1).set(i, forged);
        b.readUncommitted.get(1).set(i, forged);
        Verdict v = Checker.check(b.history());
        assertThat(v.violationsOf(Violation.TXN_UNEXPECTED)).singleElement()
                .satisfies(x -> assertThat(x.detail()).contains("the pipeline read w-9-1-0 at input 1@50").contains("holds w-"));
    }

    @Test
    void resultInAnotherPartitionOrFromNoTransactionIsUnexpected() {
        PipelineBuilder b = PipelineBuilder.clean(HistoryBuilder.clean());
        int i = b.committedIndexOf(1, 60);
        String moved = b.readCommitted.get(1).get(i);
        b.readCommitted.get(1).set(i, null);
        b.readUncommitted.get(1).set(i, null);
        b.readCommitted.get(0).add(moved);
        b.readUncommitted.get(0).add(moved);
        b.readCommitted.get(0).add("garbage");
        b.readUncommitted.get(0).add("garbage");
        TxnOutput o = TxnOutput.parse(b.readCommitted.get(1).get(i + 1));
        String unlabelled = new TxnOutput(o.inputPartition(), o.inputOffset(), o.inputValue(), "t7.1.1").value();
        b.readCommitted.get(1).set(i + 1, unlabelled);
        b.readUncommitted.get(1).set(i + 1, unlabelled);
        Verdict v = Checker.check(b.history());
        assertThat(v.violationsOf(Violation.TXN_UNEXPECTED)).extracting(Violation::detail).anySatisfy(d -> assertThat(d)
                        .contains("belongs in output partition 1"))
                .anySatisfy(d -> assertThat(d).contains("'garbage' is no result"))
                .anySatisfy(d -> assertThat(d).contains("labelled t7.1.1, a transaction the pipeline did not record"));
    }

    @Test
    void resultsOutOfInputOrderAreReported() {
        PipelineBuilder b = PipelineBuilder.clean(HistoryBuilder.clean());
        int i = b.committedIndexOf(0, 101);
        int j = b.committedIndexOf(0, 102);
        Collections.swap(b.readCommitted.get(0), i, j);
        Collections.swap(b.readUncommitted.get(0), i, j);
        Verdict v = Checker.check(b.history());
        assertThat(v.violationsOf(Violation.TXN_OUT_OF_ORDER)).singleElement()
                .satisfies(x -> assertThat(x.detail()).startsWith("result of input 0@101").contains("after that of input 0@102"));
    }

    @Test
    void readCommittedSeeingWhatReadUncommittedDidNotIsReported() {
        PipelineBuilder b = PipelineBuilder.clean(HistoryBuilder.clean());
        int i = b.committedIndexOf(1, 7);
        b.readUncommitted.get(1).set(i, null);
        Verdict v = Checker.check(b.history());
        assertThat(v.violationsOf(Violation.TXN_SUPERSET)).singleElement().satisfies(x -> {
            assertThat(x.partition()).isEqualTo(1);
            assertThat(x.offset()).isEqualTo(i);
            assertThat(x.detail()).contains("read_uncommitted no record");
        });
    }

    @Test
    void transactionLeftOpenIsHangingNotUnsafe() {
        PipelineBuilder b = PipelineBuilder.clean(HistoryBuilder.clean());
        b.readUncommitted.get(0).add(new TxnOutput(0, 0, b.input.finalLog.get(0).get(0), "t1.2.1").value());
        Verdict v = Checker.check(b.history());
        assertThat(v.violationsOf(Violation.TXN_HANGING)).singleElement()
                .satisfies(x -> assertThat(x.detail()).contains("stays below the high watermark"));
        assertThat(v.safetyOk()).isTrue();
        assertThat(v.ok()).isFalse();
    }

    @Test
    void undrainedInputIsReportedAndItsTailNotJudged() {
        PipelineBuilder b = PipelineBuilder.clean(HistoryBuilder.clean());
        b.committedInput.put(1, 150L);
        // the results of 150.. stay committed in the output: unexpected, as their offsets were not
        Verdict v = Checker.check(b.history());
        assertThat(v.violationsOf(Violation.TXN_UNDRAINED)).singleElement()
                .satisfies(x -> assertThat(x.detail()).contains("committed input offset 150 of 200"));
        assertThat(v.violationsOf(Violation.TXN_MISSING)).isEmpty();
        assertThat(v.violationsOf(Violation.TXN_UNEXPECTED)).hasSize(50);
    }

    @Test
    void aRunWithoutDeliberateAbortsSaysSo() {
        PipelineBuilder b = new PipelineBuilder(HistoryBuilder.clean());
        b.txn(Outcome.COMMITTED, 0, 0, 199, true);
        b.txn(Outcome.COMMITTED, 1, 0, 199, true);
        Verdict v = Checker.check(b.history());
        assertThat(v.violations()).isEmpty();
        assertThat(v.notes()).singleElement().asString().contains("no transaction of the pipeline was aborted on purpose");
    }
}
