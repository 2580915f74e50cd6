package io.spate.tables;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class CellTest {
    private static byte[] b(String s) {
        return s.getBytes();
    }

    @Test
    void theLaterTimestampWins() {
        Cell older = Cell.value(10, b("a"));
        Cell newer = Cell.value(11, b("b"));
        assertThat(Cell.merge(older, newer)).isEqualTo(newer);
        assertThat(Cell.merge(newer, older)).isEqualTo(newer);
        assertThat(Cell.merge(Cell.tombstone(12), newer).tombstone()).isTrue();
        assertThat(Cell.merge(null, older)).isEqualTo(older);
        assertThat(Cell.merge(older, null)).isEqualTo(older);
    }

    @Test
    void onEqualTimestampsTheTombstoneThenTheLargerValueWins() {
        assertThat(Cell.merge(Cell.value(5, b("z")), Cell.tombstone(5))).isEqualTo(Cell.tombstone(5));
        assertThat(Cell.merge(Cell.value(5, b("a")), Cell.value(5, b("b")))).isEqualTo(Cell.value(5, b("b")));
        assertThat(Cell.merge(Cell.value(5, new byte[]{(byte) 0x80}), Cell.value(5, new byte[]{1})).value())
                .containsExactly((byte) 0x80); // unsigned order
    }

    @Test
    void mergeIsOrderIndependent() {
        Random random = new Random(3);
        List<Cell> cells = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            long hlc = random.nextInt(5);
            cells.add(random.nextInt(4) == 0 ? Cell.tombstone(hlc) : Cell.value(hlc, new byte[]{(byte) random.nextInt(4)}));
        }
        Cell expected = cells.stream().reduce(null, Cell::merge);
        for (int round = 0; round < 20; round++) {
            Collections.shuffle(cells, random);
            assertThat(cells.stream().reduce(null, Cell::merge)).isEqualTo(expected);
        }
    }

    @Test
    void digestsTellVersionsApart() {
        assertThat(Cell.value(1, b("a")).digest()).isEqualTo(Cell.value(1, b("a")).digest());
        assertThat(Cell.value(1, b("a")).digest()).isNotEqualTo(Cell.value(2, b("a")).digest());
        assertThat(Cell.value(1, b("a")).digest()).isNotEqualTo(Cell.value(1, b("b")).digest());
        assertThat(Cell.value(1, new byte[0]).digest()).isNotEqualTo(Cell.tombstone(1).digest());
    }

    @Test
    void onlyOldTombstonesArePurgeable() {
        long t = HybridLogicalClock.of(1000, 3);
        assertThat(Cell.tombstone(t).purgeable(1001)).isTrue();
        assertThat(Cell.tombstone(t).purgeable(1000)).isFalse();
        assertThat(Cell.value(t, b("x")).purgeable(5000)).isFalse();
    }
}
