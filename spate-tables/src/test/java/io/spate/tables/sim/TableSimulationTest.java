package io.spate.tables.sim;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The CI slice of the table simulation: a few seconds of seeds. More with
 * {@code -Dspate.tables.seeds=N} (and {@code -Dspate.tables.first=S}), or the main class
 * {@link TableSimulationMain} (see the module README).
 */
class TableSimulationTest {
    @Test
    void seededRunsKeepTheInvariants() {
        int seeds = Integer.getInteger("spate.tables.seeds", 20);
        long first = Long.getLong("spate.tables.first", 1);
        List<String> failures = new ArrayList<>();
        for (long seed = first; seed < first + seeds; seed++) {
            TableSimulation.Result result = TableSimulation.run(seed, TableSimulation.Options.ci());
            System.out.println(result.summary());
            if (!result.ok()) {
                failures.add("seed " + seed + " (replay: TableSimulationMain --seed " + seed + "): "
                        + String.join("\n  ", result.violations().subList(0, Math.min(5, result.violations().size()))));
            }
        }
        assertThat(failures).as(String.join("\n", failures)).isEmpty();
    }

    @Test
    void aSeedReplaysExactly() {
        TableSimulation.Result a = TableSimulation.run(7, TableSimulation.Options.ci());
        TableSimulation.Result b = TableSimulation.run(7, TableSimulation.Options.ci());
        assertThat(b.summary()).isEqualTo(a.summary());
        assertThat(b.fingerprint()).isEqualTo(a.fingerprint());
        assertThat(b.violations()).isEqualTo(a.violations());
    }
}
