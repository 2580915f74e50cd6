package io.spate.cluster.ratis;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class RecentEntriesTest {
    private static byte[] bytes(int n) {
        return new byte[n];
    }

    private static List<Long> indexes(List<RecentEntries.Entry> entries) {
        return entries.stream().map(RecentEntries.Entry::index).toList();
    }

    @Test
    void everyEntryPastAVersionAtOrAboveTheFloorIsHandedBackInOrder() {
        RecentEntries recent = new RecentEntries(10, 1_000);
        recent.add(3, 1, bytes(5));
        recent.add(4, 1, bytes(5));
        recent.add(7, 2, bytes(5));
        assertThat(indexes(recent.since(0))).containsExactly(3L, 4L, 7L);
        assertThat(indexes(recent.since(4))).containsExactly(7L);
        assertThat(indexes(recent.since(5))).as("a version between entries: one that changed nothing lies there").containsExactly(7L);
        assertThat(recent.since(7)).isEmpty();
        assertThat(recent.since(9)).as("ahead of this voter (it applies later than the one that answered before)").isEmpty();
    }

    @Test
    void theOldestEntriesGoPastEitherBoundAndTheFloorFollowsThem() {
        RecentEntries byCount = new RecentEntries(3, 1_000);
        for (long index = 1; index <= 5; index++) {
            byCount.add(index, 1, bytes(1));
        }
        assertThat(byCount.floor()).isEqualTo(2);
        assertThat(byCount.since(1)).as("entry 2 is gone").isNull();
        assertThat(indexes(byCount.since(2))).containsExactly(3L, 4L, 5L);

        RecentEntries byBytes = new RecentEntries(100, 10);
        byBytes.add(1, 1, bytes(4));
        byBytes.add(2, 1, bytes(4));
        byBytes.add(3, 1, bytes(4));
        assertThat(byBytes.floor()).isEqualTo(1);
        assertThat(indexes(byBytes.since(1))).containsExactly(2L, 3L);
        byBytes.add(4, 1, bytes(50));
        assertThat(byBytes.size()).as("one entry larger than the bound is still held").isEqualTo(1);
        assertThat(indexes(byBytes.since(3))).containsExactly(4L);
        assertThat(byBytes.since(2)).isNull();
    }

    @Test
    void aLoadedSnapshotOrAnIndexAppliedAgainLeavesNothingOlderUsable() {
        RecentEntries recent = new RecentEntries(10, 1_000);
        recent.add(1, 1, bytes(1));
        recent.add(2, 1, bytes(1));
        recent.reset(40);
        assertThat(recent.since(2)).isNull();
        assertThat(recent.since(40)).isEmpty();
        recent.add(41, 3, bytes(1));
        recent.add(41, 3, bytes(1));
        assertThat(recent.floor()).isEqualTo(41);
        assertThat(recent.since(40)).isNull();
        assertThat(recent.since(41)).isEmpty();
    }
}
