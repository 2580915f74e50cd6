package io.spate.testkit.sim;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A short seeded slice of the replication simulation: every seed must keep every acknowledged
 * write and end with replicas that agree. A failing seed is named with its trace; it replays
 * with {@code ReplicationSimulation.run(ReplicationSimulation.defaults(seed))}.
 */
class ReplicationSimulationTest {
    private static final int SEEDS = Integer.getInteger("spate.sim.seeds", 20);
    private static final long FIRST = Long.getLong("spate.sim.seed", 1);
    private static final int SHORT_SEEDS = Integer.getInteger("spate.sim.shortSeeds", 1_000);
    private static final long SHORT_FIRST = Long.getLong("spate.sim.shortSeed", 100_000);
    private static final long SHORT_FAULTY_MS = 3_000;
    private static final int WRONG_READ_SEEDS = Integer.getInteger("spate.sim.wrongReadSeeds", 200);
    private static final long WRONG_READ_FIRST = Long.getLong("spate.sim.wrongReadSeed", 40_000);

    @Test
    void everyAcknowledgedWriteSurvivesEverySeed() {
        List<String> failed = new ArrayList<>();
        long acked = 0;
        long writes = 0;
        long commits = 0;
        long offsetFetches = 0;
        for (long seed = FIRST; seed < FIRST + SEEDS; seed++) {
            ReplicationSimulation.Result result = ReplicationSimulation.run(ReplicationSimulation.defaults(seed));
            acked += result.acked();
            writes += result.writes();
            commits += result.commitsAcked();
            offsetFetches += result.offsetFetches();
            if (!result.passed()) {
                failed.add("seed " + seed + ": " + result.violations() + "\n  " + String.join("\n  ", result.traceTail()));
            }
        }
        System.out.printf("replication simulation: %d seeds from %d, %d writes, %d acknowledged, %d group commits acknowledged, "
                + "%d committed-offset fetches checked, %d failed%n", SEEDS, FIRST, writes, acked, commits, offsetFetches, failed.size());
        assertThat(failed).isEmpty();
        assertThat(acked).as("the runs acknowledged writes at all").isPositive();
        assertThat(commits).as("the coordinator acknowledged group commits").isPositive();
        assertThat(offsetFetches).as("fetches of the committed offset were answered and checked").isPositive();
    }

    /**
     * Many more schedules, each with a short fault phase: most bugs need a few faults at the wrong
     * moment rather than a long run, so breadth of seeds finds more per second of the build.
     */
    @Test
    void everyAcknowledgedWriteSurvivesManyShortSchedules() {
        List<String> failed = new ArrayList<>();
        long acked = 0;
        long filesThatLostWrites = 0;
        for (long seed = SHORT_FIRST; seed < SHORT_FIRST + SHORT_SEEDS; seed++) {
            ReplicationSimulation.Result result = ReplicationSimulation.run(ReplicationSimulation.defaults(seed).withFaultyMs(SHORT_FAULTY_MS));
            acked += result.acked();
            filesThatLostWrites += result.filesThatLostWrites();
            if (!result.passed()) {
                failed.add("seed " + seed + " (--faulty-ms " + SHORT_FAULTY_MS + "): " + result.violations() + "\n  "
                        + String.join("\n  ", result.traceTail()));
            }
        }
        System.out.printf("replication simulation: %d short schedules from %d, %d acknowledged, %d files lost unsynced writes to power losses, %d failed%n",
                SHORT_SEEDS, SHORT_FIRST, acked, filesThatLostWrites, failed.size());
        assertThat(failed).isEmpty();
        assertThat(acked).isPositive();
        assertThat(filesThatLostWrites).as("the schedules' power losses took unsynced writes away").isPositive();
    }

    /**
     * Disks that now and then read back a wrong bit (the platter intact) join the faults: no read
     * may become a cut of good data, a hole, an epoch boundary or a high watermark that goes back.
     */
    @Test
    void everyAcknowledgedWriteSurvivesDisksThatReadAWrongBit() {
        List<String> failed = new ArrayList<>();
        long acked = 0;
        long wrongReads = 0;
        for (long seed = WRONG_READ_FIRST; seed < WRONG_READ_FIRST + WRONG_READ_SEEDS; seed++) {
            ReplicationSimulation.Result result = ReplicationSimulation.run(ReplicationSimulation.defaults(seed).withBitFlips(true));
            acked += result.acked();
            wrongReads += result.wrongReads();
            if (!result.passed()) {
                failed.add("seed " + seed + " (--bit-flips): " + result.violations() + "\n  " + String.join("\n  ", result.traceTail()));
            }
        }
        System.out.printf("replication simulation: %d seeds with wrong reads from %d, %d acknowledged, %d wrong reads, %d failed%n",
                WRONG_READ_SEEDS, WRONG_READ_FIRST, acked, wrongReads, failed.size());
        assertThat(failed).isEmpty();
        assertThat(acked).isPositive();
        assertThat(wrongReads).as("the disks did read wrong bits").isPositive();
    }

    @Test
    void aSeedReplaysExactly() {
        ReplicationSimulation.Result first = ReplicationSimulation.run(ReplicationSimulation.defaults(7));
        ReplicationSimulation.Result again = ReplicationSimulation.run(ReplicationSimulation.defaults(7));
        assertThat(again.events()).isEqualTo(first.events());
        assertThat(again.acked()).isEqualTo(first.acked());
        assertThat(again.traceTail()).isEqualTo(first.traceTail());
    }
}
