package io.spate.chaos.workload;

import io.spate.chaos.history.Txn;
import io.spate.chaos.history.TxnOutput;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class TxnWorkloadTest {

    @Test
    void aPollsOffsetsAreRecordedAsRangesPerPartition() {
        Map<TopicPartition, List<ConsumerRecord<String, String>>> byPartition = new LinkedHashMap<>();
        byPartition.put(new TopicPartition("chaos", 0), List.of(record(0, 5), record(0, 6), record(0, 8)));
        byPartition.put(new TopicPartition("chaos", 3), List.of(record(3, 41)));
        ConsumerRecords<String, String> records = new ConsumerRecords<>(byPartition, Map.of());

        assertThat(TxnWorkload.ranges(records)).containsExactly(new Txn.InputRange(0, 5, 6), new Txn.InputRange(0, 8, 8),
                new Txn.InputRange(3, 41, 41));
    }

    @Test
    void anOutputNamesItsInputAndTransaction() {
        TxnOutput o = new TxnOutput(3, 1207, "w-1-3-57", Txn.label("t2", 1, 14));
        assertThat(o.value()).isEqualTo("3@1207 w-1-3-57 t2.1.14");
        assertThat(TxnOutput.parse(o.value())).isEqualTo(o);
        assertThat(TxnOutput.parse("w-1-3-57")).isNull();
        assertThat(TxnOutput.parse("x@1 w t")).isNull();
        assertThat(TxnOutput.parse(null)).isNull();
    }

    private static ConsumerRecord<String, String> record(int partition, long offset) {
        return new ConsumerRecord<>("chaos", partition, offset, null, "w-1-" + partition + "-" + offset);
    }
}
