package io.spate.chaos.cluster;

import io.spate.chaos.history.MetadataLogEntry;
import io.spate.chaos.history.VoterProgress;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.function.LongSupplier;

/**
 * Reads every voter's Raft log every few seconds while the run goes on and keeps each read whole,
 * as one view of that voter's log. Reading only at the end would miss most of a run: a voter
 * compacts its log into a snapshot every few hundred entries, and the divergence of fix 21 sat at
 * an index compacted long before the end. Views are not merged: a voter legitimately replaces an
 * uncommitted tail, and an entry seen in an earlier read set beside a later one would make a log
 * that never existed.
 */
public final class VoterLogSampler implements AutoCloseable {
    private final List<Integer> voters;
    private final IntFunction<Path> dataDir;
    private final LongSupplier nowUs;
    private final List<MetadataLogEntry> views = new ArrayList<>();
    private final List<VoterProgress> progress = new ArrayList<>();
    private final List<List<MetadataLogEntry>> lastView;
    private int nextView;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("voter-log-sampler").daemon().factory());

    /** @param nowUs the run's clock, for when each read was made */
    public VoterLogSampler(List<Integer> voters, IntFunction<Path> dataDir, LongSupplier nowUs) {
        this.voters = List.copyOf(voters);
        this.dataDir = dataDir;
        this.nowUs = nowUs;
        this.lastView = new ArrayList<>();
        for (int i = 0; i < this.voters.size(); i++) {
            lastView.add(List.of());
        }
    }

    public void start(long everyMs) {
        timer.scheduleWithFixedDelay(this::sample, everyMs, everyMs, TimeUnit.MILLISECONDS);
    }

    /** Reads every voter's log once more; a read that met a segment compacted away meanwhile is dropped. */
    public synchronized void sample() {
        for (int i = 0; i < voters.size(); i++) {
            int id = voters.get(i);
            int view = nextView++;
            List<MetadataLogEntry> read;
            try {
                read = VoterLogReader.read(id, view, dataDir.apply(id));
            } catch (IOException | RuntimeException movedMeanwhile) {
                continue; // a read that met files changing, or anything else: the next one is made as usual
            }
            if (!read.isEmpty()) {
                progress.add(new VoterProgress(id, nowUs.getAsLong(), read.stream().mapToLong(MetadataLogEntry::index).max().getAsLong()));
            }
            if (!read.isEmpty() && !sameEntries(read, lastView.get(i))) {
                views.addAll(read);
                lastView.set(i, read);
            }
        }
    }

    /** A voter whose log did not change since its last kept view adds nothing new to compare. */
    private static boolean sameEntries(List<MetadataLogEntry> a, List<MetadataLogEntry> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            MetadataLogEntry x = a.get(i);
            MetadataLogEntry y = b.get(i);
            if (x.index() != y.index() || x.term() != y.term() || x.crc() != y.crc()) {
                return false;
            }
        }
        return true;
    }

    /** How far each voter's log reached at every read that succeeded, in the order read. */
    public synchronized List<VoterProgress> progress() {
        return new ArrayList<>(progress);
    }

    /** Every kept view's entries, in the order read. */
    public synchronized List<MetadataLogEntry> entries() {
        return new ArrayList<>(views);
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
