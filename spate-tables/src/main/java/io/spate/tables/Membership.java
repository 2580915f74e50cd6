package io.spate.tables;

import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * What a node knows of the cluster: the members that own tokens on the ring and which of them are
 * live. The next slice fills it from the cluster metadata (registrations, fencing); the
 * simulation plays that part. A member that is not live keeps its tokens: requests send its
 * share to stand-ins with hints, and it gets them back when it is live again.
 *
 * @param epoch   increases with every change, so a node can ignore an older view arriving late
 * @param members node ids owning tokens
 * @param live    the members believed up now
 */
public record Membership(long epoch, SortedSet<String> members, Set<String> live) {
    public Membership {
        members = new TreeSet<>(members);
        live = Set.copyOf(live);
        if (!members.containsAll(live)) {
            throw new IllegalArgumentException("live nodes " + live + " are not all members " + members);
        }
    }

    public static Membership allLive(long epoch, Set<String> members) {
        return new Membership(epoch, new TreeSet<>(members), members);
    }

    public boolean isLive(String node) {
        return live.contains(node);
    }
}
