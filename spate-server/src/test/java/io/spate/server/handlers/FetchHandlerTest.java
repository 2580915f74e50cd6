package io.spate.server.handlers;

import io.spate.replication.Acks;
import io.spate.replication.Partition;
import io.spate.server.StandaloneCore;
import io.spate.server.network.ClientConnection;
import io.spate.server.network.FileSliceRecords;
import io.spate.server.partition.ReplicaManager;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.RequestHeader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The fetch handler without the network: a standalone node's real logs and partitions, the
 * request as kafka-clients encodes it, a single-threaded executor standing for the connection's
 * event loop. The long poll parks in replication and is answered by an append on another thread.
 */
class FetchHandlerTest {
    private static final short VERSION = 12;
    /** Far longer than any test takes: a fetch answered before it was woken by an append or its deadline. */
    private static final int LONG_POLL_MS = 60_000;

    @TempDir
    Path dataDir;

    private final ScheduledExecutorService eventLoop = Executors.newSingleThreadScheduledExecutor();
    private StandaloneCore node;
    private ReplicaManager replicas;
    private FetchHandler handler;
    private Partition partition;

    @BeforeEach
    void start() throws Exception {
        node = StandaloneCore.start(dataDir);
        replicas = node.replicas;
        node.topics.create("events", 1, (short) 1, Map.of());
        partition = replicas.partition("events", 0);
        handler = new FetchHandler(node.registry, replicas);
    }

    @AfterEach
    void stop() {
        eventLoop.shutdownNow();
        node.close();
    }

    private CompletableFuture<ApiMessage> fetch(String topic, long offset, int maxWaitMs) {
        return fetch(topic, offset, maxWaitMs, 1);
    }

    private CompletableFuture<ApiMessage> fetch(String topic, long offset, int maxWaitMs, int minBytes) {
        FetchRequestData data = new FetchRequestData().setReplicaId(-1).setMaxWaitMs(maxWaitMs).setMinBytes(minBytes).setMaxBytes(1 << 20)
                .setSessionId(0).setSessionEpoch(-1);
        data.topics().add(new FetchRequestData.FetchTopic().setTopic(topic).setTopicId(Uuid.ZERO_UUID)
                .setPartitions(List.of(new FetchRequestData.FetchPartition().setPartition(0).setFetchOffset(offset).setPartitionMaxBytes(1 << 20))));
        return handler.handle(new RequestHeader(ApiKeys.FETCH, VERSION, "test", 1), new FetchRequest(data, VERSION),
                new ClientConnection("c1", null, eventLoop));
    }

    private void append(String value) {
        var batch = MemoryRecords.withRecords(Compression.NONE, new SimpleRecord(0L, null, value.getBytes(StandardCharsets.UTF_8)));
        assertThat(partition.append(batch.buffer(), Acks.LEADER, 1_000, System.currentTimeMillis()).join().ok()).isTrue();
    }

    private static FetchResponseData.PartitionData only(ApiMessage message) {
        FetchResponseData response = (FetchResponseData) message;
        assertThat(response.errorCode()).isZero();
        assertThat(response.responses()).hasSize(1);
        assertThat(response.responses().get(0).partitions()).hasSize(1);
        return response.responses().get(0).partitions().get(0);
    }

    private static List<String> values(FetchResponseData.PartitionData data) throws Exception {
        List<String> values = new ArrayList<>();
        if (data.records() instanceof FileSliceRecords file) {
            var bytes = file.slice().readIntoHeap();
            file.slice().release();
            for (Record record : MemoryRecords.readableRecords(bytes).records()) {
                values.add(StandardCharsets.UTF_8.decode(record.value()).toString());
            }
        }
        return values;
    }

    /** A follower's fetch at {@code offset}, its log's newest epoch being {@code lastFetchedEpoch}. */
    private CompletableFuture<ApiMessage> replicaFetch(long offset, int lastFetchedEpoch) {
        FetchRequestData data = new FetchRequestData().setReplicaId(2).setMaxWaitMs(LONG_POLL_MS).setMinBytes(1).setMaxBytes(1 << 20)
                .setSessionId(0).setSessionEpoch(-1);
        data.topics().add(new FetchRequestData.FetchTopic().setTopic("events").setTopicId(Uuid.ZERO_UUID)
                .setPartitions(List.of(new FetchRequestData.FetchPartition().setPartition(0).setFetchOffset(offset)
                        .setCurrentLeaderEpoch(partition.leaderEpoch()).setLastFetchedEpoch(lastFetchedEpoch).setPartitionMaxBytes(1 << 20))));
        return handler.handle(new RequestHeader(ApiKeys.FETCH, VERSION, "replica", 1), new FetchRequest(data, VERSION),
                new ClientConnection("r2", null, eventLoop));
    }

    /**
     * KIP-320's check, which followers truncate by: a replica whose newest epoch does not reach
     * its fetch offset here is told where the histories part, at once and with no records; one
     * whose history agrees is served (here: parked, since it has everything).
     */
    @Test
    void aReplicaWhoseHistoryPartsFromTheLeadersIsToldWhereAtOnce() throws Exception {
        append("a");
        append("b");
        int epoch = partition.log().latestEpoch();

        FetchResponseData.PartitionData diverging = only(replicaFetch(5, epoch).get(10, TimeUnit.SECONDS));
        assertThat(Errors.forCode(diverging.errorCode())).isEqualTo(Errors.NONE);
        assertThat(diverging.divergingEpoch().epoch()).isEqualTo(epoch);
        assertThat(diverging.divergingEpoch().endOffset()).as("this log's end: the replica holds offsets it never wrote").isEqualTo(2);
        assertThat(values(diverging)).isEmpty();

        FetchResponseData.PartitionData newer = only(replicaFetch(2, epoch + 3).get(10, TimeUnit.SECONDS));
        assertThat(newer.divergingEpoch().epoch()).as("an epoch this log never had: the newest below it").isEqualTo(epoch);
        assertThat(newer.divergingEpoch().endOffset()).isEqualTo(2);

        CompletableFuture<ApiMessage> agreeing = replicaFetch(2, epoch);
        assertThat(agreeing).as("histories agree and it has everything: it waits for more").isNotDone();
        append("c");
        FetchResponseData.PartitionData served = only(agreeing.get(10, TimeUnit.SECONDS));
        assertThat(served.divergingEpoch().epoch()).isEqualTo(-1);
        assertThat(served.divergingEpoch().endOffset()).isEqualTo(-1);
        assertThat(values(served)).containsExactly("c");
    }

    @Test
    void aFetchThatFindsNothingWaitsAndTheNextAppendAnswersIt() throws Exception {
        CompletableFuture<ApiMessage> parked = fetch("events", 0, LONG_POLL_MS);
        assertThat(parked).as("nothing to read yet, and its wait is a minute").isNotDone();

        append("first");

        FetchResponseData.PartitionData data = only(parked.get(10, TimeUnit.SECONDS));
        assertThat(Errors.forCode(data.errorCode())).isEqualTo(Errors.NONE);
        assertThat(values(data)).containsExactly("first");
        assertThat(data.highWatermark()).isEqualTo(1);
    }

    @Test
    void aFetchAskingForMoreThanIsThereWaitsUntilItsMinimumIsReadable() throws Exception {
        append("a");
        int oneBatch = partition.read(0, 1 << 20, io.spate.replication.ReadBound.HIGH_WATERMARK, true).sizeInBytes();
        // fetch.min.bytes of three batches: one is there, so the fetch waits (as Kafka's does).
        CompletableFuture<ApiMessage> parked = fetch("events", 0, LONG_POLL_MS, 3 * oneBatch);
        assertThat(parked).isNotDone();
        append("b");
        assertThat(parked).as("two batches of the three asked for").isNotDone();
        append("c");

        assertThat(values(only(parked.get(10, TimeUnit.SECONDS)))).containsExactly("a", "b", "c");
    }

    @Test
    void aFetchWithDataAlreadyThereIsAnsweredAtOnce() throws Exception {
        append("a");
        append("b");
        CompletableFuture<ApiMessage> answered = fetch("events", 1, LONG_POLL_MS);
        assertThat(answered).isDone();
        assertThat(values(only(answered.join()))).containsExactly("b");
    }

    @Test
    void aFetchThatStaysEmptyIsAnsweredEmptyAtItsDeadline() throws Exception {
        FetchResponseData.PartitionData data = only(fetch("events", 0, 50).get(10, TimeUnit.SECONDS));
        assertThat(Errors.forCode(data.errorCode())).isEqualTo(Errors.NONE);
        assertThat(data.records().sizeInBytes()).isZero();
        assertThat(data.highWatermark()).isZero();
    }

    @Test
    void anUnknownTopicIsRefusedAtOnceRatherThanParked() {
        CompletableFuture<ApiMessage> answered = fetch("no-such-topic", 0, LONG_POLL_MS);
        assertThat(answered).isDone();
        assertThat(Errors.forCode(only(answered.join()).errorCode())).isEqualTo(Errors.UNKNOWN_TOPIC_OR_PARTITION);
    }

    @Test
    void inASessionPartitionsThatJustGotRecordsGoLastSoABusyOneCannotStarveTheOthers() throws Exception {
        Partition[] rotating = rotatingTopic();
        Partition p0 = rotating[0];
        Partition p1 = rotating[1];
        appendTo(p0, "p0-a");
        appendTo(p1, "p1-a");
        int oneBatch = p0.read(0, 1 << 20, io.spate.replication.ReadBound.HIGH_WATERMARK, true).sizeInBytes();

        // Opens a session; the byte budget holds one batch, so only the first partition in order gets records.
        FetchResponseData first = (FetchResponseData) sessionFetch(0, 0, oneBatch, Map.of(0, 0L, 1, 0L), List.of()).get(10, TimeUnit.SECONDS);
        assertThat(first.sessionId()).isNotZero();
        assertThat(recordsByPartition(first)).containsExactly(Map.entry(0, List.of("p0-a")), Map.entry(1, List.of()));

        appendTo(p0, "p0-b");
        // Partition 0 has more again; it was answered last round, so partition 1 comes first now.
        FetchResponseData second = (FetchResponseData) sessionFetch(first.sessionId(), 1, oneBatch, Map.of(0, 1L), List.of())
                .get(10, TimeUnit.SECONDS);
        assertThat(second.errorCode()).isZero();
        assertThat(recordsByPartition(second)).containsEntry(1, List.of("p1-a"));
        assertThat(recordsByPartition(second).get(0)).as("the busy partition waits its turn").isNullOrEmpty();

        // The next round it is partition 0's turn; partition 1, unchanged, is not named and not answered.
        FetchResponseData third = (FetchResponseData) sessionFetch(first.sessionId(), 2, oneBatch, Map.of(1, 1L), List.of())
                .get(10, TimeUnit.SECONDS);
        assertThat(recordsByPartition(third)).containsExactly(Map.entry(0, List.of("p0-b")));
    }

    @Test
    void inASessionAQuietPartitionIsLeftOutAndOneWhoseMarksMovedIsToldWithoutNewRecords() throws Exception {
        Partition[] rotating = rotatingTopic();
        for (String value : List.of("p0-a", "p0-b")) {
            appendTo(rotating[0], value);
        }
        appendTo(rotating[1], "p1-a");

        FetchResponseData first = (FetchResponseData) sessionFetch(0, 0, 1 << 20, Map.of(0, 2L, 1, 1L), List.of()).get(10, TimeUnit.SECONDS);
        assertThat(first.sessionId()).isNotZero();
        assertThat(recordsByPartition(first)).containsOnlyKeys(0, 1);

        // Both caught up, nothing moved: an incremental fetch naming neither is answered with neither.
        FetchResponseData quiet = (FetchResponseData) sessionFetch(first.sessionId(), 1, 1 << 20, Map.of(), List.of()).get(10, TimeUnit.SECONDS);
        assertThat(quiet.errorCode()).isZero();
        assertThat(quiet.responses()).isEmpty();

        // Partition 0's log start moves (DeleteRecords) with no new records: the client is told its new log start.
        rotating[0].log().deleteRecordsBefore(1);
        FetchResponseData moved = (FetchResponseData) sessionFetch(first.sessionId(), 2, 1 << 20, Map.of(), List.of()).get(10, TimeUnit.SECONDS);
        assertThat(moved.responses()).hasSize(1);
        assertThat(moved.responses().get(0).partitions()).singleElement().satisfies(p -> {
            assertThat(p.partitionIndex()).isZero();
            assertThat(p.logStartOffset()).isEqualTo(1);
            assertThat(p.highWatermark()).isEqualTo(2);
            assertThat(p.records().sizeInBytes()).isZero();
        });

        // Told once: the next round is quiet again, and a new record is answered as before.
        FetchResponseData again = (FetchResponseData) sessionFetch(first.sessionId(), 3, 1 << 20, Map.of(), List.of()).get(10, TimeUnit.SECONDS);
        assertThat(again.responses()).isEmpty();
        appendTo(rotating[1], "p1-b");
        FetchResponseData fresh = (FetchResponseData) sessionFetch(first.sessionId(), 4, 1 << 20, Map.of(), List.of()).get(10, TimeUnit.SECONDS);
        assertThat(recordsByPartition(fresh)).containsExactly(Map.entry(1, List.of("p1-b")));
    }

    /** The two partitions of a new topic, "rotating", the one {@link #sessionFetch} reads. */
    private Partition[] rotatingTopic() {
        node.topics.create("rotating", 2, (short) 1, Map.of());
        return new Partition[] {replicas.partition("rotating", 0), replicas.partition("rotating", 1)};
    }

    private void appendTo(Partition p, String value) {
        var batch = MemoryRecords.withRecords(Compression.NONE, new SimpleRecord(0L, null, value.getBytes(StandardCharsets.UTF_8)));
        assertThat(p.append(batch.buffer(), Acks.LEADER, 1_000, System.currentTimeMillis()).join().ok()).isTrue();
    }

    private CompletableFuture<ApiMessage> sessionFetch(int sessionId, int epoch, int maxBytes, Map<Integer, Long> offsets, List<Integer> forget) {
        FetchRequestData data = new FetchRequestData().setReplicaId(-1).setMaxWaitMs(0).setMinBytes(1).setMaxBytes(maxBytes)
                .setSessionId(sessionId).setSessionEpoch(epoch);
        FetchRequestData.FetchTopic topic = new FetchRequestData.FetchTopic().setTopic("rotating").setTopicId(Uuid.ZERO_UUID);
        new java.util.TreeMap<>(offsets).forEach((partition, offset) -> topic.partitions().add(new FetchRequestData.FetchPartition()
                .setPartition(partition).setFetchOffset(offset).setPartitionMaxBytes(1 << 20)));
        if (!topic.partitions().isEmpty()) {
            data.topics().add(topic);
        }
        if (!forget.isEmpty()) {
            data.forgottenTopicsData().add(new FetchRequestData.ForgottenTopic().setTopic("rotating").setPartitions(forget));
        }
        return handler.handle(new RequestHeader(ApiKeys.FETCH, VERSION, "test", 1), new FetchRequest(data, VERSION),
                new ClientConnection("c1", null, eventLoop));
    }

    private static Map<Integer, List<String>> recordsByPartition(FetchResponseData response) throws Exception {
        Map<Integer, List<String>> byPartition = new java.util.LinkedHashMap<>();
        for (FetchResponseData.FetchableTopicResponse topic : response.responses()) {
            for (FetchResponseData.PartitionData p : topic.partitions()) {
                byPartition.put(p.partitionIndex(), values(p));
            }
        }
        return byPartition;
    }
}
