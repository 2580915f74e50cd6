package io.spate.processing;

import io.spate.replication.ParkedReads;
import io.spate.replication.Partition;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.TopicPartition;

import java.util.function.Function;
import java.util.function.Supplier;

/**
 * What a task needs of its node: the node's own listener (for the clients it writes with), the
 * partitions it holds a replica of (read in place), a way to wait for them to grow, and the
 * pipeline's at-least-once producer (shared by its tasks on this node).
 *
 * @param localPartition the replica this node holds of a partition, or null
 * @param producerFactory makes a producer with the given extra settings (transactional ones, exactly-once)
 * @param stateDir        where tasks keep stores on disk ({@code state.store=rocksdb}), a directory per task under it
 * @param tables          where {@code toTable} writes go
 */
record TaskEnvironment(int nodeId, String bootstrap, Function<TopicPartition, Partition> localPartition, ParkedReads parkedReads,
                       Producer<byte[], byte[]> sharedProducer,
                       Function<java.util.Map<String, Object>, Producer<byte[], byte[]>> producerFactory,
                       Supplier<Long> clock, java.nio.file.Path stateDir, TableWrites tables) {
}
