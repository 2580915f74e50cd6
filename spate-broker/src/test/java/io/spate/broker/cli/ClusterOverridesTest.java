package io.spate.broker.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The settings a stopped local cluster starts again with: the new {@code -o} over the ones in its {@code cluster.properties}. */
class ClusterOverridesTest {
    @TempDir
    Path dir;

    private static Map<String, String> givenOnTheCommandLine(String... args) {
        ClusterCommandUp up = new ClusterCommandUp();
        new CommandLine(up).parseArgs(args);
        return up.overrides;
    }

    @Test
    void aRestartsNewSettingJoinsTheStoredOnesInTheLayoutFile() throws Exception {
        Map<String, String> first = givenOnTheCommandLine("--nodes", "3", "--dir", dir.toString(),
                "-o", "min.insync.replicas=2", "-o", "default.replication.factor=3");
        ClusterCommand.Layout.of(3, 19092, first).write(dir);

        Map<String, String> stored = ClusterCommand.Layout.read(dir).overrides();
        ClusterOverrides merged = ClusterOverrides.merge(stored,
                givenOnTheCommandLine("--nodes", "3", "--dir", dir.toString(), "-o", "log.retention.ms=60000"));
        ClusterCommand.Layout.of(3, 19092, merged.settings()).write(dir);

        assertThat(ClusterCommand.Layout.read(dir).overrides()).containsExactlyInAnyOrderEntriesOf(Map.of(
                "min.insync.replicas", "2", "default.replication.factor", "3", "log.retention.ms", "60000"));
        assertThat(merged.changes()).containsExactly("log.retention.ms=60000 (new)");
        assertThat(merged.kept()).containsExactlyInAnyOrder("min.insync.replicas=2", "default.replication.factor=3");
    }

    @Test
    void aSettingGivenAgainTakesItsNewValueAndAnEmptyOneDropsIt() {
        Map<String, String> stored = new LinkedHashMap<>();
        stored.put("min.insync.replicas", "2");
        stored.put("default.replication.factor", "3");
        stored.put("log.retention.ms", "60000");

        ClusterOverrides merged = ClusterOverrides.merge(stored, givenOnTheCommandLine("--nodes", "3", "--dir", dir.toString(),
                "-o", "min.insync.replicas=1", "-o", "log.retention.ms=", "-o", "default.replication.factor=3"));

        assertThat(merged.settings()).containsExactlyInAnyOrderEntriesOf(Map.of("min.insync.replicas", "1", "default.replication.factor", "3"));
        assertThat(merged.changes()).containsExactly("min.insync.replicas=1 (was 2)", "log.retention.ms dropped (was 60000)");
        assertThat(merged.kept()).containsExactly("default.replication.factor=3");
    }

    @Test
    void aRestartWithoutSettingsKeepsThemAll() {
        Map<String, String> stored = Map.of("min.insync.replicas", "2");

        ClusterOverrides merged = ClusterOverrides.merge(stored, givenOnTheCommandLine("--nodes", "3", "--dir", dir.toString()));

        assertThat(merged.settings()).isEqualTo(stored);
        assertThat(merged.changes()).isEmpty();
        assertThat(merged.kept()).containsExactly("min.insync.replicas=2");
    }
}
