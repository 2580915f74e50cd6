package io.spate.tests;

import io.spate.tests.support.AckVerifier;
import io.spate.tests.support.Clients;
import io.spate.tests.support.ReplicaFiles;
import io.spate.tests.support.SpateCluster;
import io.spate.tests.support.SpateProcess;
import io.spate.tests.support.SteadyProducer;
import io.spate.tests.support.SteadyProducer.Ack;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.protocol.Errors;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static io.spate.tests.support.SpateCluster.log;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A three-node cluster (three node processes, all controller voters) losing a node while a real
 * idempotent {@code acks=all} producer writes at a steady rate: the producer carries on through the
 * new leaders by itself, every acknowledged record is read back exactly once at its acknowledged
 * offset and in send order, and once the node is back every replica holds the same bytes up to
 * the high watermark. Faults: kill -9 of a partition leader, of a follower, of the controller
 * leader; SIGSTOP of a partition leader (and of one that also leads the controller quorum); a
 * leader cut off from both followers and the quorum (acknowledges nothing, loses nothing
 * acknowledged); SIGTERM of a leader (and of the controller leader).
 *
 * <p>The scenarios that fault "a partition leader" pick the partition whose leader is not (or,
 * for the controller variants, is) the controller quorum's leader, so that each scenario hits the
 * same kind of node whatever the previous tests left behind.
 */
class ClusterFailoverTest {
    private static final int PARTITIONS = 3;
    private static final int NODES = 3;
    private static final int RATE = 300;
    /** Records the producer must get acknowledged after a fault: about three seconds of producing. */
    private static final int ACKS_AFTER_FAULT = 3 * RATE;
    private static final Duration FAULT_WAIT = Duration.ofSeconds(30);

    /**
     * One cluster for the class (starting three JVMs on a small machine takes a while); each test
     * writes its own topic, and leaves every node running and in sync, or the cluster is replaced.
     */
    @TempDir
    static Path tmp;
    static SpateCluster cluster;
    static int generation;
    /** Each node's HTTP port, for its {@code /metrics}. */
    static final Map<Integer, Integer> httpPorts = new java.util.HashMap<>();

    /** This test's topic. */
    String topic;

    @BeforeEach
    void ensureClusterAndTopic(TestInfo test) throws Exception {
        String name = test.getTestMethod().orElseThrow().getName();
        if (cluster == null) {
            for (int id = 1; id <= NODES; id++) {
                httpPorts.put(id, SpateProcess.freePort());
            }
            SpateCluster fresh = new SpateCluster(tmp.resolve("cluster-" + generation++), NODES, Map.of(),
                    id -> Map.of("http.port", String.valueOf(httpPorts.get(id))));
            try {
                fresh.start();
            } catch (Exception | AssertionError e) {
                fresh.close();
                throw e;
            }
            cluster = fresh;
        }
        cluster.mark("==== " + name);
        topic = name;
        cluster.createTopic(topic, PARTITIONS, NODES, Map.of("min.insync.replicas", "2", "segment.bytes", "65536"));
        log("topic " + topic + ": " + cluster.describeForHumans(topic));
    }

    /** Every node running, unpaused, registered and in sync again; otherwise a fresh cluster for the next test. */
    @AfterEach
    void restoreCluster() {
        if (cluster == null) {
            return;
        }
        try {
            cluster.restoreAll();
            cluster.awaitFullIsr(topic, PARTITIONS, NODES);
        } catch (Throwable t) {
            log("could not restore the cluster (" + t + "): replacing it");
            cluster.close();
            cluster = null;
        }
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
            cluster = null;
        }
    }

    @Test
    void kill9OfPartitionLeaderUnderProduce() throws Exception {
        Target t = target(false);
        Map<Integer, Integer> leadersBefore = leaders();
        Map<Integer, Double> electionsBefore = new java.util.HashMap<>();
        for (int id : cluster.ids()) {
            electionsBefore.put(id, metric(id, "spate_leader_elections_total"));
        }
        try (SteadyProducer producer = steadyProducer()) {
            awaitAcks(producer, 0, RATE, "warm-up");
            long mark = producer.sent();
            cluster.kill9(t.leader());
            // Over HTTP to a survivor, at once: it first sends them to the dead leader (refused), then
            // to the one elected, or appends them itself; all three in one write wherever.
            int survivor = cluster.ids().stream().filter(id -> id != t.leader()).findFirst().orElseThrow();
            List<Long> httpOffsets = postThree(survivor, t.partition());
            int newLeader = cluster.awaitLeaderOtherThan(topic, t.partition(), t.leader());
            log("partition " + t.partition() + ": leader " + t.leader() + " killed, new leader " + newLeader);
            // The election shows in the new leader's metrics.
            await().atMost(FAULT_WAIT).untilAsserted(() ->
                    assertThat(metric(newLeader, "spate_leader_elections_total")).isGreaterThan(electionsBefore.get(newLeader)));
            awaitAcks(producer, mark, ACKS_AFTER_FAULT, "acks after the leader was killed");
            Map<Integer, Integer> leadersDuring = leaders();
            List<Ack> acks = stop(producer);
            AckVerifier.verify(cluster.bootstrap(), topic, PARTITIONS, acks);
            assertThat(httpOffsets.get(1)).isEqualTo(httpOffsets.get(0) + 1);
            assertThat(httpOffsets.get(2)).isEqualTo(httpOffsets.get(0) + 2);
            try (org.apache.kafka.clients.consumer.KafkaConsumer<String, String> consumer = Clients.consumer(cluster.bootstrap(), Map.of())) {
                List<String> read = Clients.readAll(consumer, List.of(new org.apache.kafka.common.TopicPartition(topic, t.partition()))).stream()
                        .filter(r -> r.value().startsWith("http-")).map(r -> r.offset() + "=" + r.value()).toList();
                assertThat(read).containsExactly(httpOffsets.get(0) + "=http-0", httpOffsets.get(1) + "=http-1", httpOffsets.get(2) + "=http-2");
            }

            cluster.start(t.leader());
            settleAndVerify(acks);
            assertNoSendFailures(producer);
            assertHealthyLeadersKept(leadersBefore, leadersDuring, t.leader());
        }
    }

    /** Three records for {@code partition} through node {@code id}'s HTTP API, acks=all: their offsets. */
    private List<Long> postThree(int id, int partition) throws Exception {
        String body = "{\"value\": \"http-0\", \"partition\": " + partition + "}\n{\"value\": \"http-1\", \"partition\": " + partition
                + "}\n{\"value\": \"http-2\", \"partition\": " + partition + "}\n";
        try (java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient()) {
            java.net.http.HttpResponse<String> answer = http.send(java.net.http.HttpRequest.newBuilder(
                            java.net.URI.create("http://127.0.0.1:" + httpPorts.get(id) + "/topics/" + topic + "/records?acks=all&timeout_ms=30000"))
                    .header("Content-Type", "application/x-ndjson").POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
            List<Long> offsets = new ArrayList<>();
            for (com.fasterxml.jackson.databind.JsonNode o : new com.fasterxml.jackson.databind.ObjectMapper().readTree(answer.body()).get("offsets")) {
                offsets.add(o.get("offset").asLong());
            }
            return offsets;
        }
    }

    @Test
    void kill9OfFollowerUnderProduce() throws Exception {
        Target t = target(false);
        // the replica of the partition that neither leads it nor leads the controller quorum
        int follower = cluster.partitionInfo(topic, t.partition()).replicas().stream().map(Node::id)
                .filter(id -> id != t.leader() && id != t.controller()).findFirst().orElseThrow();
        Map<Integer, Integer> leadersBefore = leaders();
        Map<Integer, Integer> leadersDuring;
        double shrinksBefore = metric(t.leader(), "spate_isr_shrinks_total");
        double expandsBefore = metric(t.leader(), "spate_isr_expands_total");
        try (SteadyProducer producer = steadyProducer()) {
            awaitAcks(producer, 0, RATE, "warm-up");
            long mark = producer.sent();
            cluster.kill9(follower);
            awaitAcks(producer, mark, ACKS_AFTER_FAULT, "acks after follower " + follower + " was killed");
            leadersDuring = leaders();
            // The leader dropped the dead follower from the in-sync set, and its metrics say so.
            assertThat(metric(t.leader(), "spate_isr_shrinks_total")).isGreaterThan(shrinksBefore);
            await().atMost(FAULT_WAIT).untilAsserted(() -> assertThat(metric(t.leader(), "spate_partitions_under_replicated")).isPositive());

            cluster.start(follower);
            long restarted = producer.sent();
            // the follower catches up while the producer keeps writing
            cluster.awaitFullIsr(topic, PARTITIONS, NODES);
            assertThat(metric(t.leader(), "spate_isr_expands_total")).isGreaterThan(expandsBefore);
            awaitAcks(producer, restarted, RATE, "acks after follower " + follower + " came back");
            List<Ack> acks = stop(producer);
            settleAndVerify(acks);
            assertNoSendFailures(producer);
        }
        assertHealthyLeadersKept(leadersBefore, leadersDuring, follower);
    }

    @Test
    void kill9OfControllerLeaderUnderProduce() throws Exception {
        Target t = target(true);
        int controller = t.controller();
        Map<Integer, Integer> leadersBefore = leaders();
        try (SteadyProducer producer = steadyProducer()) {
            awaitAcks(producer, 0, RATE, "warm-up");
            long mark = producer.sent();
            cluster.kill9(controller);
            int newController = await("a new controller leader").atMost(FAULT_WAIT).ignoreExceptions()
                    .until(cluster::controller, c -> c.isPresent() && c.get() != controller).orElseThrow();
            log("controller " + controller + " killed, new controller " + newController);
            awaitAcks(producer, mark, ACKS_AFTER_FAULT, "acks after the controller leader was killed");
            Map<Integer, Integer> leadersDuring = leaders();
            List<Ack> acks = stop(producer);
            AckVerifier.verify(cluster.bootstrap(), topic, PARTITIONS, acks);

            cluster.start(controller);
            settleAndVerify(acks);
            assertNoSendFailures(producer);
            assertHealthyLeadersKept(leadersBefore, leadersDuring, controller);
        }
    }

    /** The paused node leads a partition but not the controller quorum. */
    @Test
    void pausedLeaderIsReplacedAndRejoinsAsFollower() throws Exception {
        pauseLeaderUnderProduce(target(false));
    }

    /** The paused node leads a partition and the controller quorum. */
    @Test
    void pausedControllerAndLeaderIsReplacedAndRejoinsAsFollower() throws Exception {
        pauseLeaderUnderProduce(target(true));
    }

    private void pauseLeaderUnderProduce(Target t) throws Exception {
        Map<Integer, Integer> leadersBefore = leaders();
        try (SteadyProducer producer = steadyProducer()) {
            awaitAcks(producer, 0, RATE, "warm-up");
            long mark = producer.sent();
            long pausedAt = System.nanoTime();
            cluster.pause(t.leader());
            int newLeader = cluster.awaitLeaderOtherThan(topic, t.partition(), t.leader());
            log("partition " + t.partition() + ": leader " + t.leader() + " paused, new leader " + newLeader);
            awaitAcks(producer, mark, ACKS_AFTER_FAULT, "acks while the old leader is paused");
            Map<Integer, Integer> leadersDuring = leaders();
            // The fault's length (well beyond the 1 s session timeout), not a wait for a condition.
            long left = Duration.ofSeconds(4).toNanos() - (System.nanoTime() - pausedAt);
            if (left > 0) {
                TimeUnit.NANOSECONDS.sleep(left);
            }
            long resumedMark = producer.sent();
            cluster.resume(t.leader());
            // The old leader learns it was replaced and follows, while the producer writes on.
            cluster.awaitFullIsr(topic, PARTITIONS, NODES);
            awaitAcks(producer, resumedMark, RATE, "acks after the old leader resumed");
            log("after resume: " + cluster.describeForHumans(topic));
            List<Ack> acks = stop(producer);
            settleAndVerify(acks);
            assertNoSendFailures(producer);
            assertHealthyLeadersKept(leadersBefore, leadersDuring, t.leader());
        }
    }

    /** As the brief has it: one batch, request timeout 1 s, delivery timeout 3 s. */
    @Test
    void leaderCutOffFromQuorumAndFollowersAcknowledgesNothing() throws Exception {
        cutOffLeaderUnderAcksAll(1_000, 3_000, 1, false);
    }

    /**
     * Requests time out (and are retried, with the same producer sequence numbers) well inside
     * the second the cut-off leader still believes it leads; several batches, one after another.
     */
    @Test
    void leaderCutOffFromQuorumAndFollowersAcknowledgesNoRetriedBatch() throws Exception {
        cutOffLeaderUnderAcksAll(200, 1_500, 4, false);
    }

    /** As above, then the cut-off leader dies before the others come back: nothing acknowledged may be lost. */
    @Test
    void writesAcknowledgedByACutOffLeaderSurviveItsDeath() throws Exception {
        cutOffLeaderUnderAcksAll(200, 1_500, 4, true);
    }

    /**
     * Each round of a cut-off lasts {@code deliveryTimeoutMs} (nothing is acknowledged): 1.5 s for the rounds of 200 ms
     * requests still spans the first second of the cut-off, in which the leader may still believe it leads, with
     * several retries in it.
     */
    private void cutOffLeaderUnderAcksAll(int requestTimeoutMs, int deliveryTimeoutMs, int rounds, boolean killLeader) throws Exception {
        Target t = target(false);
        int partition = t.partition();
        int leader = t.leader();
        List<Integer> others = cluster.ids().stream().filter(id -> id != leader).toList();
        List<Ack> acks;
        try (SteadyProducer producer = steadyProducer()) {
            awaitAcks(producer, 0, 2L * RATE, "before the cut-off");
            acks = new ArrayList<>(stop(producer));
            assertNoSendFailures(producer);
        }

        Map<String, Object> cutOffConfig = Map.of(
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, deliveryTimeoutMs,
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, requestTimeoutMs,
                ProducerConfig.RETRY_BACKOFF_MS_CONFIG, 50,
                ProducerConfig.LINGER_MS_CONFIG, 5,
                ProducerConfig.MAX_BLOCK_MS_CONFIG, 3_000);
        List<String> acknowledgedDuringCutOff = new ArrayList<>();
        boolean resumed = false;
        try (KafkaProducer<String, String> cutOff = Clients.producer(cluster.bootstrap(leader), cutOffConfig)) {
            // producer id and metadata first, while the cluster is whole: the cut-off is about the write
            String warmValue = "cutoff-warm-up";
            RecordMetadata warm = cutOff.send(new ProducerRecord<>(topic, partition, "w", warmValue)).get(30, TimeUnit.SECONDS);
            acks.add(new Ack(-1, partition, -1, warm.offset(), warmValue));

            for (int id : others) {
                cluster.pause(id);
            }
            log("nodes " + others + " paused; leader " + leader + " of partition " + partition + " is cut off");
            Map<String, Integer> errors = new java.util.TreeMap<>();
            int perRound = 20 / rounds;
            for (int round = 0; round < rounds; round++) {
                // a round is sent once the previous one is done: later batches reach no follower fetch
                List<Future<RecordMetadata>> futures = new ArrayList<>();
                for (int i = 0; i < perRound; i++) {
                    futures.add(cutOff.send(new ProducerRecord<>(topic, partition, "c", "cutoff-" + round + "-" + i)));
                }
                for (int i = 0; i < futures.size(); i++) {
                    try {
                        RecordMetadata meta = futures.get(i).get(60, TimeUnit.SECONDS);
                        acknowledgedDuringCutOff.add("cutoff-" + round + "-" + i + "@" + meta.offset());
                        acks.add(new Ack(-1, partition, -1, meta.offset(), "cutoff-" + round + "-" + i));
                    } catch (ExecutionException expected) {
                        errors.merge(String.valueOf(expected.getCause()), 1, Integer::sum);
                    }
                }
            }
            log("during the cut-off: acknowledged " + acknowledgedDuringCutOff + "; failed " + errors);
            if (killLeader) {
                cluster.kill9(leader);
            }
            for (int id : others) {
                cluster.resume(id);
            }
            resumed = true;
        } finally {
            if (!resumed) {
                for (int id : others) {
                    cluster.resume(id);
                }
            }
        }

        if (killLeader) {
            int newLeader = cluster.awaitLeaderOtherThan(topic, partition, leader);
            log("partition " + partition + ": cut-off leader " + leader + " killed, new leader " + newLeader + "; "
                    + cluster.describeForHumans(topic));
            // What the survivors serve must hold every acknowledged record, once two of them are in
            // sync again: below min.insync.replicas the high watermark stands still (KIP-966), so a
            // survivor leading alone may not yet show records its own high watermark had not reached.
            await("two survivors in sync on every partition").atMost(SpateCluster.SETTLE).ignoreExceptions().untilAsserted(() ->
                    assertThat(cluster.describe(topic).partitions()).allSatisfy(p -> assertThat(p.isr()).hasSizeGreaterThanOrEqualTo(2)));
            AckVerifier.verify(cluster.bootstrap(), topic, PARTITIONS, acks);
            cluster.start(leader);
        }
        cluster.awaitFullIsr(topic, PARTITIONS, NODES);
        log("after the cut-off: " + cluster.describeForHumans(topic));
        try (KafkaProducer<String, String> after = Clients.producer(cluster.bootstrap(), SteadyProducer.defaults())) {
            RecordMetadata meta = after.send(new ProducerRecord<>(topic, partition, "a", "after-cutoff")).get(60, TimeUnit.SECONDS);
            acks.add(new Ack(-1, partition, -1, meta.offset(), "after-cutoff"));
        }
        // Acknowledgements taken during the cut-off are checked for durability too, then refused.
        settleAndVerify(acks);
        assertThat(acknowledgedDuringCutOff)
                .as("acks=all writes acknowledged by leader %d of partition %d while it could reach neither its followers nor the quorum",
                        leader, partition)
                .isEmpty();
    }

    /** The stopped node leads a partition but not the controller quorum. */
    @Test
    void sigtermOfLeaderUnderProduceLosesNoSend() throws Exception {
        sigtermLeaderUnderProduce(target(false));
    }

    /** The stopped node leads a partition and the controller quorum. */
    @Test
    void sigtermOfControllerAndLeaderUnderProduceLosesNoSend() throws Exception {
        sigtermLeaderUnderProduce(target(true));
    }

    private void sigtermLeaderUnderProduce(Target t) throws Exception {
        Map<Integer, Integer> leadersBefore = leaders();
        try (SteadyProducer producer = steadyProducer()) {
            awaitAcks(producer, 0, RATE, "warm-up");
            long mark = producer.sent();
            int exit = cluster.stop(t.leader());
            assertThat(exit).as("exit status after SIGTERM").isIn(0, 143);
            int newLeader = cluster.awaitLeaderOtherThan(topic, t.partition(), t.leader());
            log("partition " + t.partition() + ": leader " + t.leader() + " stopped, new leader " + newLeader);
            awaitAcks(producer, mark, ACKS_AFTER_FAULT, "acks after the leader stopped");
            Map<Integer, Integer> leadersDuring = leaders();
            List<Ack> acks = stop(producer);
            assertNoSendFailures(producer);
            AckVerifier.verify(cluster.bootstrap(), topic, PARTITIONS, acks);

            cluster.start(t.leader());
            settleAndVerify(acks);
            assertHealthyLeadersKept(leadersBefore, leadersDuring, t.leader());
        }
    }

    /**
     * A leader paused past its session and replaced, then resumed: requests that waited in its
     * socket are read before its heartbeat thread has run. Answered from its stale log, a fetch at an
     * offset the new leader has already written is "out of range", and a consumer with
     * {@code auto.offset.reset=earliest} goes back to offset 0 (fault campaign 4, seed 3014); the
     * log end it gives a ListOffsets is already behind. It must send both to the new leader.
     */
    @Test
    void aResumedLeaderSendsClientsToTheNewLeaderBeforeItKnowsItWasReplaced() throws Exception {
        Target t = target(false);
        int partition = t.partition();
        int old = t.leader();
        String survivor = cluster.bootstrap(cluster.ids().stream().filter(id -> id != old).findFirst().orElseThrow());
        int before = 50;
        int during = 200;
        long firstOffset;
        // Its sends after the pause first go to the paused old leader (the producer's metadata still names it): as
        // the steady producer's, its requests there are given up after 3 s, not the client's default 30 s, and
        // retried at the new leader (with the same sequence numbers) while the old one is still paused.
        try (KafkaProducer<String, String> producer = Clients.producer(survivor, Map.of(ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 3_000))) {
            firstOffset = producer.send(new ProducerRecord<>(topic, partition, "k", "before-0")).get(30, TimeUnit.SECONDS).offset();
            for (int i = 1; i < before; i++) {
                producer.send(new ProducerRecord<>(topic, partition, "k", "before-" + i));
            }
            producer.flush();
            try (org.apache.kafka.clients.consumer.KafkaConsumer<String, String> probe = Clients.consumer(survivor, Map.of())) {
                var tp = new org.apache.kafka.common.TopicPartition(topic, partition);
                await("the first records in sync on all three").atMost(FAULT_WAIT)
                        .until(() -> cluster.partitionInfo(topic, partition).isr().size() == NODES
                                && probe.endOffsets(List.of(tp)).get(tp) == firstOffset + before);
            }
            try (io.spate.tests.support.RawKafkaClient raw = new io.spate.tests.support.RawKafkaClient(cluster.bootstrap(old))) {
                cluster.pause(old);
                int newLeader = cluster.awaitLeaderOtherThan(topic, partition, old);
                for (int i = 0; i < during; i++) {
                    producer.send(new ProducerRecord<>(topic, partition, "k", "during-" + i));
                }
                producer.flush();
                long newEnd = firstOffset + before + during;
                log("partition " + partition + ": leader " + old + " paused, node " + newLeader + " leads and holds up to " + newEnd);

                // Queued while the old leader is stopped: it reads them the moment it runs again.
                long beyondOldEnd = newEnd - 1;
                List<org.apache.kafka.common.requests.AbstractRequest> queued = new ArrayList<>();
                for (int i = 0; i < 5; i++) {
                    queued.add(consumerFetch(topic, partition, beyondOldEnd));
                    queued.add(latestOffset(topic, partition));
                }
                for (var request : queued) {
                    raw.write(request);
                }
                cluster.resume(old);
                for (var request : queued) {
                    if (request instanceof org.apache.kafka.common.requests.FetchRequest) {
                        org.apache.kafka.common.requests.FetchResponse response = raw.read(request);
                        var answer = response.data().responses().get(0).partitions().get(0);
                        log("resumed old leader, fetch at " + beyondOldEnd + ": " + Errors.forCode(answer.errorCode()) + " (high watermark " + answer.highWatermark() + ")");
                        assertThat(Errors.forCode(answer.errorCode())).as("the resumed old leader's answer to a fetch at %d", beyondOldEnd)
                                .isIn(Errors.NOT_LEADER_OR_FOLLOWER, Errors.FENCED_LEADER_EPOCH, Errors.UNKNOWN_LEADER_EPOCH);
                    } else {
                        org.apache.kafka.common.requests.ListOffsetsResponse response = raw.read(request);
                        var answer = response.data().topics().get(0).partitions().get(0);
                        log("resumed old leader, latest offset: " + Errors.forCode(answer.errorCode()) + " " + answer.offset());
                        assertThat(Errors.forCode(answer.errorCode())).as("the resumed old leader's answer to ListOffsets(latest)")
                                .isEqualTo(Errors.NOT_LEADER_OR_FOLLOWER);
                    }
                }
            }
        }
    }

    /**
     * A node that lost the controller (the other two are stopped) leaves itself out of the
     * metadata it serves, and its leaderships with it: Kafka clients refresh metadata from the node
     * they are connected to, and one that keeps naming itself leader held them for the whole of a
     * cut-off (fault campaign 4, seed 3000). Once it hears the controller again it is back.
     */
    @Test
    void aNodeThatLostTheControllerLeavesItselfOutOfTheMetadataItServes() throws Exception {
        Target t = target(false);
        int node = t.leader();
        List<Integer> others = cluster.ids().stream().filter(id -> id != node).toList();
        try (io.spate.tests.support.RawKafkaClient raw = new io.spate.tests.support.RawKafkaClient(cluster.bootstrap(node))) {
            // The starting point: the node under its lease (an earlier test's faults may have lapsed it a moment ago).
            await("node " + node + " naming itself").atMost(FAULT_WAIT).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
                var before = metadata(raw);
                assertThat(before.data().brokers().find(node)).as("node %d among the brokers it names", node).isNotNull();
                assertThat(before.data().topics().find(topic).partitions().get(t.partition()).leaderId()).isEqualTo(node);
            });
            for (int id : others) {
                cluster.pause(id);
            }
            log("nodes " + others + " paused; node " + node + " has lost the controller");
            await("node " + node + " leaving itself out of its metadata").atMost(FAULT_WAIT).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
                var during = metadata(raw);
                assertThat(during.data().brokers().find(node)).as("node %d among the brokers it names", node).isNull();
                var partition = during.data().topics().find(topic).partitions().get(t.partition());
                assertThat(during.data().topics().find(topic).partitions()).allSatisfy(p -> assertThat(p.leaderId()).isEqualTo(-1));
                assertThat(Errors.forCode(partition.errorCode())).isEqualTo(Errors.LEADER_NOT_AVAILABLE);
            });
            for (int id : others) {
                cluster.resume(id);
            }
            await("node " + node + " naming itself again").atMost(FAULT_WAIT).pollInterval(Duration.ofMillis(100))
                    .until(() -> metadata(raw).data().brokers().find(node) != null);
        }
    }

    private org.apache.kafka.common.requests.MetadataResponse metadata(io.spate.tests.support.RawKafkaClient raw) throws java.io.IOException {
        return raw.send(new org.apache.kafka.common.requests.MetadataRequest.Builder(List.of(topic), false).build((short) 12));
    }

    /** A consumer's fetch (version 12, as a client that knows nothing of the new leader sends it). */
    private static org.apache.kafka.common.requests.FetchRequest consumerFetch(String topic, int partition, long offset) {
        var data = new org.apache.kafka.common.message.FetchRequestData().setReplicaId(-1).setMaxWaitMs(0).setMinBytes(0)
                .setMaxBytes(1 << 20).setSessionId(0).setSessionEpoch(-1).setIsolationLevel((byte) 0)
                .setTopics(List.of(new org.apache.kafka.common.message.FetchRequestData.FetchTopic().setTopic(topic).setPartitions(List.of(
                        new org.apache.kafka.common.message.FetchRequestData.FetchPartition().setPartition(partition).setFetchOffset(offset)
                                .setPartitionMaxBytes(1 << 20).setCurrentLeaderEpoch(-1).setLogStartOffset(-1).setLastFetchedEpoch(-1)))));
        return new org.apache.kafka.common.requests.FetchRequest(data, (short) 12);
    }

    private static org.apache.kafka.common.requests.ListOffsetsRequest latestOffset(String topic, int partition) {
        var topics = List.of(new org.apache.kafka.common.message.ListOffsetsRequestData.ListOffsetsTopic().setName(topic)
                .setPartitions(List.of(new org.apache.kafka.common.message.ListOffsetsRequestData.ListOffsetsPartition()
                        .setPartitionIndex(partition).setTimestamp(org.apache.kafka.common.requests.ListOffsetsRequest.LATEST_TIMESTAMP)
                        .setCurrentLeaderEpoch(-1))));
        return org.apache.kafka.common.requests.ListOffsetsRequest.Builder
                .forConsumer(false, org.apache.kafka.common.IsolationLevel.READ_UNCOMMITTED).setTargetTimes(topics).build((short) 7);
    }

    // ---- helpers --------------------------------------------------------------------------------

    /** A partition, its leader, and the controller leader at the time. */
    /** A sample's value in node {@code id}'s {@code /metrics} (0 when the node has no such sample yet). */
    private static double metric(int id, String sample) throws Exception {
        try (java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient()) {
            java.net.http.HttpResponse<String> answer = http.send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + httpPorts.get(id) + "/metrics")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(answer.statusCode()).isEqualTo(200);
            for (String line : answer.body().split("\n")) {
                if (line.startsWith(sample + " ")) {
                    return Double.parseDouble(line.substring(sample.length() + 1).split(" ")[0]);
                }
            }
            return 0;
        }
    }

    record Target(int partition, int leader, int controller) {
    }

    /**
     * A partition whose leader is ({@code controller}) or is not the controller quorum's leader (of
     * those, the one with the lowest node id), so that each scenario hits the same kind of node
     * whatever earlier tests did to the cluster.
     */
    private Target target(boolean controller) {
        Target t = await("a partition whose leader " + (controller ? "is" : "is not") + " the controller").atMost(FAULT_WAIT)
                .ignoreExceptions().until(() -> {
                    int c = cluster.controller().orElseThrow();
                    Target best = null;
                    for (int p = 0; p < PARTITIONS; p++) {
                        int leader = cluster.leader(topic, p).orElseThrow();
                        if ((leader == c) == controller && (best == null || leader < best.leader())) {
                            best = new Target(p, leader, c);
                        }
                    }
                    return best;
                }, java.util.Objects::nonNull);
        log("target: " + t + "; " + cluster.describeForHumans(topic));
        return t;
    }

    private SteadyProducer steadyProducer() {
        return new SteadyProducer(cluster.bootstrap(), topic, PARTITIONS, RATE, Map.of()).start();
    }

    /** At least {@code count} acks for records from {@code from} on, with some on every partition. */
    private void awaitAcks(SteadyProducer producer, long from, long count, String what) {
        try {
            await(what).atMost(FAULT_WAIT).pollInterval(Duration.ofMillis(50))
                    .until(() -> producer.ackedOnEveryPartitionFrom(from) && producer.ackedFrom(from) >= count);
        } catch (ConditionTimeoutException e) {
            throw new AssertionError(what + ": only " + producer.ackedFrom(from) + " of " + count + " acks for records from global "
                    + from + " (sent " + producer.sent() + "), " + producer.failureSummary() + "; " + cluster.describeForHumans(topic), e);
        }
    }

    private static List<Ack> stop(SteadyProducer producer) throws InterruptedException {
        producer.stop();
        List<Ack> acks = producer.acks();
        log("producer stopped: sent " + producer.sent() + ", acknowledged " + acks.size() + ", " + producer.failureSummary());
        return acks;
    }

    private static void assertNoSendFailures(SteadyProducer producer) {
        assertThat(producer.failures()).as("send failures: %s", producer.failureSummary()).isEmpty();
    }

    /** The leader of every partition of this test's topic (awaiting one for each). */
    private Map<Integer, Integer> leaders() {
        Map<Integer, Integer> leaders = new java.util.TreeMap<>();
        for (int p = 0; p < PARTITIONS; p++) {
            leaders.put(p, cluster.awaitLeader(topic, p));
        }
        return leaders;
    }

    /**
     * Checked last, after the scenario's own checks: a fault on one node moves the leadership of
     * the partitions that node led, and of no other (as in Kafka, whose controller failover leaves
     * partition leaders alone).
     */
    private void assertHealthyLeadersKept(Map<Integer, Integer> before, Map<Integer, Integer> during, int faulted) {
        log("leaders before the fault on node " + faulted + ": " + before + ", during: " + during);
        for (Map.Entry<Integer, Integer> e : before.entrySet()) {
            if (e.getValue() != faulted) {
                assertThat(during.get(e.getKey()))
                        .as("leader of partition %d (led by healthy node %d before the fault on node %d); leaders before %s, during %s",
                                e.getKey(), e.getValue(), faulted, before, during)
                        .isEqualTo(e.getValue());
            }
        }
    }

    /** Every replica back in sync; every ack read back; every replica's log the same bytes up to the high watermark. */
    private void settleAndVerify(List<Ack> acks) {
        cluster.awaitFullIsr(topic, PARTITIONS, NODES);
        log("settled: " + cluster.describeForHumans(topic));
        AckVerifier.Read read = AckVerifier.verify(cluster.bootstrap(), topic, PARTITIONS, acks);
        ReplicaFiles.assertReplicasAgree(cluster, topic, read.endOffsets());
    }
}
