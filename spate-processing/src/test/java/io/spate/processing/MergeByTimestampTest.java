package io.spate.processing;

import io.spate.stream.engine.InputRecord;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class MergeByTimestampTest {
    private static List<InputRecord> records(String topic, long... timestamps) {
        List<InputRecord> records = new ArrayList<>();
        for (int i = 0; i < timestamps.length; i++) {
            records.add(new InputRecord(topic, 0, i, timestamps[i], null, null));
        }
        return records;
    }

    private static List<String> merged(List<List<InputRecord>> parts) {
        return merged(parts, new boolean[parts.size()]);
    }

    private static List<String> merged(List<List<InputRecord>> parts, boolean[] more) {
        List<InputRecord> into = new ArrayList<>();
        int[] taken = TaskRunner.mergeByTimestamp(parts, more, into);
        for (int i = 0; i < parts.size(); i++) {
            List<InputRecord> part = parts.get(i);
            assertThat(into.stream().filter(part::contains).count()).as("records taken of input %d", i).isEqualTo(taken[i]);
        }
        return into.stream().map(r -> r.topic() + r.offset() + "@" + r.timestamp()).toList();
    }

    @Test
    void theLowestHeadGoesFirstAndEachInputKeepsItsLogOrder() {
        // the stream's timestamps go back once (3 after 5): its log order still holds
        List<String> order = merged(List.of(records("s", 5, 3, 9), records("t", 4, 4, 10)));
        assertThat(order).containsExactly("t0@4", "t1@4", "s0@5", "s1@3", "s2@9", "t2@10");
    }

    @Test
    void onATieTheInputNamedFirstGoesFirst() {
        assertThat(merged(List.of(records("s", 7), records("t", 7)))).containsExactly("s0@7", "t0@7");
        assertThat(merged(List.of(records("t", 7), records("s", 7)))).containsExactly("t0@7", "s0@7");
    }

    @Test
    void emptyInputsAddNothing() {
        assertThat(merged(List.of(records("s"), records("t", 1, 2), records("u")))).containsExactly("t0@1", "t1@2");
        assertThat(merged(List.of(records("s"), records("t")))).isEmpty();
    }

    @Test
    void stopsWhenAnInputWithMoreToReadRunsOutSinceItsNextRecordMayBeOlder() {
        // The stream read its limit (3 records, more in its log); the table read all it has.
        List<List<InputRecord>> parts = List.of(records("s", 10, 20, 30), records("t", 5, 25, 40));
        assertThat(merged(parts, new boolean[] {true, false})).containsExactly("t0@5", "s0@10", "s1@20", "t1@25", "s2@30");
        // Both with more: the merge ends with the first one taken whole.
        assertThat(merged(List.of(records("s", 1, 2), records("t", 1, 5)), new boolean[] {true, true})).containsExactly("s0@1", "t0@1", "s1@2");
        // Nothing more anywhere: everything read is merged.
        assertThat(merged(List.of(records("s", 1, 2), records("t", 1, 5)), new boolean[] {false, false}))
                .containsExactly("s0@1", "t0@1", "s1@2", "t1@5");
    }
}
