package io.spate.processing;

/**
 * Keeps a thread's interrupt away from the node's log files while a task reads its input or
 * appends its results in place, and from the runtime's own clients the pipeline's code calls.
 *
 * <p>A {@code FileChannel} closes itself for good when the thread inside one of its operations
 * is interrupted, or enters one already interrupted ({@code ClosedByInterruptException}). A
 * task reads and appends through the same segment channels as the rest of the node, so one
 * interrupt at the wrong moment took the partition offline on this node until it was opened
 * again; and a producer waiting for metadata throws when interrupted. Two things interrupt a
 * task's thread: the runtime, to unblock a pipeline's code that overran
 * {@code task.timeout.ms}; and the pipeline's code itself, which may set its own flag
 * again after catching an {@code InterruptedException}, as Java code is taught to do. So around
 * every such call ({@link #shielded}) the flag is cleared and set again afterwards, and an
 * interrupt asked for meanwhile ({@link #abandon}) is delivered once the call has returned.
 * When the pipeline's code returns, the flag it left is dropped ({@link #leftUserCode}) unless
 * the task was abandoned: the runtime's own waits (its back-off, its commits) must not end early
 * for it.
 */
final class TaskInterrupts {
    /** A call into a log, or into one of the runtime's clients, that must not see an interrupt. */
    @FunctionalInterface
    interface Call<T, E extends Exception> {
        T call() throws E;
    }

    private static final ThreadLocal<TaskInterrupts> OF_THIS_THREAD = new ThreadLocal<>();

    private final Thread thread;
    private int inLogCalls; // guarded by this
    private boolean deferred; // guarded by this: an interrupt asked for during a log call
    private boolean abandoned; // guarded by this
    private boolean inUserCode; // guarded by this

    TaskInterrupts(Thread thread) {
        this.thread = thread;
    }

    /** Called on the task's thread before anything else: its log calls are guarded from now on. */
    void bindToCurrentThread() {
        if (Thread.currentThread() != thread) {
            throw new IllegalStateException("bound from " + Thread.currentThread().getName() + ", not " + thread.getName());
        }
        OF_THIS_THREAD.set(this);
    }

    /**
     * Runs {@code call} with the current thread's interrupt flag clear, and no interrupt of this
     * task delivered until it returns; the flag is then as it was, or set if an interrupt came.
     * On a thread that is not a task's, only the flag is cleared and restored.
     */
    static <T, E extends Exception> T shielded(Call<T, E> call) throws E {
        TaskInterrupts task = OF_THIS_THREAD.get();
        if (task != null) {
            task.enter();
        }
        boolean wasSet = Thread.interrupted(); // after enter(): a later interrupt is deferred, an earlier one is seen here
        try {
            return call.call();
        } finally {
            if (task != null && task.leave()) {
                wasSet = true;
            }
            if (wasSet) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The task's thread calls the pipeline's code: from now until {@link #leftUserCode} it may be abandoned. */
    synchronized void enteredUserCode() {
        inUserCode = true;
    }

    /**
     * The pipeline's code returned, on the task's thread: the flag it left is not the runtime's
     * to see, unless the task was abandoned.
     */
    synchronized void leftUserCode() {
        inUserCode = false;
        if (!abandoned) {
            Thread.interrupted();
        }
    }

    /**
     * Abandons the task if its thread is still in the pipeline's code, in the same call found
     * overrunning ({@code stillOverrunning}): runs {@code markFailed},
     * then interrupts the thread (now, or once its log call returns) and returns true. Returns
     * false, doing nothing, when the code returned since it was found overrunning: the
     * interrupt would land in the runtime's own work instead.
     */
    synchronized boolean abandon(java.util.function.BooleanSupplier stillOverrunning, Runnable markFailed) {
        // Checked again under the lock: the code found overrunning may have returned since, and
        // the next micro-batch's begun, which is not the one to fail.
        if (!inUserCode || !stillOverrunning.getAsBoolean()) {
            return false;
        }
        markFailed.run(); // before the interrupt: the thread, woken, must find itself stopped
        abandoned = true;
        if (inLogCalls > 0) {
            deferred = true;
        } else {
            thread.interrupt();
        }
        return true;
    }

    private synchronized void enter() {
        inLogCalls++;
    }

    /** True when an interrupt was deferred and is now due. */
    private synchronized boolean leave() {
        inLogCalls--;
        if (inLogCalls == 0 && deferred) {
            deferred = false;
            return true;
        }
        return false;
    }
}
