package io.spate.processing;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** A task's interrupts never reach a file channel of the node's, on real files and threads. */
class TaskInterruptsTest {
    @TempDir
    Path dir;

    /** The pipeline's code set its own flag: a channel used in a shielded call stays open, and the flag comes back after. */
    @Test
    void aFlagTheThreadSetItselfDoesNotCloseAChannelUsedInAShieldedCall() throws Exception {
        try (FileChannel channel = FileChannel.open(dir.resolve("segment"), StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            CompletableFuture<Boolean> flagAfter = new CompletableFuture<>();
            Thread task = Thread.ofPlatform().unstarted(() -> {
                try {
                    Thread.currentThread().interrupt();
                    TaskInterrupts.shielded(() -> channel.write(ByteBuffer.wrap(new byte[]{1, 2, 3}), 0));
                    flagAfter.complete(Thread.currentThread().isInterrupted());
                } catch (Exception e) {
                    flagAfter.completeExceptionally(e);
                }
            });
            task.start();
            assertThat(flagAfter.get(10, TimeUnit.SECONDS)).as("the flag is the thread's again after the call").isTrue();
            assertThat(channel.isOpen()).isTrue();
            assertThat(channel.size()).isEqualTo(3);
        }
    }

    /** Without the shield the same write closes the channel: what the shield is for. */
    @Test
    void withoutTheShieldTheSameWriteClosesTheChannel() throws Exception {
        try (FileChannel channel = FileChannel.open(dir.resolve("segment"), StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            CompletableFuture<Throwable> failure = new CompletableFuture<>();
            Thread task = Thread.ofPlatform().unstarted(() -> {
                Thread.currentThread().interrupt();
                try {
                    channel.write(ByteBuffer.wrap(new byte[]{1}), 0);
                    failure.complete(null);
                } catch (Exception e) {
                    failure.complete(e);
                }
            });
            task.start();
            assertThat(failure.get(10, TimeUnit.SECONDS)).isInstanceOf(java.nio.channels.ClosedByInterruptException.class);
            assertThat(channel.isOpen()).isFalse();
        }
    }

    /** An abandonment during a log call waits for the call to return, then reaches the thread. */
    @Test
    void anInterruptDuringALogCallIsDeliveredWhenItReturns() throws Exception {
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<Boolean> flagInside = new CompletableFuture<>();
        CompletableFuture<Boolean> flagAfter = new CompletableFuture<>();
        TaskInterrupts[] interrupts = new TaskInterrupts[1];
        Thread task = Thread.ofPlatform().unstarted(() -> {
            interrupts[0].bindToCurrentThread();
            interrupts[0].enteredUserCode(); // the pipeline's code sends a result: an append in place
            try {
                TaskInterrupts.shielded(() -> {
                    inside.countDown();
                    while (release.getCount() > 0) {
                        Thread.onSpinWait(); // not await(): that would see an interrupt by throwing
                    }
                    flagInside.complete(Thread.currentThread().isInterrupted());
                    return null;
                });
                flagAfter.complete(Thread.currentThread().isInterrupted());
            } catch (RuntimeException e) {
                flagAfter.completeExceptionally(e);
            }
        });
        interrupts[0] = new TaskInterrupts(task);
        task.start();
        assertThat(inside.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(interrupts[0].abandon(() -> true, () -> { })).isTrue();
        release.countDown();
        assertThat(flagInside.get(10, TimeUnit.SECONDS)).as("held back while the call runs").isFalse();
        assertThat(flagAfter.get(10, TimeUnit.SECONDS)).as("delivered once it returned").isTrue();
    }

    /** The flag the pipeline's code left is dropped when it returns, unless the task was abandoned. */
    @Test
    void leavingThePipelinesCodeDropsItsFlagUnlessTheTaskWasAbandoned() throws Exception {
        CompletableFuture<boolean[]> flags = new CompletableFuture<>();
        TaskInterrupts[] interrupts = new TaskInterrupts[1];
        CountDownLatch inCodeAgain = new CountDownLatch(1);
        Thread task = Thread.ofPlatform().unstarted(() -> {
            interrupts[0].bindToCurrentThread();
            interrupts[0].enteredUserCode();
            Thread.currentThread().interrupt();
            interrupts[0].leftUserCode();
            boolean afterOwnFlag = Thread.currentThread().isInterrupted();
            interrupts[0].enteredUserCode();
            inCodeAgain.countDown();
            while (!Thread.currentThread().isInterrupted()) {
                Thread.onSpinWait(); // code that does not return until the abandonment's interrupt arrives
            }
            interrupts[0].leftUserCode();
            flags.complete(new boolean[]{afterOwnFlag, Thread.currentThread().isInterrupted()});
        });
        interrupts[0] = new TaskInterrupts(task);
        task.start();
        assertThat(inCodeAgain.await(10, TimeUnit.SECONDS)).isTrue();
        boolean[] marked = new boolean[1];
        assertThat(interrupts[0].abandon(() -> true, () -> marked[0] = true)).isTrue();
        boolean[] seen = flags.get(10, TimeUnit.SECONDS);
        assertThat(marked[0]).isTrue();
        assertThat(seen[0]).as("its own flag, dropped").isFalse();
        assertThat(seen[1]).as("the abandonment's, kept").isTrue();
    }

    /** Code found overrunning that returned before the abandonment is not abandoned: no interrupt lands in the runtime's work. */
    @Test
    void aTaskThatReturnedFromItsCodeIsNotAbandoned() throws Exception {
        assertAbandonRefused(true, () -> true);
    }

    /** Code in a newer micro-batch than the one found overrunning is not abandoned. */
    @Test
    void aTaskInALaterMicroBatchThanTheOneFoundStuckIsNotAbandoned() throws Exception {
        assertAbandonRefused(false, () -> false);
    }

    /**
     * A task thread in its code ({@code returnedFirst}: just back from it) while an abandonment
     * is tried, the micro-batch found stuck still running or not ({@code stillOverrunning}):
     * nothing is marked failed and the thread is not interrupted.
     */
    private static void assertAbandonRefused(boolean returnedFirst, java.util.function.BooleanSupplier stillOverrunning) throws Exception {
        CountDownLatch ready = new CountDownLatch(1);
        CountDownLatch checked = new CountDownLatch(1);
        CompletableFuture<Boolean> interrupted = new CompletableFuture<>();
        TaskInterrupts[] interrupts = new TaskInterrupts[1];
        Thread task = Thread.ofPlatform().unstarted(() -> {
            interrupts[0].bindToCurrentThread();
            interrupts[0].enteredUserCode();
            if (returnedFirst) {
                interrupts[0].leftUserCode();
            }
            ready.countDown();
            try {
                checked.await();
                interrupted.complete(Thread.currentThread().isInterrupted());
            } catch (InterruptedException e) {
                interrupted.complete(true);
            }
        });
        interrupts[0] = new TaskInterrupts(task);
        task.start();
        assertThat(ready.await(10, TimeUnit.SECONDS)).isTrue();
        boolean[] marked = new boolean[1];
        assertThat(interrupts[0].abandon(stillOverrunning, () -> marked[0] = true)).isFalse();
        checked.countDown();
        assertThat(interrupted.get(10, TimeUnit.SECONDS)).isFalse();
        assertThat(marked[0]).isFalse();
    }
}
