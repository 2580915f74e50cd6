package io.spate.server.handlers;

import io.spate.server.group.CommittedOffset;
import io.spate.server.group.GroupCoordinator;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** OffsetFetch's answer per partition: committed, none, or unstable while a transaction holds an offset for it (KIP-447). */
class OffsetFetchHandlerTest {
    private static final GroupCoordinator.TopicPartitionKey ORDERS_0 = new GroupCoordinator.TopicPartitionKey("orders", 0);
    private static final GroupCoordinator.TopicPartitionKey ORDERS_1 = new GroupCoordinator.TopicPartitionKey("orders", 1);

    private static final GroupCoordinator.FetchedOffsets FETCHED = new GroupCoordinator.FetchedOffsets(
            Map.of(ORDERS_0, new CommittedOffset(10, 2, "m", 0), ORDERS_1, new CommittedOffset(20, 2, "m", 0)), Set.of(ORDERS_1));

    @Test
    void aPartitionAnOpenTransactionHoldsIsUnstableWithNoOffset() {
        var answer = OffsetFetchHandler.answer(FETCHED, List.of(new OffsetFetchHandler.Wanted("orders", List.of(0, 1, 2))));
        assertThat(answer.get("orders").get(0)).isEqualTo(new OffsetFetchHandler.PartitionAnswer(10, 2, "m", Errors.NONE.code()));
        assertThat(answer.get("orders").get(1)).isEqualTo(new OffsetFetchHandler.PartitionAnswer(-1, -1, "", Errors.UNSTABLE_OFFSET_COMMIT.code()));
        assertThat(answer.get("orders").get(2)).as("nothing committed").isEqualTo(new OffsetFetchHandler.PartitionAnswer(-1, -1, "", Errors.NONE.code()));
    }

    @Test
    void askingForEveryPartitionAnswersTheUnstableOnesUnstableToo() {
        var answer = OffsetFetchHandler.answer(FETCHED, null);
        assertThat(answer.get("orders")).containsOnlyKeys(0, 1);
        assertThat(answer.get("orders").get(1).errorCode()).isEqualTo(Errors.UNSTABLE_OFFSET_COMMIT.code());
    }
}
