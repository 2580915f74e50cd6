package io.spate.chaos.cluster;

import io.spate.chaos.history.MetadataLogEntry;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/**
 * Reads every voter's Raft log every few seconds while the run goes on, keeping for each voter and
 * index the entry last seen there. Reading only at the end would miss most of a run: a voter
 * compacts its log into a snapshot every few hundred entries, and the divergence of fix 21 sat at
 * an index compacted long before the end. An entry Raft legitimately replaced (an uncommitted tail
 * a new leader overwrote) is replaced here too; one that stays wrong is kept until compacted.
 */
public final class VoterLogSampler implements AutoCloseable {
    private record Key(int node, long index) {
    }

    private final List<Integer> voters;
    private final IntFunction<Path> dataDir;
    private final Map<Key, MetadataLogEntry> seen = new TreeMap<>(Comparator.comparingInt(Key::node).thenComparingLong(Key::index));
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("voter-log-sampler").daemon().factory());

    public VoterLogSampler(List<Integer> voters, IntFunction<Path> dataDir) {
        this.voters = List.copyOf(voters);
        this.dataDir = dataDir;
    }

    public void start(long everyMs) {
        timer.scheduleWithFixedDelay(this::sample, everyMs, everyMs, TimeUnit.MILLISECONDS);
    }

    /** Reads every voter's log once more; a voter whose files moved under the reader (compaction) is read next time. */
    public synchronized void sample() {
        for (int id : voters) {
            try {
                for (MetadataLogEntry e : VoterLogReader.read(id, dataDir.apply(id))) {
                    seen.put(new Key(e.node(), e.index()), e);
                }
            } catch (IOException | java.io.UncheckedIOException movedMeanwhile) {
                // a segment compacted away between listing and reading: the next sample sees the new files
            }
        }
    }

    /** Every entry seen, by voter and index. */
    public synchronized List<MetadataLogEntry> entries() {
        return new ArrayList<>(seen.values());
    }

    @Override
    public void close() {
        timer.shutdownNow();
        try {
            timer.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
