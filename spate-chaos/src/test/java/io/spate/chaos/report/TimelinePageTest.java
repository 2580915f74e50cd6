package io.spate.chaos.report;

import io.spate.chaos.check.Checker;
import io.spate.chaos.check.HistoryBuilder;
import io.spate.chaos.check.Verdict;
import io.spate.chaos.history.NodeFault;
import io.spate.chaos.history.RunHistory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static io.spate.chaos.check.HistoryBuilder.SECOND;
import static org.assertj.core.api.Assertions.assertThat;

class TimelinePageTest {

    @TempDir
    Path dir;

    @Test
    void passingRunPageHasTheChartAndFaultLabels() throws Exception {
        HistoryBuilder b = HistoryBuilder.clean();
        b.fault("partition", List.of(), List.of(new NodeFault.Cut(1, 2)), 5 * SECOND, 7 * SECOND); // overlaps the kill
        RunHistory h = b.build();
        Verdict v = Checker.check(h);
        Path html = dir.resolve("timeline.html");
        TimelinePage.write(h, v, html);
        String page = Files.readString(html);
        assertThat(page).startsWith("<!DOCTYPE html>").contains("<svg").contains("</svg>")
                .contains("seed 42").contains("class='pass'>PASS")
                .contains("kill [3] []").contains("partition [] [Cut[from=1, to=2]]")
                .contains("workload start").contains("healed").contains("longest stall with quorum")
                .doesNotContain("<script", "<link", "src=", "@import");
        assertThat(TimelineChart.lanes(h.faults())).containsExactly(0, 1);
    }

    @Test
    void failingRunPageNamesTheChecksAndListsViolations() throws Exception {
        HistoryBuilder b = HistoryBuilder.clean();
        b.finalLog.get(0).set(10, null);
        b.finalLog.get(1).add("<garbage & co>");
        RunHistory h = b.build();
        Verdict v = Checker.check(h);
        Path html = dir.resolve("timeline.html");
        TimelinePage.write(h, v, html);
        String page = Files.readString(html);
        assertThat(page).contains("class='fail'>FAIL: lost-write").contains("unexpected-value")
                .contains("&lt;garbage &amp; co&gt;").doesNotContain("<garbage");
    }

    @Test
    void runWithoutAcksStillRendersAndShowsItsStall() {
        HistoryBuilder b = new HistoryBuilder().partitions(1);
        RunHistory h = b.build();
        String page = TimelinePage.render(h, Checker.check(h));
        assertThat(page).contains("<svg").contains("FAIL: stall").contains("p0 stalled 10.000s with a quorum up");
    }
}
