package io.spate.chaos.check;

import io.spate.chaos.history.MirrorHistory;
import io.spate.chaos.history.MirrorHistory.TaskSeen;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

class MirrorCheckTest {

    /** A clean run's input, mirrored exactly by both pipelines, every task on its partition's leader. */
    private static HistoryBuilder mirrored(Map<Integer, List<String>> eos, Map<Integer, List<String>> alos, List<TaskSeen> tasks) {
        HistoryBuilder b = HistoryBuilder.clean();
        b.mirror = new MirrorHistory(List.of(new MirrorHistory.Mirror("m-eos", true, eos, tasks),
                new MirrorHistory.Mirror("m-alos", false, alos, tasks)));
        return b;
    }

    private static Map<Integer, List<String>> copyOf(HistoryBuilder b) {
        Map<Integer, List<String>> out = new TreeMap<>();
        b.finalLog.forEach((p, values) -> out.put(p, new ArrayList<>(values)));
        return out;
    }

    private static List<TaskSeen> onLeaders() {
        return List.of(new TaskSeen(0, 1, "RUNNING", 1), new TaskSeen(1, 2, "RUNNING", 2));
    }

    @Test
    void exactMirrorsPass() {
        HistoryBuilder input = HistoryBuilder.clean();
        HistoryBuilder b = mirrored(copyOf(input), copyOf(input), onLeaders());
        Verdict v = Checker.check(b.build());
        assertThat(v.violations()).isEmpty();
        assertThat(v.notes()).anyMatch(n -> n.startsWith("m-eos (exactly-once): 400 results for 400 input records"));
    }

    @Test
    void atLeastOnceMayRepeatFromItsLastCommitButExactlyOnceMayNot() {
        HistoryBuilder input = HistoryBuilder.clean();
        Map<Integer, List<String>> replayed = copyOf(input);
        List<String> p0 = replayed.get(0);
        p0.addAll(50, p0.subList(40, 50)); // a restart went back ten records
        Verdict v = Checker.check(mirrored(replayed, replayed, onLeaders()).build());
        assertThat(v.violationsOf(Violation.MIRROR_DUPLICATE)).hasSize(10)
                .allSatisfy(x -> assertThat(x.detail()).startsWith("m-eos: "));
        assertThat(v.violationsOf(Violation.MIRROR_OUT_OF_ORDER)).isEmpty();
        assertThat(v.safetyOk()).isFalse();
    }

    @Test
    void aGapIsMissingAndAnUnfinishedTailIsUndrained() {
        HistoryBuilder input = HistoryBuilder.clean();
        Map<Integer, List<String>> out = copyOf(input);
        out.get(0).remove(17);
        out.put(1, new ArrayList<>(out.get(1).subList(0, 90)));
        Verdict v = Checker.check(mirrored(out, out, onLeaders()).build());
        assertThat(v.violationsOf(Violation.MIRROR_MISSING)).hasSize(2).allSatisfy(x -> {
            assertThat(x.partition()).isZero();
            assertThat(x.offset()).isEqualTo(17);
        });
        assertThat(v.violationsOf(Violation.MIRROR_UNDRAINED)).hasSize(2).allSatisfy(x -> {
            assertThat(x.partition()).isEqualTo(1);
            assertThat(x.detail()).contains("the last 110 input records");
        });
        assertThat(v.safetyOk()).isFalse();
    }

    @Test
    void resultsOutOfOrderOrOfAnotherPartitionAreCaught() {
        HistoryBuilder input = HistoryBuilder.clean();
        Map<Integer, List<String>> out = copyOf(input);
        java.util.Collections.swap(out.get(0), 5, 6);
        out.get(1).add(3, input.finalLog.get(0).get(0));
        Verdict v = Checker.check(mirrored(out, out, onLeaders()).build());
        assertThat(v.violationsOf(Violation.MIRROR_OUT_OF_ORDER)).hasSize(2).allSatisfy(x -> assertThat(x.offset()).isEqualTo(5));
        assertThat(v.violationsOf(Violation.MIRROR_UNEXPECTED)).hasSize(2)
                .allSatisfy(x -> assertThat(x.detail()).contains("is no record of input partition 1"));
    }

    @Test
    void aTaskAwayFromItsLeaderIsAnAvailabilityFinding() {
        HistoryBuilder input = HistoryBuilder.clean();
        List<TaskSeen> tasks = List.of(new TaskSeen(0, 1, "RUNNING", 1), new TaskSeen(1, 3, "RUNNING", 2));
        Verdict v = Checker.check(mirrored(copyOf(input), copyOf(input), tasks).build());
        assertThat(v.violationsOf(Violation.MIRROR_MISPLACED)).hasSize(2)
                .allSatisfy(x -> assertThat(x.detail()).contains("RUNNING on node 3, the partition's leader is node 2"));
        assertThat(v.safetyOk()).isTrue();
    }
}
