package io.spate.testkit.sim;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A short seeded slice of the replication simulation: every seed must keep every acknowledged
 * write and end with replicas that agree. A failing seed is named with its trace; it replays
 * with {@code ReplicationSimulation.run(ReplicationSimulation.defaults(seed), dir)}.
 */
class ReplicationSimulationTest {
    private static final int SEEDS = Integer.getInteger("spate.sim.seeds", 20);
    private static final long FIRST = Long.getLong("spate.sim.seed", 1);

    @TempDir
    Path dir;

    @Test
    void everyAcknowledgedWriteSurvivesEverySeed() {
        List<String> failed = new ArrayList<>();
        long acked = 0;
        long writes = 0;
        for (long seed = FIRST; seed < FIRST + SEEDS; seed++) {
            ReplicationSimulation.Result result = ReplicationSimulation.run(ReplicationSimulation.defaults(seed), dir);
            acked += result.acked();
            writes += result.writes();
            if (!result.passed()) {
                failed.add("seed " + seed + ": " + result.violations() + "\n  " + String.join("\n  ", result.traceTail()));
            }
        }
        System.out.printf("replication simulation: %d seeds from %d, %d writes, %d acknowledged, %d failed%n", SEEDS, FIRST, writes, acked, failed.size());
        assertThat(failed).isEmpty();
        assertThat(acked).as("the runs acknowledged writes at all").isPositive();
    }

    @Test
    void aSeedReplaysExactly() {
        ReplicationSimulation.Result first = ReplicationSimulation.run(ReplicationSimulation.defaults(7), dir);
        ReplicationSimulation.Result again = ReplicationSimulation.run(ReplicationSimulation.defaults(7), dir);
        assertThat(again.events()).isEqualTo(first.events());
        assertThat(again.acked()).isEqualTo(first.acked());
        assertThat(again.traceTail()).isEqualTo(first.traceTail());
    }
}
