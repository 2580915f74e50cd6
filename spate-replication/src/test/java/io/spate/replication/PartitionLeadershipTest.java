package io.spate.replication;

import io.spate.log.LogConfig;
import io.spate.log.LogManager;
import io.spate.log.TopicPartition;
import io.spate.time.ManualScheduler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The leadership calls a partition makes to its node's {@link LeadershipListener}: one when a
 * leadership begins (or its epoch moves), exactly one when it ends, none for changes that keep
 * the role (an in-sync set change, a repeated image), so that a tier holding state per
 * partition can follow the calls alone.
 */
class PartitionLeadershipTest {
    private static final TopicPartition TP = new TopicPartition("__consumer_offsets", 7);

    @TempDir
    Path dataDir;

    private final List<String> calls = new ArrayList<>();
    private LogManager logs;
    private Partition partition;

    @BeforeEach
    void open() throws IOException {
        logs = LogManager.open(dataDir, Clock.systemUTC(), 300_000);
        LeadershipListener recorder = new LeadershipListener() {
            @Override
            public void onBecameLeader(Partition p, int leaderEpoch) {
                calls.add("leads@" + leaderEpoch);
            }

            @Override
            public void onResigned(Partition p, int leaderEpoch) {
                calls.add("resigned@" + leaderEpoch);
            }
        };
        partition = new Partition(TP, logs.getOrCreate(TP, LogConfig.defaultConfig()), 1, Partition.Role.FOLLOWER,
                new PartitionContext(GroupCommit.IN_PLACE, LeadershipLease.ALWAYS, new ManualScheduler(), recorder));
    }

    @AfterEach
    void close() {
        logs.close();
    }

    @Test
    void eachLeadershipIsAnnouncedOnceAndEndedOnce() {
        partition.becomeFollower(1, 1, 2, List.of(1, 2), List.of(1, 2));
        assertThat(calls).as("following is not a leadership").isEmpty();

        partition.becomeLeader(2, 2, List.of(1, 2), List.of(1, 2), 0);
        partition.becomeLeader(2, 3, List.of(1, 2), List.of(1), 0);
        assertThat(calls).as("an in-sync set change keeps the leadership").containsExactly("leads@2");

        partition.becomeLeader(3, 4, List.of(1, 2), List.of(1), 0);
        assertThat(calls).as("the epoch moved without a gap").containsExactly("leads@2", "leads@3");

        partition.becomeFollower(4, 5, 2, List.of(1, 2), List.of(2));
        partition.becomeFollower(4, 6, 2, List.of(1, 2), List.of(2));
        partition.becomeFollower(5, 7, -1, List.of(1, 2), List.of());
        assertThat(calls).as("one end, however many images follow").containsExactly("leads@2", "leads@3", "resigned@3");

        partition.becomeLeader(6, 8, List.of(1, 2), List.of(1), 0);
        assertThat(calls).containsExactly("leads@2", "leads@3", "resigned@3", "leads@6");
    }

    @Test
    void theListenerSeesTheRoleAlreadyChanged() {
        List<Partition.Role> seen = new ArrayList<>();
        Partition observed = new Partition(new TopicPartition("t", 0), partition.log(), 1, Partition.Role.FOLLOWER,
                new PartitionContext(GroupCommit.IN_PLACE, LeadershipLease.ALWAYS, new ManualScheduler(), new LeadershipListener() {
                    @Override
                    public void onBecameLeader(Partition p, int leaderEpoch) {
                        seen.add(p.role());
                    }

                    @Override
                    public void onResigned(Partition p, int leaderEpoch) {
                        seen.add(p.role());
                    }
                }));
        observed.becomeLeader(1, 1, List.of(1), List.of(1), 0);
        observed.becomeFollower(2, 2, 2, List.of(1, 2), List.of(2));
        assertThat(seen).containsExactly(Partition.Role.LEADER, Partition.Role.FOLLOWER);
    }
}
