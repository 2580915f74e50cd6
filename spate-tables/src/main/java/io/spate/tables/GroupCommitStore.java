package io.spate.tables;

import io.spate.time.Scheduler;

import java.util.ArrayList;
import java.util.List;

/**
 * The {@link Durability} policy, shared by the stores: SYNC_EACH fsyncs after every write,
 * BATCHED gathers the writes of up to {@code batchMs} behind one fsync (the first write of a
 * group arms the timer), NONE never waits. The callbacks of a group run after its fsync, in
 * write order. Single-threaded: the store's owner and the scheduler run on one thread.
 */
abstract class GroupCommitStore implements TableStore {
    private final Durability durability;
    private final Scheduler scheduler;
    private List<Runnable> waiting = new ArrayList<>();
    private Scheduler.Timer timer;
    private long syncs;

    GroupCommitStore(Durability durability, Scheduler scheduler) {
        this.durability = durability;
        this.scheduler = scheduler;
    }

    /** Makes every write so far durable (an fsync of the write-ahead log). */
    protected abstract void syncToDisk();

    protected final void afterWrite(Runnable whenDurable) {
        switch (durability.mode()) {
            case NONE -> whenDurable.run();
            case SYNC_EACH -> {
                sync();
                whenDurable.run();
            }
            case BATCHED -> {
                waiting.add(whenDurable);
                if (timer == null) {
                    timer = scheduler.schedule(durability.batchMs(), this::flush);
                }
            }
        }
    }

    private void sync() {
        syncToDisk();
        syncs++;
    }

    @Override
    public void flush() {
        if (timer != null) {
            timer.cancel();
            timer = null;
        }
        sync();
        List<Runnable> group = waiting;
        waiting = new ArrayList<>();
        group.forEach(Runnable::run);
    }

    /** Forgets the waiting callbacks without running them: the process that would have acknowledged is gone. */
    protected final void dropWaiting() {
        if (timer != null) {
            timer.cancel();
            timer = null;
        }
        waiting = new ArrayList<>();
    }

    public Durability durability() {
        return durability;
    }

    /** Fsyncs run: how well batching shares them. */
    public long syncs() {
        return syncs;
    }
}
