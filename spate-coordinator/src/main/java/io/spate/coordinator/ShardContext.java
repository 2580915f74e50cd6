package io.spate.coordinator;

import io.spate.time.Scheduler;
import io.spate.time.Time;

/**
 * What a shard gets from the runtime: its partition, the clock, and timers that run on the
 * runtime's thread and die with the shard (cancelled when its leadership ends, never run after).
 */
public interface ShardContext {
    int partition();

    Time time();

    /** Runs {@code task} on the runtime's thread after {@code delayMs}, unless the shard is dropped first; what it throws is logged. */
    Scheduler.Timer schedule(String name, long delayMs, Runnable task);
}
