package io.spate.chaos;

import io.spate.chaos.check.Violation;
import io.spate.chaos.fault.Schedule;
import io.spate.chaos.history.RunHistory;
import io.spate.chaos.history.Txn;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The pipelines' seeded slice of the fault campaigns, with every build: one fixed schedule of 20 s
 * on a three-node cluster of real node processes, every fault kind the machine allows, the
 * producers feeding a transactional consume-transform-produce client pipeline ({@code --workload
 * txn}) and three Spate pipelines deployed at the data ({@code --workload pipeline}): exactly-once
 * and at-least-once mirrors of the input and an exactly-once count per writer. The history must
 * pass every safety check; the client pipeline must drain its input, leave no transaction open,
 * and have committed, aborted (on purpose) and fenced (a crashed member's zombie) transactions to
 * judge; the mirrors must have copied every input record, the exactly-once one each exactly once,
 * and end with every task on its partition's leader; the exactly-once count per writer (through a
 * repartition, its stores in RocksDB with a standby) must have counted every input record once,
 * each writer 1, 2, 3 .... The run stays in {@code target/chaos-slice/txn-run-SEED}.
 */
class TxnSliceTest {
    /** A schedule whose pipeline members both leave as if crashed within the first 15 s (TxnWorkload's leaving draws), leaving zombies to fence. */
    static final long SEED = 8;

    @Test
    void seededScheduleProcessesEveryInputExactlyOnce() throws Exception {
        Path jar = Path.of(System.getProperty("spate.broker.jar"));
        assertThat(jar).as("the packaged node; build through Maven").isRegularFile();
        RunOptions options = new RunOptions(jar, 3, 6, 150, 2, 3, 20_000, 5_000, Schedule.all(), false,
                Set.of(Workload.TXN, Workload.PIPELINE), 2);
        Path dir = Path.of("target", "chaos-slice", "txn-run-" + SEED);
        ChaosRun.Result result = new ChaosRun(SEED, options, dir, new PrintWriter(System.out, true)).run();

        assertThat(result.verdict().safetyOk()).as(result.verdict().describe()).isTrue();
        assertThat(result.verdict().violationsOf(Violation.TXN_UNDRAINED)).as(result.verdict().describe()).isEmpty();
        assertThat(result.verdict().violationsOf(Violation.TXN_HANGING)).as(result.verdict().describe()).isEmpty();
        RunHistory h = result.history();
        assertThat(h.faults()).as("faults were injected").isNotEmpty();
        assertThat(h.txn().ran()).isTrue();
        assertThat(h.txn().transactions()).as("transactions committed")
                .filteredOn(t -> t.outcome() == Txn.Outcome.COMMITTED).hasSizeGreaterThan(20);
        assertThat(h.txn().transactions()).as("transactions aborted on purpose")
                .anyMatch(t -> t.outcome() == Txn.Outcome.ABORTED_ON_PURPOSE);
        assertThat(h.txn().transactions()).as("zombies fenced").anyMatch(t -> t.outcome() == Txn.Outcome.FENCED);
        long inputs = h.finalLog().values().stream().mapToLong(java.util.List::size).sum();
        long results = h.txn().readCommitted().values().stream().flatMap(java.util.List::stream).filter(java.util.Objects::nonNull).count();
        assertThat(results).as("one result per input, read committed").isEqualTo(inputs).isGreaterThan(1_000);
        long aborted = h.txn().readUncommitted().values().stream().flatMap(java.util.List::stream).filter(java.util.Objects::nonNull).count() - results;
        assertThat(aborted).as("aborted results in the log, hidden from read_committed").isPositive();

        assertThat(result.verdict().violationsOf(Violation.MIRROR_UNDRAINED)).as(result.verdict().describe()).isEmpty();
        assertThat(result.verdict().violationsOf(Violation.MIRROR_MISPLACED)).as(result.verdict().describe()).isEmpty();
        assertThat(h.mirror().mirrors()).extracting(m -> m.exactlyOnce()).containsExactlyInAnyOrder(true, false);
        // The count per writer (stores in RocksDB on this seed, one standby): every writer counted to its last record, one by one.
        assertThat(result.verdict().violationsOf(Violation.COUNT_UNDRAINED)).as(result.verdict().describe()).isEmpty();
        assertThat(h.mirror().counts()).singleElement().satisfies(c -> {
            assertThat(c.stateStore()).isEqualTo("rocksdb");
            assertThat(c.output().values().stream().mapToLong(java.util.List::size).sum()).as("one result per input").isEqualTo(inputs);
        });
        for (io.spate.chaos.history.MirrorHistory.Mirror m : h.mirror().mirrors()) {
            long mirrored = m.output().values().stream().mapToLong(java.util.List::size).sum();
            if (m.exactlyOnce()) {
                assertThat(mirrored).as(m.name() + ": one result per input").isEqualTo(inputs);
            } else {
                assertThat(mirrored).as(m.name() + ": at least one result per input").isGreaterThanOrEqualTo(inputs);
            }
        }
    }
}
