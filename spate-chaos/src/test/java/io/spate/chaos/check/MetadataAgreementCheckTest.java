package io.spate.chaos.check;

import io.spate.chaos.history.MetadataLogEntry;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class MetadataAgreementCheckTest {

    /** Entries 1..last of term {@code term} on {@code node}, the content named by index and term. */
    private static void entries(HistoryBuilder b, int node, long from, long to, long term) {
        for (long i = from; i <= to; i++) {
            b.metadataLogs.add(new MetadataLogEntry(node, i, term, i * 31 + term));
        }
    }

    @Test
    void votersHoldingTheSameEntriesAgree() {
        HistoryBuilder b = new HistoryBuilder();
        for (int node = 1; node <= 3; node++) {
            entries(b, node, 1, 40, 2);
        }
        assertThat(Checker.check(b.build()).violationsOf(Violation.METADATA_DIVERGED)).isEmpty();
    }

    @Test
    void anUncommittedTailFromAnOlderTermAndACompactedPrefixAreNoDivergence() {
        HistoryBuilder b = new HistoryBuilder();
        entries(b, 1, 1, 30, 2);
        entries(b, 1, 31, 33, 3);  // node 1 led term 3 briefly; its tail was never committed
        entries(b, 2, 5, 30, 2);   // node 2 compacted 1-4 into its snapshot
        entries(b, 2, 31, 35, 4);
        entries(b, 3, 1, 30, 2);
        entries(b, 3, 31, 35, 4);
        assertThat(Checker.check(b.build()).violationsOf(Violation.METADATA_DIVERGED)).isEmpty();
    }

    @Test
    void anOldTermEntryLeftUnderNewerOnesIsADivergence() {
        // Fix 21: two appends ran at once on one follower and left its term-5 entry at index 23
        // under the term-6 entries from 24 on that the others hold after their own term-6 entry 23.
        HistoryBuilder b = new HistoryBuilder();
        for (int node = 1; node <= 3; node++) {
            entries(b, node, 1, 22, 5);
            entries(b, node, 24, 30, 6);
        }
        b.metadataLogs.add(new MetadataLogEntry(1, 23, 6, 1));
        b.metadataLogs.add(new MetadataLogEntry(2, 23, 6, 1));
        b.metadataLogs.add(new MetadataLogEntry(3, 23, 5, 2));
        Verdict v = Checker.check(b.build());
        assertThat(v.violationsOf(Violation.METADATA_DIVERGED)).hasSize(2)
                .allSatisfy(x -> assertThat(x.detail()).contains("at index 23 (terms").contains("entry at index 30"))
                .allSatisfy(x -> assertThat(x.where()).isEqualTo("metadata@23"));
        assertThat(v.safetyOk()).isFalse();
    }

    @Test
    void theSameIndexAndTermWithDifferentContentIsADivergence() {
        HistoryBuilder b = new HistoryBuilder();
        entries(b, 1, 1, 10, 2);
        entries(b, 2, 1, 10, 2);
        b.metadataLogs.set(4, new MetadataLogEntry(1, 5, 2, 999));
        assertThat(Checker.check(b.build()).violationsOf(Violation.METADATA_DIVERGED)).singleElement()
                .satisfies(x -> assertThat(x.detail()).contains("different content"));
    }
}
