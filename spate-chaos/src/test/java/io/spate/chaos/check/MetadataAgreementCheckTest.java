package io.spate.chaos.check;

import io.spate.chaos.history.MetadataLogEntry;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class MetadataAgreementCheckTest {

    /** Entries from..to of term {@code term} in one read of {@code node}'s log (view = node unless given), the content named by index and term. */
    private static void entries(HistoryBuilder b, int node, long from, long to, long term) {
        entries(b, node, node, from, to, term);
    }

    private static void entries(HistoryBuilder b, int node, int view, long from, long to, long term) {
        for (long i = from; i <= to; i++) {
            b.metadataLogs.add(new MetadataLogEntry(node, view, i, term, i * 31 + term));
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
    void anUncommittedTailSeenInOneReadAndReplacedByTheNextIsNoDivergence() {
        // Replay of seed 3061: node 1 held term-10 entries 254-258 that were never committed; the
        // next read found them replaced by term 11's (and later ones compacted them away).
        HistoryBuilder b = new HistoryBuilder();
        entries(b, 1, 10, 200, 253, 9);
        entries(b, 1, 10, 254, 258, 10);
        entries(b, 1, 11, 200, 253, 9);
        entries(b, 1, 11, 254, 300, 11);
        entries(b, 1, 12, 280, 300, 11); // after compaction: index 254 no longer in the log
        entries(b, 2, 20, 200, 253, 9);
        entries(b, 2, 20, 254, 300, 11);
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
        b.metadataLogs.add(new MetadataLogEntry(1, 1, 23, 6, 1));
        b.metadataLogs.add(new MetadataLogEntry(2, 2, 23, 6, 1));
        b.metadataLogs.add(new MetadataLogEntry(3, 3, 23, 5, 2));
        Verdict v = Checker.check(b.build());
        assertThat(v.violationsOf(Violation.METADATA_DIVERGED)).hasSize(2) // voters 1 and 3, voters 2 and 3
                .allSatisfy(x -> assertThat(x.detail()).contains("at index 23 (terms").contains("entry at index 30"))
                .allSatisfy(x -> assertThat(x.where()).isEqualTo("metadata@23"));
        assertThat(v.safetyOk()).isFalse();
    }

    @Test
    void theSameIndexAndTermWithDifferentContentIsADivergence() {
        HistoryBuilder b = new HistoryBuilder();
        entries(b, 1, 1, 10, 2);
        entries(b, 2, 1, 10, 2);
        b.metadataLogs.set(4, new MetadataLogEntry(1, 1, 5, 2, 999));
        assertThat(Checker.check(b.build()).violationsOf(Violation.METADATA_DIVERGED)).singleElement()
                .satisfies(x -> assertThat(x.detail()).contains("different content"));
    }
}
