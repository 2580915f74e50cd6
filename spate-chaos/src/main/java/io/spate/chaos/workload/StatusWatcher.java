package io.spate.chaos.workload;

import io.spate.chaos.RunClock;
import io.spate.chaos.history.ReplicaStatus;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * Asks the cluster four times a second how it sees the workload's partitions (leader, in-sync
 * set, eligible leader replicas) and keeps every change. A node that answers from an old image
 * may report a stale view for a moment; the checker uses these only to decide which stalls an
 * election could have ended, never for safety.
 */
public final class StatusWatcher implements AutoCloseable {
    private static final long POLL_MS = 250;

    private final Admin admin;
    private final String topic;
    private final RunClock clock;
    private final Thread thread;
    private final List<ReplicaStatus> statuses = new ArrayList<>();
    private final Map<Integer, ReplicaStatus> last = new HashMap<>();
    private volatile boolean running = true;

    public StatusWatcher(String bootstrap, String topic, RunClock clock) {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(AdminClientConfig.CLIENT_ID_CONFIG, "chaos-status");
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "1000");
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "1500");
        props.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");
        this.admin = Admin.create(props);
        this.topic = topic;
        this.clock = clock;
        this.thread = Thread.ofPlatform().name("chaos-status").daemon().unstarted(this::loop);
    }

    public void start() {
        thread.start();
    }

    private void loop() {
        while (running) {
            long started = System.nanoTime();
            try {
                TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get(2, TimeUnit.SECONDS).get(topic);
                long at = clock.nowUs();
                for (TopicPartitionInfo p : d.partitions()) {
                    record(new ReplicaStatus(at, p.partition(), p.leader() == null ? -1 : p.leader().id(), ids(p.isr()), ids(p.elr()),
                            ids(p.replicas())));
                }
            } catch (InterruptedException e) {
                return;
            } catch (Exception e) {
                // No answer (no quorum, every node busy): the last account stands.
            }
            long left = POLL_MS - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            if (left > 0) {
                try {
                    Thread.sleep(left);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    private synchronized void record(ReplicaStatus status) {
        ReplicaStatus before = last.get(status.partition());
        if (before != null && before.leader() == status.leader() && before.isr().equals(status.isr()) && before.elr().equals(status.elr())
                && before.replicas().equals(status.replicas())) {
            return;
        }
        last.put(status.partition(), status);
        statuses.add(status);
    }

    private static List<Integer> ids(List<Node> nodes) {
        return nodes == null ? List.of() : nodes.stream().map(Node::id).toList();
    }

    public synchronized List<ReplicaStatus> statuses() {
        return List.copyOf(statuses);
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        admin.close(java.time.Duration.ofSeconds(2));
    }
}
