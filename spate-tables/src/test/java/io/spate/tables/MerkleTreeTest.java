package io.spate.tables;

import io.spate.time.ManualScheduler;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

class MerkleTreeTest {
    private final ManualScheduler scheduler = new ManualScheduler();

    private MemoryTableStore store() {
        return new MemoryTableStore(Durability.NONE, scheduler);
    }

    private static byte[] key(int i) {
        return ("key-" + i).getBytes();
    }

    @Test
    void equalDataGivesEqualTreesAndEachDifferenceShowsInItsLeafOnly() {
        TokenRange range = new TokenRange(Long.MIN_VALUE / 2, Long.MAX_VALUE / 2);
        MemoryTableStore a = store();
        MemoryTableStore b = store();
        for (int i = 0; i < 2000; i++) {
            Cell c = Cell.value(100 + i, ("v" + i).getBytes());
            a.merge(key(i), c, () -> { });
            b.merge(key(i), c, () -> { });
        }
        MerkleTree ta = MerkleTree.of(a, range, 8, 0);
        assertThat(ta.differingLeaves(MerkleTree.of(b, range, 8, 0))).isEmpty();

        Set<Integer> expected = new TreeSet<>();
        for (int i : new int[]{7, 300, 1999}) {
            b.merge(key(i), Cell.value(10_000 + i, "changed".getBytes()), () -> { });
            if (range.contains(TokenRing.token(key(i)))) {
                expected.add(MerkleTree.leafOf(range, 8, TokenRing.token(key(i))));
            }
        }
        b.merge("only-in-b".getBytes(), Cell.tombstone(5), () -> { });
        if (range.contains(TokenRing.token("only-in-b".getBytes()))) {
            expected.add(MerkleTree.leafOf(range, 8, TokenRing.token("only-in-b".getBytes())));
        }
        MerkleTree tb = MerkleTree.fromArray(range, 8, MerkleTree.of(b, range, 8, 0).toArray());
        assertThat(new TreeSet<>(ta.differingLeaves(tb))).isEqualTo(expected);
    }

    @Test
    void leavesCoverAWrappingRangeAndTheWholeRingEvenly() {
        TokenRange wrapping = new TokenRange(Long.MAX_VALUE - 100, Long.MIN_VALUE + 99); // 200 tokens
        assertThat(MerkleTree.leafOf(wrapping, 2, Long.MAX_VALUE - 99)).isEqualTo(0);
        assertThat(MerkleTree.leafOf(wrapping, 2, Long.MIN_VALUE + 99)).isEqualTo(3);
        assertThat(MerkleTree.leafOf(wrapping, 2, Long.MAX_VALUE)).isEqualTo(1);
        TokenRange whole = new TokenRange(5, 5);
        assertThat(MerkleTree.leafOf(whole, 4, 6)).isEqualTo(0);
        assertThat(MerkleTree.leafOf(whole, 4, 5)).isEqualTo(15);
        assertThat(MerkleTree.leafOf(whole, 0, 12345)).isEqualTo(0);
    }

    @Test
    void collectableTombstonesAreLeftOut() {
        TokenRange whole = new TokenRange(0, 0);
        MemoryTableStore a = store();
        MemoryTableStore b = store();
        a.merge(key(1), Cell.tombstone(HybridLogicalClock.of(50, 0)), () -> { });
        assertThat(MerkleTree.of(a, whole, 4, 100).root()).isEqualTo(MerkleTree.of(b, whole, 4, 100).root()).isZero();
        assertThat(MerkleTree.of(a, whole, 4, 10).differingLeaves(MerkleTree.of(b, whole, 4, 10))).hasSize(1);
        assertThat(List.of(MerkleTree.of(a, whole, 0, 10).leafCount())).containsExactly(1);
    }
}
