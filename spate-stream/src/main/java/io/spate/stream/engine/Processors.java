package io.spate.stream.engine;

import io.spate.stream.Aggregator;
import io.spate.stream.EmitMode;
import io.spate.stream.ForeachAction;
import io.spate.stream.Initializer;
import io.spate.stream.KeyValue;
import io.spate.stream.KeyValueMapper;
import io.spate.stream.Merger;
import io.spate.stream.Predicate;
import io.spate.stream.Serde;
import io.spate.stream.ValueJoiner;
import io.spate.stream.ValueMapper;
import io.spate.stream.Windowed;
import io.spate.stream.store.Bytes;
import io.spate.stream.store.KeyValueStore;
import io.spate.stream.store.SessionStore;
import io.spate.stream.store.WindowStore;

import java.util.ArrayList;
import java.util.List;

/** The runtime operators. Functions are held as {@code <Object, Object>}: the DSL checked the types. */
final class Processors {
    private Processors() {
    }

    static final class Source extends ProcessorNode implements ProcessorNode.InputNode {
        private final Serde<Object> keySerde;
        private final Serde<Object> valueSerde;

        Source(String name, Serde<Object> keySerde, Serde<Object> valueSerde) {
            super(name);
            this.keySerde = keySerde;
            this.valueSerde = valueSerde;
        }

        @Override
        public void processInput(InputRecord r) {
            forward(keySerde.deserialize(r.key()), valueSerde.deserialize(r.value()), r.timestamp());
        }

        @Override
        public boolean movesStreamTime() {
            return true;
        }

        @Override
        void process(Object key, Object value, long ts) {
            throw new IllegalStateException("a source reads only its topic");
        }
    }

    /** A table's topic into its store: keyed by the record's key bytes as they are; a null value deletes. */
    static final class TableSource extends ProcessorNode implements ProcessorNode.InputNode {
        private final Serde<Object> keySerde;
        private final Serde<Object> valueSerde;
        private final KeyValueStore<Object> store;
        final TaskContext ctx;

        TableSource(String name, TaskContext ctx, String storeName, Serde<Object> keySerde, Serde<Object> valueSerde) {
            super(name);
            this.ctx = ctx;
            this.keySerde = keySerde;
            this.valueSerde = valueSerde;
            this.store = ctx.store(storeName);
        }

        @Override
        public void processInput(InputRecord r) {
            if (r.key() == null) {
                ctx.nullRecordsDropped++;
                return;
            }
            Object value = valueSerde.deserialize(r.value());
            store.put(Bytes.wrap(r.key()), value);
            if (children.length > 0) {
                forward(keySerde.deserialize(r.key()), value, r.timestamp());
            }
        }

        @Override
        public boolean movesStreamTime() {
            return children.length > 0;
        }

        @Override
        void process(Object key, Object value, long ts) {
            throw new IllegalStateException("a table source reads only its topic");
        }
    }

    static final class PassThrough extends ProcessorNode {
        PassThrough(String name) {
            super(name);
        }

        @Override
        void process(Object key, Object value, long ts) {
            forward(key, value, ts);
        }
    }

    static final class Filter extends ProcessorNode {
        private final Predicate<Object, Object> predicate;
        private final boolean keep;

        Filter(String name, Predicate<Object, Object> predicate, boolean keep) {
            super(name);
            this.predicate = predicate;
            this.keep = keep;
        }

        @Override
        void process(Object key, Object value, long ts) {
            if (predicate.test(key, value) == keep) {
                forward(key, value, ts);
            }
        }
    }

    static final class Map extends ProcessorNode {
        private final KeyValueMapper<Object, Object, KeyValue<Object, Object>> mapper;

        Map(String name, KeyValueMapper<Object, Object, KeyValue<Object, Object>> mapper) {
            super(name);
            this.mapper = mapper;
        }

        @Override
        void process(Object key, Object value, long ts) {
            KeyValue<Object, Object> kv = mapper.apply(key, value);
            forward(kv.key(), kv.value(), ts);
        }
    }

    static final class KeyBy extends ProcessorNode {
        private final KeyValueMapper<Object, Object, Object> mapper;

        KeyBy(String name, KeyValueMapper<Object, Object, Object> mapper) {
            super(name);
            this.mapper = mapper;
        }

        @Override
        void process(Object key, Object value, long ts) {
            forward(mapper.apply(key, value), value, ts);
        }
    }

    static final class MapValues extends ProcessorNode {
        private final ValueMapper<Object, Object> mapper;

        MapValues(String name, ValueMapper<Object, Object> mapper) {
            super(name);
            this.mapper = mapper;
        }

        @Override
        void process(Object key, Object value, long ts) {
            forward(key, mapper.apply(value), ts);
        }
    }

    static final class FlatMap extends ProcessorNode {
        private final KeyValueMapper<Object, Object, Iterable<KeyValue<Object, Object>>> mapper;

        FlatMap(String name, KeyValueMapper<Object, Object, Iterable<KeyValue<Object, Object>>> mapper) {
            super(name);
            this.mapper = mapper;
        }

        @Override
        void process(Object key, Object value, long ts) {
            for (KeyValue<Object, Object> kv : mapper.apply(key, value)) {
                forward(kv.key(), kv.value(), ts);
            }
        }
    }

    static final class FlatMapValues extends ProcessorNode {
        private final ValueMapper<Object, Iterable<Object>> mapper;

        FlatMapValues(String name, ValueMapper<Object, Iterable<Object>> mapper) {
            super(name);
            this.mapper = mapper;
        }

        @Override
        void process(Object key, Object value, long ts) {
            for (Object v : mapper.apply(value)) {
                forward(key, v, ts);
            }
        }
    }

    static final class Peek extends ProcessorNode {
        private final ForeachAction<Object, Object> action;

        Peek(String name, ForeachAction<Object, Object> action) {
            super(name);
            this.action = action;
        }

        @Override
        void process(Object key, Object value, long ts) {
            action.apply(key, value);
            forward(key, value, ts);
        }
    }

    /** Children are the branches, in predicate order. */
    static final class Branch extends ProcessorNode {
        private final Predicate<Object, Object>[] predicates;

        Branch(String name, Predicate<Object, Object>[] predicates) {
            super(name);
            this.predicates = predicates;
        }

        @Override
        void process(Object key, Object value, long ts) {
            for (int i = 0; i < predicates.length; i++) {
                if (predicates[i].test(key, value)) {
                    children[i].process(key, value, ts);
                    return;
                }
            }
        }
    }

    /** To an external topic: by key, or to the task's partition when the key is null or {@code toTask}. */
    static final class Sink extends ProcessorNode {
        private final TaskContext ctx;
        private final String topic;
        private final Serde<Object> keySerde;
        private final Serde<Object> valueSerde;
        private final boolean toTask;

        Sink(String name, TaskContext ctx, String topic, Serde<Object> keySerde, Serde<Object> valueSerde, boolean toTask) {
            super(name);
            this.ctx = ctx;
            this.topic = topic;
            this.keySerde = keySerde;
            this.valueSerde = valueSerde;
            this.toTask = toTask;
        }

        @Override
        void process(Object key, Object value, long ts) {
            byte[] k = keySerde.serialize(key);
            ctx.send(topic, k == null || toTask ? ctx.partition : Output.BY_KEY, k, valueSerde.serialize(value), ts);
        }
    }

    /** To a Spate table: the key's latest value, null deleting it; a record without a key names no row and is dropped. */
    static final class TableSink extends ProcessorNode {
        private final TaskContext ctx;
        private final String table;
        private final Serde<Object> keySerde;
        private final Serde<Object> valueSerde;

        TableSink(String name, TaskContext ctx, String table, Serde<Object> keySerde, Serde<Object> valueSerde) {
            super(name);
            this.ctx = ctx;
            this.table = table;
            this.keySerde = keySerde;
            this.valueSerde = valueSerde;
        }

        @Override
        void process(Object key, Object value, long ts) {
            byte[] k = key == null ? null : keySerde.serialize(key);
            if (k == null) {
                ctx.nullRecordsDropped++;
                return;
            }
            ctx.writeTable(table, k, value == null ? null : valueSerde.serialize(value), ts);
        }
    }

    /** To a repartition topic, by key; a record without a key cannot be placed and is dropped. */
    static final class RepartitionSink extends ProcessorNode {
        private final TaskContext ctx;
        private final String topic;
        private final Serde<Object> keySerde;
        private final Serde<Object> valueSerde;

        RepartitionSink(String name, TaskContext ctx, String topic, Serde<Object> keySerde, Serde<Object> valueSerde) {
            super(name);
            this.ctx = ctx;
            this.topic = topic;
            this.keySerde = keySerde;
            this.valueSerde = valueSerde;
        }

        @Override
        void process(Object key, Object value, long ts) {
            byte[] k = key == null ? null : keySerde.serialize(key);
            if (k == null) {
                ctx.nullRecordsDropped++;
                return;
            }
            ctx.send(topic, Output.BY_KEY, k, valueSerde.serialize(value), ts);
        }
    }

    static final class StreamTableJoin extends ProcessorNode {
        private final TaskContext ctx;
        private final KeyValueStore<Object> table;
        private final Serde<Object> tableKeySerde;
        private final ValueJoiner<Object, Object, Object> joiner;
        private final boolean left;

        StreamTableJoin(String name, TaskContext ctx, String tableStore, Serde<Object> tableKeySerde, ValueJoiner<Object, Object, Object> joiner,
                        boolean left) {
            super(name);
            this.ctx = ctx;
            this.table = ctx.store(tableStore);
            this.tableKeySerde = tableKeySerde;
            this.joiner = joiner;
            this.left = left;
        }

        @Override
        void process(Object key, Object value, long ts) {
            if (value == null) {
                // A null value is no event to join (Kafka Streams drops it too): a left join's null
                // stands for a missing table value, and the joiner would be handed nothing to join.
                ctx.nullRecordsDropped++;
                return;
            }
            Object other = null;
            if (key != null) {
                other = table.get(Bytes.wrap(tableKeySerde.serialize(key)));
            } else if (!left) {
                ctx.nullRecordsDropped++;
                return;
            }
            if (other == null && !left) {
                return;
            }
            forward(key, joiner.apply(value, other), ts);
        }
    }

    /**
     * One side of a table-table join: told of its own table's update (already in that table's
     * store), it looks the key up in the other table's store and forwards the key's new result,
     * or a deletion where the result no longer exists. Without the update's old value it cannot
     * tell whether a result existed before, so a deletion may be sent for a key that had none
     * (harmless to a reader of a changelog).
     */
    static final class TableTableJoin extends ProcessorNode {
        private final KeyValueStore<Object> other;
        private final Serde<Object> keySerde;
        private final ValueJoiner<Object, Object, Object> joiner;
        private final boolean thisIsLeft;
        private final JoinKind kind;

        TableTableJoin(String name, TaskContext ctx, String otherStore, Serde<Object> keySerde, ValueJoiner<Object, Object, Object> joiner,
                       boolean thisIsLeft, JoinKind kind) {
            super(name);
            this.other = ctx.store(otherStore);
            this.keySerde = keySerde;
            this.joiner = joiner;
            this.thisIsLeft = thisIsLeft;
            this.kind = kind;
        }

        @Override
        void process(Object key, Object value, long ts) {
            if (key == null) {
                return; // a table holds no null key
            }
            Object found = other.get(Bytes.wrap(keySerde.serialize(key)));
            Object left = thisIsLeft ? value : found;
            Object right = thisIsLeft ? found : value;
            boolean exists = switch (kind) {
                case INNER -> left != null && right != null;
                case LEFT -> left != null;
                case OUTER -> left != null || right != null;
            };
            if (exists) {
                forward(key, joiner.apply(left, right), ts);
                return;
            }
            // No result now. Whether there was one: this update removed this side (inner, a left
            // side's in a left join, either in an outer join), or the other side is missing anyway.
            boolean mayHaveExisted = switch (kind) {
                case INNER -> value == null && found != null;
                case LEFT -> thisIsLeft && value == null;
                case OUTER -> value == null;
            };
            if (mayHaveExisted) {
                forward(key, null, ts);
            }
        }
    }

    /** count, reduce and aggregate per key: the store, a changelog record per update, the update downstream. */
    static final class Aggregate extends ProcessorNode {
        private final TaskContext ctx;
        private final KeyValueStore<Object> store;
        private final String changelog;
        private final Serde<Object> keySerde;
        private final Serde<Object> aggregateSerde;
        private final Initializer<Object> initializer;
        private final Aggregator<Object, Object, Object> aggregator;

        Aggregate(String name, TaskContext ctx, String storeName, String changelog, Serde<Object> keySerde, Serde<Object> aggregateSerde,
                  Initializer<Object> initializer, Aggregator<Object, Object, Object> aggregator) {
            super(name);
            this.ctx = ctx;
            this.store = ctx.store(storeName);
            this.changelog = changelog;
            this.keySerde = keySerde;
            this.aggregateSerde = aggregateSerde;
            this.initializer = initializer;
            this.aggregator = aggregator;
        }

        @Override
        void process(Object key, Object value, long ts) {
            if (key == null || value == null) {
                ctx.nullRecordsDropped++;       // a tombstone is no event to count or fold in (nor to hand a reducer)
                return;
            }
            byte[] k = keySerde.serialize(key);
            Bytes storeKey = Bytes.wrap(k);
            Object aggregate = store.get(storeKey);
            if (aggregate == null) {
                aggregate = initializer.apply();
            }
            aggregate = aggregator.apply(key, value, aggregate);
            store.put(storeKey, aggregate);
            ctx.log(changelog, k, aggregateSerde.serialize(aggregate), ts);
            forward(key, aggregate, ts);
        }
    }

    /** Where a late record goes besides the count: nowhere, or a side topic. */
    static final class LateRecords {
        private final TaskContext ctx;
        private final String topic;
        private final Serde<Object> keySerde;
        private final Serde<Object> valueSerde;

        LateRecords(TaskContext ctx, String topic, Serde<Object> keySerde, Serde<Object> valueSerde) {
            this.ctx = ctx;
            this.topic = topic;
            this.keySerde = keySerde;
            this.valueSerde = valueSerde;
        }

        void late(byte[] key, Object value, long ts) {
            ctx.lateRecordsDropped++;
            if (topic != null) {
                ctx.send(topic, Output.BY_KEY, key, valueSerde.serialize(value), ts);
            }
        }
    }

    /**
     * Tumbling and hopping windows. A window {@code [start, start+size)} closes once stream time
     * reaches {@code end + grace}: its state is dropped (a tombstone in the changelog) and, in
     * ON_WINDOW_CLOSE mode, its final aggregate emitted.
     */
    static final class WindowAggregate extends ProcessorNode implements TaskContext.StreamTimeListener {
        private final TaskContext ctx;
        private final WindowStore<Object> store;
        private final String changelog;
        private final Serde<Object> keySerde;
        private final Serde<Object> aggregateSerde;
        private final Initializer<Object> initializer;
        private final Aggregator<Object, Object, Object> aggregator;
        private final long sizeMs;
        private final long advanceMs;
        private final long graceMs;
        private final boolean emitOnUpdate;
        private final LateRecords late;

        WindowAggregate(String name, TaskContext ctx, String storeName, String changelog, Serde<Object> keySerde, Serde<Object> aggregateSerde,
                        Initializer<Object> initializer, Aggregator<Object, Object, Object> aggregator, long sizeMs, long advanceMs, long graceMs,
                        EmitMode emitMode, LateRecords late) {
            super(name);
            this.ctx = ctx;
            this.store = ctx.store(storeName);
            this.changelog = changelog;
            this.keySerde = keySerde;
            this.aggregateSerde = aggregateSerde;
            this.initializer = initializer;
            this.aggregator = aggregator;
            this.sizeMs = sizeMs;
            this.advanceMs = advanceMs;
            this.graceMs = graceMs;
            this.emitOnUpdate = emitMode == EmitMode.ON_EVERY_UPDATE;
            this.late = late;
            ctx.streamTimeListeners.add(this);
        }

        @Override
        void process(Object key, Object value, long ts) {
            if (key == null || value == null) {
                ctx.nullRecordsDropped++;
                return;
            }
            byte[] k = keySerde.serialize(key);
            Bytes storeKey = Bytes.wrap(k);
            long streamTime = ctx.streamTime;
            boolean updated = false;
            // Windows start at multiples of the advance from 0; counted rather than stepped past ts,
            // which could overflow for a timestamp near Long.MAX_VALUE.
            long first = Math.max(0, ts - sizeMs + advanceMs) / advanceMs * advanceMs;
            long windows = ts < 0 ? 0 : (ts / advanceMs * advanceMs - first) / advanceMs + 1;
            for (long i = 0; i < windows; i++) {
                long start = first + i * advanceMs;
                long end = WallClockStreamTime.saturatedPlus(start, sizeMs);
                if (WallClockStreamTime.saturatedPlus(end, graceMs) <= streamTime) {
                    continue;                       // this window has closed
                }
                updated = true;
                Object aggregate = store.fetch(storeKey, start);
                if (aggregate == null) {
                    aggregate = initializer.apply();
                }
                aggregate = aggregator.apply(key, value, aggregate);
                store.put(storeKey, start, aggregate);
                ctx.log(changelog, StoreKeys.windowKey(k, start), aggregateSerde.serialize(aggregate), ts);
                if (emitOnUpdate) {
                    forward(new Windowed<>(key, start, end), aggregate, ts);
                }
            }
            if (!updated) {
                late.late(k, value, ts);
            }
        }

        @Override
        public long nextDueStreamTime() {
            return WallClockStreamTime.saturatedPlus(store.earliestStart(), sizeMs + graceMs);
        }

        @Override
        public void onStreamTime(long streamTimeMs) {
            // closed: start + size + grace <= streamTime
            long limit = streamTimeMs - sizeMs - graceMs + 1;
            if (store.earliestStart() >= limit) {
                return;
            }
            store.removeStartingBefore(limit, (key, start, aggregate) -> {
                ctx.log(changelog, StoreKeys.windowKey(key.get(), start), null, streamTimeMs);
                if (!emitOnUpdate) {
                    forward(new Windowed<>(keySerde.deserialize(key.get()), start, start + sizeMs), aggregate, start + sizeMs - 1);
                }
            });
        }
    }

    /**
     * Session windows. A record's session is merged with the key's sessions within gap of it; a
     * session {@code [start, end]} closes once stream time passes {@code end + gap + grace}.
     */
    static final class SessionAggregate extends ProcessorNode implements TaskContext.StreamTimeListener {
        private record Found(long start, long end, Object value) {
        }

        private final TaskContext ctx;
        private final SessionStore<Object> store;
        private final String changelog;
        private final Serde<Object> keySerde;
        private final Serde<Object> aggregateSerde;
        private final Initializer<Object> initializer;
        private final Aggregator<Object, Object, Object> aggregator;
        private final Merger<Object, Object> merger;
        private final long gapMs;
        private final long graceMs;
        private final boolean emitOnUpdate;
        private final LateRecords late;
        private final List<Found> found = new ArrayList<>();

        SessionAggregate(String name, TaskContext ctx, String storeName, String changelog, Serde<Object> keySerde, Serde<Object> aggregateSerde,
                         Initializer<Object> initializer, Aggregator<Object, Object, Object> aggregator, Merger<Object, Object> merger, long gapMs,
                         long graceMs, EmitMode emitMode, LateRecords late) {
            super(name);
            this.ctx = ctx;
            this.store = ctx.store(storeName);
            this.changelog = changelog;
            this.keySerde = keySerde;
            this.aggregateSerde = aggregateSerde;
            this.initializer = initializer;
            this.aggregator = aggregator;
            this.merger = merger;
            this.gapMs = gapMs;
            this.graceMs = graceMs;
            this.emitOnUpdate = emitMode == EmitMode.ON_EVERY_UPDATE;
            this.late = late;
            ctx.streamTimeListeners.add(this);
        }

        @Override
        void process(Object key, Object value, long ts) {
            if (key == null || value == null) {
                ctx.nullRecordsDropped++;
                return;
            }
            byte[] k = keySerde.serialize(key);
            Bytes storeKey = Bytes.wrap(k);
            found.clear();
            store.find(storeKey, ts - gapMs, ts + gapMs, (sk, s, e, v) -> found.add(new Found(s, e, v)));
            long start = ts;
            long end = ts;
            Object aggregate = initializer.apply();
            for (Found f : found) {
                start = Math.min(start, f.start);
                end = Math.max(end, f.end);
                aggregate = merger.apply(key, aggregate, f.value);
            }
            if (end + gapMs + graceMs < ctx.streamTime) {
                late.late(k, value, ts);
                return;
            }
            aggregate = aggregator.apply(key, value, aggregate);
            for (Found f : found) {
                if (f.start == start && f.end == end) {
                    continue;                   // replaced in place below
                }
                store.put(storeKey, f.start, f.end, null);
                ctx.log(changelog, StoreKeys.sessionKey(k, f.start, f.end), null, ts);
                if (emitOnUpdate) {
                    // Stamped with the session's end, its latest record's time, as Kafka Streams stamps them.
                    forward(new Windowed<>(key, f.start, f.end), null, f.end);
                }
            }
            store.put(storeKey, start, end, aggregate);
            ctx.log(changelog, StoreKeys.sessionKey(k, start, end), aggregateSerde.serialize(aggregate), ts);
            if (emitOnUpdate) {
                forward(new Windowed<>(key, start, end), aggregate, end);
            }
        }

        @Override
        public long nextDueStreamTime() {
            return WallClockStreamTime.saturatedPlus(store.earliestEnd(), gapMs + graceMs + 1);
        }

        @Override
        public void onStreamTime(long streamTimeMs) {
            // closed: end + gap + grace < streamTime
            long limit = streamTimeMs - gapMs - graceMs;
            if (store.earliestEnd() >= limit) {
                return;
            }
            store.removeEndingBefore(limit, (key, start, end, aggregate) -> {
                ctx.log(changelog, StoreKeys.sessionKey(key.get(), start, end), null, streamTimeMs);
                if (!emitOnUpdate) {
                    forward(new Windowed<>(keySerde.deserialize(key.get()), start, end), aggregate, end);
                }
            });
        }
    }

    /** Which unmatched records a windowed join joins with null: none, the left side's, or both sides'. */
    enum JoinKind {
        INNER, LEFT, OUTER;

        boolean emitsUnmatched(boolean leftSide) {
            return this == OUTER || this == LEFT && leftSide;
        }
    }

    /** A buffered record of a side whose unmatched records are joined with null, and whether it matched. */
    record Buffered(Object value, boolean matched) {
    }

    /**
     * One side of a windowed stream-stream join: buffers its record (by key and timestamp, with a
     * changelog) and joins it with the other side's buffered records within its window
     * ({@code [t - before, t + after]} on the left, the mirror on the right), each result stamped
     * with the later of the two timestamps. A buffered record is kept while a record of the other
     * side whose own window is still open (stream time not past its end plus grace, the end being
     * inclusive) could match it: until stream time passes {@code t + before + after + grace}. A
     * record that arrives that late is expired: it is still joined with what the other side
     * buffers, counted late, and not buffered.
     *
     * <p>In a left or outer join, the sides whose unmatched records count keep a matched flag with
     * each buffered record (in the store and its changelog, so a restored task knows it), set when
     * the record finds a match or is found by one. When such a record leaves the buffer unmatched,
     * no match can come any more, and it is joined with null: later than Kafka Streams, which
     * emits at {@code t + after + grace} and may then still see a match, but never a null join
     * for a record that does match.
     */
    static final class JoinSide extends ProcessorNode implements TaskContext.StreamTimeListener {
        /** A side's buffer: its store, changelog and serde, and whether its records carry the matched flag. */
        record Buffer(String store, String changelog, Serde<List<Object>> serde, boolean flagged) {
        }

        private final TaskContext ctx;
        private final boolean thisIsLeft;
        private final Buffer ownBuffer;
        private final Buffer otherBuffer;
        private final WindowStore<List<Object>> own;
        private final WindowStore<List<Object>> other;
        private final Serde<Object> keySerde;
        private final ValueJoiner<Object, Object, Object> joiner;
        private final long lookBackMs;
        private final long lookAheadMs;
        private final long graceMs;
        private final long retentionMs;
        private final List<Long> matchTimes = new ArrayList<>();
        private final List<List<Object>> matchLists = new ArrayList<>();

        JoinSide(String name, TaskContext ctx, boolean thisIsLeft, Buffer ownBuffer, Buffer otherBuffer, Serde<Object> keySerde,
                 ValueJoiner<Object, Object, Object> joiner, long beforeMs, long afterMs, long graceMs) {
            super(name);
            this.ctx = ctx;
            this.thisIsLeft = thisIsLeft;
            this.ownBuffer = ownBuffer;
            this.otherBuffer = otherBuffer;
            this.own = ctx.store(ownBuffer.store());
            this.other = ctx.store(otherBuffer.store());
            this.keySerde = keySerde;
            this.joiner = joiner;
            // the left record at t joins right records in [t - before, t + after]; the right one the mirror
            this.lookBackMs = thisIsLeft ? beforeMs : afterMs;
            this.lookAheadMs = thisIsLeft ? afterMs : beforeMs;
            this.graceMs = graceMs;
            this.retentionMs = beforeMs + afterMs + graceMs;
            ctx.streamTimeListeners.add(this);
        }

        /** The buffer's serde: a list of the side's values, each with its matched flag when {@code flagged}. */
        @SuppressWarnings({"unchecked", "rawtypes"})
        static Serde<List<Object>> bufferSerde(Serde<Object> valueSerde, boolean flagged) {
            if (!flagged) {
                return StoreKeys.listSerde(valueSerde);
            }
            Serde<Object> entry = Serde.of(b -> {
                Buffered buffered = (Buffered) b;
                byte[] value = buffered.value() == null ? null : valueSerde.serialize(buffered.value());
                byte[] bytes = new byte[1 + (value == null ? 0 : value.length)];
                bytes[0] = (byte) ((buffered.matched() ? 1 : 0) | (value == null ? 2 : 0));
                if (value != null) {
                    System.arraycopy(value, 0, bytes, 1, value.length);
                }
                return bytes;
            }, bytes -> new Buffered((bytes[0] & 2) != 0 ? null : valueSerde.deserialize(java.util.Arrays.copyOfRange(bytes, 1, bytes.length)),
                    (bytes[0] & 1) != 0));
            return (Serde) StoreKeys.listSerde(entry);
        }

        @Override
        void process(Object key, Object value, long ts) {
            if (value == null) {
                // As in Kafka Streams: a null value is no event (and a joiner's null means "no match").
                ctx.nullRecordsDropped++;
                return;
            }
            if (key == null) {
                if (ownBuffer.flagged()) {
                    // Nothing can match it; a side that emits its unmatched records does so at once
                    // (Kafka Streams since KIP-962), where an inner side drops it.
                    forward(null, thisIsLeft ? joiner.apply(value, null) : joiner.apply(null, value), ts);
                } else {
                    ctx.nullRecordsDropped++;
                }
                return;
            }
            byte[] k = keySerde.serialize(key);
            Bytes storeKey = Bytes.wrap(k);
            matchTimes.clear();
            matchLists.clear();
            // Whatever the other side still buffers within the window is joined, even for a record
            // whose own window has closed: only the other side's later records can no longer find it.
            other.fetch(storeKey, ts - lookBackMs, WallClockStreamTime.saturatedPlus(ts, lookAheadMs), (sk, otherTs, values) -> {
                matchTimes.add(otherTs);
                matchLists.add(values);
            });
            boolean matched = !matchTimes.isEmpty();
            if (WallClockStreamTime.saturatedPlus(ts, retentionMs) < ctx.streamTime) {
                // Expired: no record of the other side that is not late can match it any more, so it
                // is not buffered; an unmatched one of a left or outer side is joined with null now.
                ctx.lateRecordsDropped++;
                if (!matched && ownBuffer.flagged()) {
                    forward(key, thisIsLeft ? joiner.apply(value, null) : joiner.apply(null, value), ts);
                }
            } else {
                List<Object> buffered = own.fetch(storeKey, ts);
                List<Object> updated = buffered == null ? new ArrayList<>(1) : new ArrayList<>(buffered);
                updated.add(ownBuffer.flagged() ? new Buffered(value, matched) : value);
                own.put(storeKey, ts, updated);
                ctx.log(ownBuffer.changelog(), StoreKeys.windowKey(k, ts), ownBuffer.serde().serialize(updated), ts);
            }
            for (int i = 0; i < matchTimes.size(); i++) {
                List<Object> values = matchLists.get(i);
                boolean flipped = false;
                for (int j = 0; j < values.size(); j++) {
                    Object o = values.get(j);
                    if (otherBuffer.flagged()) {
                        Buffered b = (Buffered) o;
                        o = b.value();
                        if (!b.matched()) {
                            if (!flipped) {
                                values = new ArrayList<>(values);
                                flipped = true;
                            }
                            values.set(j, new Buffered(o, true));
                        }
                    }
                    // stamped like Kafka Streams' joins: the later of the two records
                    forward(key, thisIsLeft ? joiner.apply(value, o) : joiner.apply(o, value), Math.max(ts, matchTimes.get(i)));
                }
                if (flipped) {
                    // The other side's records that matched for the first time: their flags change in its buffer and changelog.
                    long otherTs = matchTimes.get(i);
                    other.put(storeKey, otherTs, values);
                    ctx.log(otherBuffer.changelog(), StoreKeys.windowKey(k, otherTs), otherBuffer.serde().serialize(values), ts);
                }
            }
        }

        @Override
        public long nextDueStreamTime() {
            return WallClockStreamTime.saturatedPlus(own.earliestStart(), WallClockStreamTime.saturatedPlus(retentionMs, 1));
        }

        @Override
        public void onStreamTime(long streamTimeMs) {
            long limit = streamTimeMs - retentionMs;      // expired: t + retention < streamTime
            if (own.earliestStart() >= limit) {
                return;
            }
            own.removeStartingBefore(limit, (key, ts, values) -> {
                ctx.log(ownBuffer.changelog(), StoreKeys.windowKey(key.get(), ts), null, streamTimeMs);
                if (ownBuffer.flagged()) {
                    Object k = null;
                    for (Object o : values) {
                        Buffered b = (Buffered) o;
                        if (!b.matched()) {
                            k = k == null ? keySerde.deserialize(key.get()) : k;
                            forward(k, thisIsLeft ? joiner.apply(b.value(), null) : joiner.apply(null, b.value()), ts);
                        }
                    }
                }
            });
        }
    }
}
