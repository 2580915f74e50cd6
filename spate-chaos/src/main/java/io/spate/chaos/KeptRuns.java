package io.spate.chaos;

import io.spate.chaos.check.Checker;
import io.spate.chaos.history.HistoryFile;
import io.spate.chaos.report.CampaignSummary;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The runs a campaign directory keeps ({@code run-SEED} or {@code run-SEED-neighbour}), checked
 * again from their histories with today's checker. A run without a history did not finish.
 */
final class KeptRuns {
    private static final Pattern RUN_DIR = Pattern.compile("run-(-?\\d+)(-neighbour)?");

    private KeptRuns() {
    }

    static List<CampaignSummary.Run> read(Path campaign) throws IOException {
        List<CampaignSummary.Run> runs = new ArrayList<>();
        try (var dirs = Files.list(campaign)) {
            for (Path dir : dirs.sorted().toList()) {
                Matcher m = RUN_DIR.matcher(dir.getFileName().toString());
                if (!Files.isDirectory(dir) || !m.matches()) {
                    continue;
                }
                long seed = Long.parseLong(m.group(1));
                boolean neighbour = m.group(2) != null;
                Path history = dir.resolve("history.tsv");
                runs.add(new CampaignSummary.Run(seed, neighbour,
                        Files.isRegularFile(history) ? Checker.check(HistoryFile.read(history)) : null, dir));
            }
        }
        return runs;
    }
}
