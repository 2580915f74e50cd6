package io.spate.chaos.cluster;

import java.util.List;

/**
 * Where the nodes of a chaos cluster live on the network, and whether packets between two of
 * them can be dropped.
 */
public interface Network extends AutoCloseable {

    /** The address node {@code id} binds and is reached at. */
    String address(int id);

    /** The command that runs {@code command} inside node {@code id}'s network. */
    List<String> wrap(int id, List<String> command);

    /** True when {@link #cut} works here. */
    boolean canPartition();

    /** Drops every packet node {@code from} sends to node {@code to} (one way). */
    void cut(int from, int to);

    /** Undoes {@link #cut}. */
    void heal(int from, int to);

    /** Why partitions are not available, for the console; empty when they are. */
    String limitation();

    @Override
    void close();
}
