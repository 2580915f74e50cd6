package io.spate.cluster;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Hands a metadata log's newest image to its listeners and completes {@code awaitVersion}
 * futures, for both logs (the Raft quorum's and a node's own). Listeners hear images on one
 * thread, in order, each version at most once, and may skip versions when several committed while
 * they were busy; a future waiting for a version completes only once every listener has finished
 * with an image at least that new, so a caller that waited may rely on what the node did with it.
 */
public final class ImageDelivery implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ImageDelivery.class);

    private final Supplier<ClusterImage> current;
    private final ExecutorService notifier;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final NavigableMap<Long, List<CompletableFuture<ClusterImage>>> waiters = new TreeMap<>();
    /** The newest image every listener has finished with. */
    private volatile ClusterImage listened = ClusterImage.EMPTY;
    private volatile boolean closed;

    /** @param current the log's newest image, read on the notifier thread each time something may be due */
    public ImageDelivery(String threadName, Supplier<ClusterImage> current) {
        this.current = current;
        this.notifier = Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().name(threadName).daemon().unstarted(r));
    }

    /** The log has a newer image: deliver it soon. */
    public void offered() {
        run(this::deliver);
    }

    /**
     * Adds a listener. One added after images were delivered starts from the newest image, so it
     * neither misses one nor hears one twice; a version awaited after this returns has been
     * heard by it.
     */
    public void subscribe(Consumer<ClusterImage> listener) {
        listeners.add(new Listener(listener));
        offered();
    }

    /** Completes once every listener has heard an image of at least {@code version}. */
    public CompletableFuture<ClusterImage> awaitVersion(long version) {
        CompletableFuture<ClusterImage> future = new CompletableFuture<>();
        synchronized (waiters) {
            // Under the lock close() fails the waiters with: a future added after that would wait forever.
            if (closed) {
                return CompletableFuture.failedFuture(new IllegalStateException("the metadata log is closed"));
            }
            waiters.computeIfAbsent(version, v -> new ArrayList<>()).add(future);
        }
        // Also when the image is already there: the deliver run queued here completes it.
        offered();
        return future;
    }

    /** The newest image every listener has finished with. */
    public ClusterImage listened() {
        return listened;
    }

    private void deliver() {
        if (closed) {
            return;
        }
        ClusterImage newest = current.get();
        // Nothing to tell before the first image: a node must not act on an empty cluster.
        if (newest != ClusterImage.EMPTY) {
            boolean someoneBehind;
            do {
                // Again when a listener was added while the others were being told.
                someoneBehind = false;
                for (Listener listener : listeners) {
                    if (listener.heard < newest.version()) {
                        listener.heard = newest.version();
                        tell(listener.consumer, newest);
                        someoneBehind = true;
                    }
                }
            } while (someoneBehind);
            if (newest.version() > listened.version() || listened == ClusterImage.EMPTY) {
                listened = newest;
            }
        }
        ClusterImage seen = listened;
        List<CompletableFuture<ClusterImage>> due = new ArrayList<>();
        synchronized (waiters) {
            // A listener subscribed while this run was telling the others is not in its snapshot, yet
            // a version awaited after subscribing must have been heard by it. It was added before any
            // such waiter (under this lock), so it is seen here; the run its subscribe queued tells it
            // and completes the waiters then.
            if (seen != ClusterImage.EMPTY && someoneHasNotHeard(seen.version())) {
                return;
            }
            var head = waiters.headMap(seen.version(), true);
            head.values().forEach(due::addAll);
            head.clear();
        }
        due.forEach(f -> f.complete(seen));
    }

    private boolean someoneHasNotHeard(long version) {
        for (Listener listener : listeners) {
            if (listener.heard < version) {
                return true;
            }
        }
        return false;
    }

    private static void tell(Consumer<ClusterImage> listener, ClusterImage image) {
        try {
            listener.accept(image);
        } catch (RuntimeException e) {
            log.error("metadata listener failed on image {}", image.version(), e);
        }
    }

    /** Touched on the notifier thread only, apart from its creation. */
    private static final class Listener {
        final Consumer<ClusterImage> consumer;
        long heard = -1;

        Listener(Consumer<ClusterImage> consumer) {
            this.consumer = consumer;
        }
    }

    private void run(Runnable task) {
        try {
            notifier.execute(task);
        } catch (RejectedExecutionException closing) {
            // Closed: close() has failed every waiter, and nothing is delivered any more.
        }
    }

    /**
     * Stops delivering and fails every future still waiting. A listener running now finishes
     * (it is not interrupted: it may be writing a partition's files); deliveries queued behind it
     * do nothing.
     */
    @Override
    public void close() {
        List<CompletableFuture<ClusterImage>> waiting = new ArrayList<>();
        synchronized (waiters) {
            closed = true;
            waiters.values().forEach(waiting::addAll);
            waiters.clear();
        }
        notifier.shutdown();
        waiting.forEach(f -> f.completeExceptionally(new IllegalStateException("the metadata log is closed")));
    }

    /** After {@link #close}: whether the listener running then has finished within {@code ms}. */
    boolean awaitClosed(long ms) throws InterruptedException {
        return notifier.awaitTermination(ms, java.util.concurrent.TimeUnit.MILLISECONDS);
    }
}
