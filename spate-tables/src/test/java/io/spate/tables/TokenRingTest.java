package io.spate.tables;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class TokenRingTest {
    private static final List<String> FIVE = List.of("n1", "n2", "n3", "n4", "n5");

    @Test
    void preferenceListsHoldNDistinctMembersAndAreTheSameWhateverTheOrderOfMembers() {
        TokenRing ring = TokenRing.of(FIVE, 64);
        TokenRing shuffled = TokenRing.of(List.of("n4", "n2", "n5", "n1", "n3"), 64);
        for (int k = 0; k < 1000; k++) {
            long token = TokenRing.token("key-" + k);
            List<String> replicas = ring.preferenceList(token, 3);
            assertThat(replicas).hasSize(3).doesNotHaveDuplicates();
            assertThat(shuffled.preferenceList(token, 3)).isEqualTo(replicas);
            assertThat(ring.walk(token)).hasSize(5).startsWith(replicas.toArray(String[]::new));
        }
        assertThat(TokenRing.of(List.of("a", "b"), 8).preferenceList(42, 3)).containsExactlyInAnyOrder("a", "b");
    }

    @Test
    void keysSpreadEvenlyOverMembers() {
        TokenRing ring = TokenRing.of(FIVE, 64);
        Map<String, Integer> primaries = new HashMap<>();
        int keys = 50_000;
        for (int k = 0; k < keys; k++) {
            primaries.merge(ring.preferenceList(TokenRing.token("key-" + k), 1).get(0), 1, Integer::sum);
        }
        // With 64 virtual nodes each member's share is within a third of the fair 20%.
        assertThat(primaries.values()).allSatisfy(n -> assertThat(n).isBetween(keys / 5 * 2 / 3, keys / 5 * 4 / 3));
    }

    @Test
    void aJoiningMemberTakesKeysFromOthersAndNothingElseMoves() {
        TokenRing before = TokenRing.of(FIVE, 64);
        TokenRing after = TokenRing.of(List.of("n1", "n2", "n3", "n4", "n5", "n6"), 64);
        int keys = 30_000;
        int moved = 0;
        for (int k = 0; k < keys; k++) {
            long token = TokenRing.token("key-" + k);
            List<String> old = before.preferenceList(token, 3);
            List<String> now = after.preferenceList(token, 3);
            if (!old.equals(now)) {
                moved++;
                // the only change is n6 entering the list and the last old replica leaving it
                assertThat(now).contains("n6");
                assertThat(now.stream().filter(n -> !n.equals("n6")).toList()).isEqualTo(old.subList(0, 2));
            }
        }
        // n6 holds about 3/6 of the keys as one of three replicas: about half the keys change one replica
        assertThat((double) moved / keys).isBetween(0.35, 0.65);
    }

    @Test
    void rangesCoverTheRingOnceAndAgreeWithPreferenceLists() {
        TokenRing ring = TokenRing.of(FIVE, 16);
        List<TokenRing.RangeReplicas> ranges = ring.ranges(3);
        assertThat(ranges).hasSize(80);
        for (int k = 0; k < 2000; k++) {
            long token = TokenRing.token("key-" + k);
            List<TokenRing.RangeReplicas> holding = ranges.stream().filter(r -> r.range().contains(token)).toList();
            assertThat(holding).hasSize(1);
            assertThat(holding.get(0).replicas()).isEqualTo(ring.preferenceList(token, 3));
        }
        assertThat(ring.rangesOf("n1", 3)).allSatisfy(r -> assertThat(r.replicas()).contains("n1"));
        assertThat(TokenRing.of(Set.of("solo"), 1).ranges(3)).singleElement()
                .satisfies(r -> assertThat(r.range().contains(Long.MIN_VALUE)).isTrue());
    }
}
