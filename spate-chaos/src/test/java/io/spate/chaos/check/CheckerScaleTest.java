package io.spate.chaos.check;

import io.spate.chaos.history.Commit;
import io.spate.chaos.history.RunHistory;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.spate.chaos.check.HistoryBuilder.SECOND;
import static org.assertj.core.api.Assertions.assertThat;

/** A campaign-sized history (50k writes, 100k reads) checks quickly: every check is hash-map linear. */
class CheckerScaleTest {

    @Test
    void fiftyThousandWritesAndAHundredThousandReads() {
        HistoryBuilder b = new HistoryBuilder().partitions(6);
        b.endUs = 101 * SECOND; // the last ack is at 100.998 s
        for (int i = 0; i < 50_000; i++) {
            b.ack(i % 5, i % 6, SECOND + i * 2_000L);
        }
        b.fault("kill", List.of(2), List.of(), 30 * SECOND, 40 * SECOND);
        b.fault("partition", List.of(), List.of(), 35 * SECOND, 50 * SECOND);
        for (int p = 0; p < 6; p++) {
            b.consumeAll("c1", p, SECOND, 100 * SECOND);
            b.consumeAll("c2", p, SECOND, 110 * SECOND); // a second reader: 100k reads in all
            long end = b.finalLog.get(p).size();
            for (long o = 100; o <= end; o += 100) {
                b.commits.add(new Commit("c1", 0, p, o, 100 * SECOND + o, 100 * SECOND + o + 50, true, ""));
            }
            b.finalCommitted.put(p, end);
        }
        RunHistory h = b.build();
        assertThat(h.reads()).hasSize(100_000);
        long start = System.nanoTime();
        Verdict v = Checker.check(h);
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertThat(v.violations()).isEmpty();
        assertThat(ms).as("check time, ms").isLessThan(5_000);
    }
}
