package io.spate.testkit.sim;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;

/**
 * Who can reach whom, one way at a time, how long a message takes (independently, so messages
 * overtake one another), and which links deliver messages twice. Node 0 is the controller
 * quorum, seen as one always-available party: its own faults are Raft's business, tested apart.
 */
public final class SimNetwork {
    public static final int CONTROLLER = 0;

    private final Random random;
    private final Set<Long> cut = new HashSet<>();
    /** Links that deliver every message twice (a request retried on a new connection while the first still runs). */
    private final Set<Long> duplicating = new HashSet<>();

    SimNetwork(Random random) {
        this.random = random;
    }

    private static long link(int from, int to) {
        return ((long) from << 32) | (to & 0xffffffffL);
    }

    public boolean reaches(int from, int to) {
        return !cut.contains(link(from, to));
    }

    void cut(int from, int to) {
        cut.add(link(from, to));
    }

    void heal(int from, int to) {
        cut.remove(link(from, to));
    }

    void healAll() {
        cut.clear();
        duplicating.clear();
    }

    /** Whether a message from {@code from} to {@code to} arrives a second time, after a delay of its own. */
    public boolean duplicates(int from, int to) {
        return duplicating.contains(link(from, to));
    }

    void duplicate(int from, int to) {
        duplicating.add(link(from, to));
    }

    void stopDuplicating(int from, int to) {
        duplicating.remove(link(from, to));
    }

    /** A message's one-way delay: mostly a millisecond or two, now and then much longer. */
    long delayMs() {
        return random.nextInt(20) == 0 ? 5 + random.nextInt(60) : 1 + random.nextInt(2);
    }

    @Override
    public String toString() {
        return cut.stream().map(l -> (l >> 32) + ">" + (int) (long) l).sorted().toList().toString();
    }
}
