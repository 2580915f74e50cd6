package io.spate.chaos;

import io.spate.chaos.check.HistoryBuilder;
import io.spate.chaos.history.HistoryFile;
import io.spate.chaos.report.CampaignSummary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class KeptRunsTest {

    @TempDir
    Path campaign;

    @Test
    void aKeptRunIsCheckedAgainAndARunWithoutHistoryDidNotFinish() throws Exception {
        HistoryBuilder clean = HistoryBuilder.clean();
        clean.seed = 5;
        Files.createDirectories(campaign.resolve("run-5"));
        HistoryFile.write(clean.build(), campaign.resolve("run-5").resolve("history.tsv"));
        Files.createDirectories(campaign.resolve("run-6-neighbour"));   // its cluster never healed: no history
        Files.createDirectories(campaign.resolve("node"));               // the campaign's copy of the node, not a run

        List<CampaignSummary.Run> runs = KeptRuns.read(campaign);

        assertThat(runs).extracting(CampaignSummary.Run::seed).containsExactly(5L, 6L);
        assertThat(runs.get(0).neighbour()).isFalse();
        assertThat(runs.get(0).verdict()).isNotNull();
        assertThat(runs.get(0).verdict().ok()).isTrue();
        assertThat(runs.get(0).verdict().counts().writesAcked())
                .isEqualTo(clean.build().writes().stream().filter(io.spate.chaos.history.Write::acknowledged).count());
        assertThat(runs.get(1).neighbour()).isTrue();
        assertThat(runs.get(1).verdict()).isNull();
    }
}
