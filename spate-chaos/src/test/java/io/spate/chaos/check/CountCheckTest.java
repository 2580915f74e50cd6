package io.spate.chaos.check;

import io.spate.chaos.history.MirrorHistory;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

class CountCheckTest {

    /** Each writer of a clean run's input (producers 1 and 2, 200 records each) counted 1 to {@code upTo}, writer N in output partition N - 1. */
    private static Map<Integer, List<String>> counted(int upTo) {
        Map<Integer, List<String>> out = new TreeMap<>();
        for (int writer = 1; writer <= 2; writer++) {
            List<String> results = new ArrayList<>();
            for (int c = 1; c <= upTo; c++) {
                results.add("w-" + writer + "=" + c);
            }
            out.put(writer - 1, results);
        }
        return out;
    }

    private static Verdict check(Map<Integer, List<String>> output) {
        HistoryBuilder b = HistoryBuilder.clean();
        b.mirror = new MirrorHistory(List.of(), List.of(new MirrorHistory.Count("c", "rocksdb", output)));
        return Checker.check(b.build());
    }

    @Test
    void everyWritersCountOneByOnePasses() {
        Verdict v = check(counted(200));

        assertThat(v.violations()).isEmpty();
        assertThat(v.notes()).anyMatch(n -> n.equals("c (exactly-once, stores rocksdb, one standby): 400 results for 400 input records of 2 writers"));
    }

    @Test
    void aStoreThatWentBackIsWrong() {
        Map<Integer, List<String>> output = counted(200);
        output.get(0).addAll(120, List.of("w-1=118", "w-1=119", "w-1=120")); // restored from an older state, counted again

        Verdict v = check(output);

        assertThat(v.safetyOk()).isFalse();
        assertThat(v.violationsOf(Violation.COUNT_WRONG)).first()
                .satisfies(x -> assertThat(x.detail()).contains("w-1's result 118 follows 120 (counted again, or its store went back)"));
        assertThat(v.violationsOf(Violation.COUNT_WRONG).get(0).where()).isEqualTo("count");
    }

    @Test
    void aLostIncrementIsWrong() {
        Map<Integer, List<String>> output = counted(200);
        output.get(1).remove(49); // w-2=50 never came: the next says 51

        Verdict v = check(output);

        assertThat(v.violationsOf(Violation.COUNT_WRONG)).hasSize(1)
                .allSatisfy(x -> assertThat(x.detail()).contains("w-2's result 51 follows 49 (increments lost)"));
    }

    @Test
    void aCountPastTheInputOrOfNoWriterIsWrong() {
        Map<Integer, List<String>> output = counted(200);
        output.get(0).add("w-1=201");
        output.get(1).add("w-9=1");
        output.get(1).add("garbage");

        Verdict v = check(output);

        assertThat(v.violationsOf(Violation.COUNT_WRONG)).extracting(Violation::detail).containsExactly(
                "c: w-1 counted to 201, with 200 records in the input",
                "c: result 'w-9=1' in output partition 1 names no writer of the input",
                "c: result 'garbage' in output partition 1 is not WRITER=COUNT");
    }

    @Test
    void aCountShortOfItsInputByTheEndIsUndrainedNotWrong() {
        Map<Integer, List<String>> output = counted(200);
        output.get(1).subList(150, 200).clear();

        Verdict v = check(output);

        assertThat(v.safetyOk()).isTrue();
        assertThat(v.violationsOf(Violation.COUNT_UNDRAINED)).extracting(Violation::detail).containsExactly("c: by the end w-2 at 150 of 200");
    }
}
