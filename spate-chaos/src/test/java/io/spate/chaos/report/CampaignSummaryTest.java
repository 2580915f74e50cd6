package io.spate.chaos.report;

import io.spate.chaos.check.Checker;
import io.spate.chaos.check.HistoryBuilder;
import io.spate.chaos.check.Verdict;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class CampaignSummaryTest {

    @TempDir
    Path dir;

    @Test
    void tableAndTotals() throws Exception {
        HistoryBuilder good = HistoryBuilder.clean();
        Verdict pass = Checker.check(good.build());
        HistoryBuilder bad = HistoryBuilder.clean();
        bad.seed = 7;
        bad.finalLog.get(0).set(10, null);
        bad.finalLog.get(1).add(bad.finalLog.get(1).get(0));
        bad.finalLog.get(1).add("garbage");
        Verdict fail = Checker.check(bad.build());

        Path md = dir.resolve("summary.md");
        String text = CampaignSummary.write(List.of(
                new CampaignSummary.Run(42, false, pass, dir.resolve("run-42")),
                new CampaignSummary.Run(7, true, fail, dir.resolve("run-7"))), md);

        String markdown = Files.readString(md);
        assertThat(markdown).contains("|seed|neighbour|faults|acked|lost|duplicates|other safety|")
                .contains("|[42](run-42)|no|1|400|0|0|0|")
                .contains("|[7](run-7)|yes|1|400|1|1|3|")
                // the moved copy is also out of order, and c1's read of p0@10 is no longer in the final log
                .contains("FAIL lost-write,duplicate,unexpected-value,out-of-order,inconsistent-read")
                .contains("- runs: 2 (1 passed, 1 failed)")
                .contains("- faults injected: 2")
                .contains("- writes acknowledged: 800")
                .contains("- safety violations: 5")
                .contains("- longest stall with a quorum and an eligible replica up (bounded): median ")
                .contains("- longest stall with a quorum up, counting waits for an eligible replica (not bounded): median ")
                .contains("- recovery after heal: median ");
        assertThat(text).contains("seed  neighbour")
                .containsPattern("(?m)^42 +no +1 +400 +0 +0 +0 +0\\.1 +0\\.1 +0\\.0  PASS$")
                .containsPattern("(?m)^7 +yes +1 +400 +1 +1 +3 ")
                .contains("runs: 2 (1 passed, 1 failed)").doesNotContain("|");
    }
}
