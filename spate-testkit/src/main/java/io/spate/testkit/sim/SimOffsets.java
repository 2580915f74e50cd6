package io.spate.testkit.sim;

import io.spate.coordinator.CoordinatorResult;
import io.spate.coordinator.CoordinatorShard;
import io.spate.coordinator.RecordSerde;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A small coordinator shard for the simulation: committed offsets per group, the part of the
 * group coordinator whose promise is easiest to check (an acknowledged commit is never lost, so
 * a group's committed offset never goes back). It runs on the real coordinator runtime, over a
 * replicated topic, on every simulated node.
 */
final class SimOffsets implements CoordinatorShard<SimOffsets.Commit> {
    static final String TOPIC = "sim-offsets";

    /** A group's committed offset. */
    record Commit(String group, long offset) {
    }

    private final Map<String, Long> offsets = new HashMap<>();

    @Override
    public void replay(Commit record) {
        offsets.put(record.group(), record.offset());
    }

    CoordinatorResult<Commit, Long> commit(String group, long offset) {
        return CoordinatorResult.of(List.of(new Commit(group, offset)), offset);
    }

    /** The committed offset of {@code group}, -1 when it has none. */
    long committed(String group) {
        return offsets.getOrDefault(group, -1L);
    }

    static final RecordSerde<Commit> SERDE = new RecordSerde<>() {
        @Override
        public byte[] key(Commit record) {
            return record.group().getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public byte[] value(Commit record) {
            return ByteBuffer.allocate(8).putLong(record.offset()).array();
        }

        @Override
        public Commit read(ByteBuffer key, ByteBuffer value) {
            return value == null ? null : new Commit(StandardCharsets.UTF_8.decode(key).toString(), value.getLong());
        }
    };
}
