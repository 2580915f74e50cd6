package io.spate.chaos;

import io.spate.chaos.fault.Schedule;
import io.spate.chaos.history.RunHistory;
import io.spate.chaos.history.Write;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The short, seeded slice of the fault campaigns that runs with every build: two fixed schedules
 * of 40 s on a three-node cluster of real node processes, every fault kind the machine allows.
 * The history must pass every safety check, and every partition must take writes again after
 * the faults heal. (The availability bounds are judged by campaigns, {@code ./spate chaos}, not
 * by a test: a test does not assert timings on a shared machine.) Each run's history, node logs
 * and timeline stay in {@code target/chaos-slice}.
 */
class ChaosSliceTest {

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {SEED_A, SEED_B})
    void seededScheduleKeepsEveryAcknowledgedWriteAndRecovers(long seed) throws Exception {
        Path jar = Path.of(System.getProperty("spate.broker.jar"));
        assertThat(jar).as("the packaged node; build through Maven").isRegularFile();
        RunOptions options = new RunOptions(jar, 3, 6, 200, 2, 3, 40_000, 15_000, Schedule.all(), false);
        Path dir = Path.of("target", "chaos-slice", "run-" + seed);
        ChaosRun.Result result = new ChaosRun(seed, options, dir, new PrintWriter(System.out, true)).run();

        assertThat(result.verdict().safetyOk()).as(result.verdict().describe()).isTrue();
        RunHistory h = result.history();
        assertThat(h.faults()).as("faults were injected").isNotEmpty();
        assertThat(h.writes().stream().filter(Write::acknowledged).count()).as("writes acknowledged").isGreaterThan(1_000);
        assertThat(h.reads()).as("the group read").isNotEmpty();
        assertThat(h.metadataLogs().stream().map(io.spate.chaos.history.MetadataLogEntry::node).collect(Collectors.toSet()))
                .as("every voter's metadata log was read for the agreement check").containsExactlyInAnyOrderElementsOf(h.voters());
        assertThat(h.voterProgress().stream().map(io.spate.chaos.history.VoterProgress::node).collect(Collectors.toSet()))
                .as("every voter's progress was read for the stuck-voter check").containsExactlyInAnyOrderElementsOf(h.voters());
        Set<Integer> writtenAfterHealing = h.writes().stream()
                .filter(w -> w.acknowledged() && w.doneUs() >= h.healedUs())
                .map(Write::partition).collect(Collectors.toSet());
        assertThat(writtenAfterHealing).as("partitions that took writes after the faults healed")
                .containsExactlyInAnyOrderElementsOf(h.replicas().keySet());
        assertThat(dir.resolve("timeline.html")).isRegularFile();
        assertThat(Files.readString(dir.resolve("faults.log"))).contains("seed " + seed);
    }

    static final long SEED_A = 17;
    static final long SEED_B = 14;
}
