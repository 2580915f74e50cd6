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
    private static final int SHORT_SEEDS = Integer.getInteger("spate.sim.shortSeeds", 3_000);
    private static final long SHORT_FIRST = Long.getLong("spate.sim.shortSeed", 100_000);
    private static final long SHORT_FAULTY_MS = 3_000;

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

    @Test
    void aSeedReplaysExactly() {
        ReplicationSimulation.Result first = ReplicationSimulation.run(ReplicationSimulation.defaults(7));
        ReplicationSimulation.Result again = ReplicationSimulation.run(ReplicationSimulation.defaults(7));
        assertThat(again.events()).isEqualTo(first.events());
        assertThat(again.acked()).isEqualTo(first.acked());
        assertThat(again.traceTail()).isEqualTo(first.traceTail());
    }
}
