package io.spate.cluster;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class ImageDeliveryTest {
    private volatile ClusterImage newest = ClusterImage.EMPTY;
    private final ImageDelivery delivery = new ImageDelivery("image-delivery-test", () -> newest);

    @AfterEach
    void close() {
        delivery.close();
    }

    private static ClusterImage version(long v) {
        return new ClusterImage(v, Map.of(), Map.of(), 0);
    }

    @Test
    void aListenerAddedLateStartsFromTheNewestImageAndHearsEachVersionOnce() {
        List<Long> early = new CopyOnWriteArrayList<>();
        delivery.subscribe(image -> early.add(image.version()));
        newest = version(3);
        delivery.offered();
        await().until(() -> early.contains(3L));

        List<Long> late = new CopyOnWriteArrayList<>();
        delivery.subscribe(image -> late.add(image.version()));
        await().until(() -> late.contains(3L));
        newest = version(4);
        delivery.offered();
        delivery.offered();
        await().until(() -> late.contains(4L));
        assertThat(late).containsExactly(3L, 4L);
        assertThat(early).containsExactly(3L, 4L);
    }

    @Test
    void aWaiterCompletesOnlyOnceEveryListenerHasFinishedWithTheImage() throws Exception {
        CountDownLatch listenerMayFinish = new CountDownLatch(1);
        CountDownLatch listenerStarted = new CountDownLatch(1);
        delivery.subscribe(image -> {
            if (image.version() == 5) {
                listenerStarted.countDown();
                try {
                    listenerMayFinish.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        CompletableFuture<ClusterImage> waiting = delivery.awaitVersion(5);
        newest = version(5);
        delivery.offered();
        assertThat(listenerStarted.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(waiting).isNotDone();
        listenerMayFinish.countDown();
        assertThat(waiting.get(10, TimeUnit.SECONDS).version()).isEqualTo(5);
        // A version already heard completes at once.
        assertThat(delivery.awaitVersion(2).get(10, TimeUnit.SECONDS).version()).isEqualTo(5);
    }

    @Test
    void aVersionAwaitedAfterSubscribingHasBeenHeardByTheNewListener() throws Exception {
        newest = version(6);
        delivery.offered();
        assertThat(delivery.awaitVersion(6).get(10, TimeUnit.SECONDS).version()).isEqualTo(6);
        for (int i = 0; i < 5000; i++) {
            List<Long> heard = new CopyOnWriteArrayList<>();
            delivery.subscribe(image -> heard.add(image.version()));
            delivery.awaitVersion(6).get(10, TimeUnit.SECONDS);
            assertThat(heard).containsExactly(6L);
        }
    }

    @Test
    void aFailingListenerDoesNotStopTheOthers() throws Exception {
        delivery.subscribe(image -> {
            throw new IllegalStateException("listener bug");
        });
        List<Long> heard = new CopyOnWriteArrayList<>();
        delivery.subscribe(image -> heard.add(image.version()));
        newest = version(7);
        delivery.offered();
        assertThat(delivery.awaitVersion(7).get(10, TimeUnit.SECONDS).version()).isEqualTo(7);
        assertThat(heard).contains(7L);
    }

    @Test
    void aListenerRunningAtCloseFinishesUninterruptedAndNothingQueuedRunsAfter() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch mayFinish = new CountDownLatch(1);
        List<String> seen = new CopyOnWriteArrayList<>();
        delivery.subscribe(image -> {
            seen.add("v" + image.version());
            if (image.version() == 1) {
                started.countDown();
                try {
                    mayFinish.await();
                    seen.add("finished");
                } catch (InterruptedException e) {
                    seen.add("interrupted");
                }
            }
        });
        newest = version(1);
        delivery.offered();
        assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
        newest = version(2);
        delivery.offered();
        delivery.close();
        mayFinish.countDown();
        assertThat(delivery.awaitClosed(10_000)).isTrue();
        assertThat(seen).as("not interrupted, and the delivery of version 2 queued behind it did nothing").containsExactly("v1", "finished");
    }

    @Test
    void closingFailsWaitersAndRefusesNewOnes() {
        CompletableFuture<ClusterImage> waiting = delivery.awaitVersion(9);
        delivery.close();
        assertThatThrownBy(() -> waiting.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(IllegalStateException.class);
        assertThat(delivery.awaitVersion(1)).isCompletedExceptionally();
    }
}
