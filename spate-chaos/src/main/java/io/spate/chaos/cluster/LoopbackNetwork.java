package io.spate.chaos.cluster;

import java.util.List;

/** Every node on 127.0.0.1 (distinct ports): no partitions, but runs anywhere. */
public final class LoopbackNetwork implements Network {
    private final String reason;

    public LoopbackNetwork(String reason) {
        this.reason = reason;
    }

    @Override
    public String address(int id) {
        return "127.0.0.1";
    }

    @Override
    public List<String> wrap(int id, List<String> command) {
        return command;
    }

    @Override
    public boolean canPartition() {
        return false;
    }

    @Override
    public void cut(int from, int to) {
        throw new UnsupportedOperationException("network partitions need network namespaces: " + reason);
    }

    @Override
    public void heal(int from, int to) {
        // nothing was cut
    }

    @Override
    public String limitation() {
        return reason;
    }

    @Override
    public void close() {
    }
}
