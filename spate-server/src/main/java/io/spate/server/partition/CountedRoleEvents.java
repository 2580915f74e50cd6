package io.spate.server.partition;

import io.spate.log.TopicPartition;
import io.spate.replication.node.NodeRoles;

import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * The role decisions' events, logged as always and counted for the node's metrics: partitions
 * this node took the lead of (a leader election won here, Kafka's LeaderElectionRate seen from the
 * new leader), and the in-sync set changes of the partitions it leads as the metadata applies
 * them, whoever asked (Kafka's IsrShrinksPerSec and IsrExpandsPerSec; here the controller's
 * dropping of a fenced node counts too, since it is the same event for whoever watches the
 * partition).
 */
public final class CountedRoleEvents implements NodeRoles.Events {
    private final NodeRoles.Events logged;
    private final LongAdder leaderships = new LongAdder();
    private final LongAdder isrShrinks = new LongAdder();
    private final LongAdder isrExpands = new LongAdder();

    CountedRoleEvents(NodeRoles.Events logged) {
        this.logged = logged;
    }

    /** Times this node became leader of a partition, or led it at a new epoch. */
    public long leaderships() {
        return leaderships.sum();
    }

    /** In-sync set shrinks of partitions led here: a replica left. */
    public long isrShrinks() {
        return isrShrinks.sum();
    }

    /** In-sync set expansions of partitions led here: a replica joined. */
    public long isrExpands() {
        return isrExpands.sum();
    }

    @Override
    public void leading(TopicPartition tp, int leaderEpoch, List<Integer> isr) {
        leaderships.increment();
        logged.leading(tp, leaderEpoch, isr);
    }

    @Override
    public void following(TopicPartition tp, int leader, int leaderEpoch) {
        logged.following(tp, leader, leaderEpoch);
    }

    @Override
    public void selfFencing(boolean fenced, boolean before) {
        logged.selfFencing(fenced, before);
    }

    @Override
    public void askingToGrow(TopicPartition tp, int follower, long fetchOffset, List<Integer> proposal) {
        logged.askingToGrow(tp, follower, fetchOffset, proposal);
    }

    @Override
    public void askingToShrink(TopicPartition tp, List<Integer> dropped, List<Integer> proposal) {
        logged.askingToShrink(tp, dropped, proposal);
    }

    @Override
    public void isrChanged(TopicPartition tp, List<Integer> before, List<Integer> after) {
        if (!after.containsAll(before)) {
            isrShrinks.increment();
        }
        if (!before.containsAll(after)) {
            isrExpands.increment();
        }
        logged.isrChanged(tp, before, after);
    }

    @Override
    public void registeringAgain() {
        logged.registeringAgain();
    }

    @Override
    public void couldNotTakeRole(TopicPartition tp, Exception e) {
        logged.couldNotTakeRole(tp, e);
    }
}
