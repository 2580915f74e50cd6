package io.spate.testkit.sim;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;

/**
 * Who can reach whom, one way at a time, and how long a message takes. Node 0 is the controller
 * quorum, seen as one always-available party: its own faults are Raft's business, tested apart.
 */
public final class SimNetwork {
    public static final int CONTROLLER = 0;

    private final Random random;
    private final Set<Long> cut = new HashSet<>();

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
