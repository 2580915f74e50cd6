package io.spate.stream.store;

import io.spate.stream.Serde;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiConsumer;

/** Heap stores: hash maps, with windows and sessions indexed by time so that expiry is cheap. */
public final class InMemoryStores implements StoreFactory {
    public static final InMemoryStores INSTANCE = new InMemoryStores();

    @Override
    public <V> KeyValueStore<V> keyValueStore(String name, int partition, Serde<V> valueSerde) {
        return new InMemoryKeyValueStore<>(name);
    }

    @Override
    public <V> WindowStore<V> windowStore(String name, int partition, Serde<V> valueSerde) {
        return new InMemoryWindowStore<>(name);
    }

    @Override
    public <V> SessionStore<V> sessionStore(String name, int partition, Serde<V> valueSerde) {
        return new InMemorySessionStore<>(name);
    }

    static final class InMemoryKeyValueStore<V> implements KeyValueStore<V> {
        private final String name;
        private final HashMap<Bytes, V> map = new HashMap<>();

        InMemoryKeyValueStore(String name) {
            this.name = name;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public V get(Bytes key) {
            return map.get(key);
        }

        @Override
        public void put(Bytes key, V value) {
            if (value == null) {
                map.remove(key);
            } else {
                map.put(key, value);
            }
        }

        @Override
        public void forEach(BiConsumer<Bytes, V> action) {
            map.forEach(action);
        }

        @Override
        public long size() {
            return map.size();
        }

        @Override
        public void close() {
            map.clear();
        }
    }

    /** Windows by start, then by key: tumbling and hopping windows of one start share a bucket. */
    static final class InMemoryWindowStore<V> implements WindowStore<V> {
        private final String name;
        private final TreeMap<Long, HashMap<Bytes, V>> byStart = new TreeMap<>();
        private long size;

        InMemoryWindowStore(String name) {
            this.name = name;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public V fetch(Bytes key, long windowStart) {
            HashMap<Bytes, V> bucket = byStart.get(windowStart);
            return bucket == null ? null : bucket.get(key);
        }

        @Override
        public void put(Bytes key, long windowStart, V value) {
            if (value == null) {
                HashMap<Bytes, V> bucket = byStart.get(windowStart);
                if (bucket != null && bucket.remove(key) != null) {
                    size--;
                    if (bucket.isEmpty()) {
                        byStart.remove(windowStart);
                    }
                }
                return;
            }
            if (byStart.computeIfAbsent(windowStart, s -> new HashMap<>()).put(key, value) == null) {
                size++;
            }
        }

        @Override
        public void fetch(Bytes key, long fromStart, long toStart, WindowVisitor<V> visitor) {
            if (fromStart > toStart) {
                return;
            }
            for (Map.Entry<Long, HashMap<Bytes, V>> e : byStart.subMap(fromStart, true, toStart, true).entrySet()) {
                V v = e.getValue().get(key);
                if (v != null) {
                    visitor.visit(key, e.getKey(), v);
                }
            }
        }

        @Override
        public void removeStartingBefore(long startLimit, WindowVisitor<V> visitor) {
            Iterator<Map.Entry<Long, HashMap<Bytes, V>>> it = byStart.headMap(startLimit, false).entrySet().iterator();
            while (it.hasNext()) {
                Map.Entry<Long, HashMap<Bytes, V>> e = it.next();
                it.remove();
                size -= e.getValue().size();
                long start = e.getKey();
                for (Map.Entry<Bytes, V> w : e.getValue().entrySet()) {
                    visitor.visit(w.getKey(), start, w.getValue());
                }
            }
        }

        @Override
        public long earliestStart() {
            return byStart.isEmpty() ? Long.MAX_VALUE : byStart.firstKey();
        }

        @Override
        public long size() {
            return size;
        }

        @Override
        public void close() {
            byStart.clear();
            size = 0;
        }
    }

    /** Sessions by key then start, plus an index by end for expiry. */
    static final class InMemorySessionStore<V> implements SessionStore<V> {
        private record Session<V>(long start, long end, V value) {
        }

        private record Ref(Bytes key, long start) {
        }

        private final String name;
        private final HashMap<Bytes, TreeMap<Long, Session<V>>> byKey = new HashMap<>();
        private final TreeMap<Long, List<Ref>> byEnd = new TreeMap<>();
        private long size;

        InMemorySessionStore(String name) {
            this.name = name;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public void find(Bytes key, long earliestEnd, long latestStart, SessionVisitor<V> visitor) {
            TreeMap<Long, Session<V>> sessions = byKey.get(key);
            if (sessions == null) {
                return;
            }
            List<Session<V>> found = new ArrayList<>(2);
            for (Session<V> s : sessions.headMap(latestStart, true).values()) {
                if (s.end >= earliestEnd) {
                    found.add(s);
                }
            }
            for (Session<V> s : found) {
                visitor.visit(key, s.start, s.end, s.value);
            }
        }

        @Override
        public void put(Bytes key, long start, long end, V value) {
            TreeMap<Long, Session<V>> sessions = byKey.get(key);
            Session<V> old = sessions == null ? null : sessions.get(start);
            if (old != null) {
                unindex(key, old);
                sessions.remove(start);
                size--;
            }
            if (value == null) {
                if (sessions != null && sessions.isEmpty()) {
                    byKey.remove(key);
                }
                return;
            }
            if (sessions == null) {
                sessions = new TreeMap<>();
                byKey.put(key, sessions);
            }
            sessions.put(start, new Session<>(start, end, value));
            byEnd.computeIfAbsent(end, e -> new ArrayList<>(1)).add(new Ref(key, start));
            size++;
        }

        private void unindex(Bytes key, Session<V> s) {
            List<Ref> refs = byEnd.get(s.end);
            if (refs != null) {
                refs.remove(new Ref(key, s.start));
                if (refs.isEmpty()) {
                    byEnd.remove(s.end);
                }
            }
        }

        @Override
        public void removeEndingBefore(long endLimit, SessionVisitor<V> visitor) {
            Iterator<Map.Entry<Long, List<Ref>>> it = byEnd.headMap(endLimit, false).entrySet().iterator();
            while (it.hasNext()) {
                Map.Entry<Long, List<Ref>> e = it.next();
                it.remove();
                for (Ref ref : e.getValue()) {
                    TreeMap<Long, Session<V>> sessions = byKey.get(ref.key);
                    Session<V> s = sessions.remove(ref.start);
                    size--;
                    if (sessions.isEmpty()) {
                        byKey.remove(ref.key);
                    }
                    visitor.visit(ref.key, s.start, s.end, s.value);
                }
            }
        }

        @Override
        public long earliestEnd() {
            return byEnd.isEmpty() ? Long.MAX_VALUE : byEnd.firstKey();
        }

        @Override
        public long size() {
            return size;
        }

        @Override
        public void close() {
            byKey.clear();
            byEnd.clear();
            size = 0;
        }
    }
}
