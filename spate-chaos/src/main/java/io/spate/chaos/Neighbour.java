package io.spate.chaos;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** A CPU-heavy neighbour: one busy shell loop per core, at the nodes' own priority. */
final class Neighbour implements AutoCloseable {
    private final List<Process> loops = new ArrayList<>();
    /**
     * A runner stopped by a signal must not leave its busy loops behind: they would sit beside
     * every later run, the ones meant to run without a neighbour too (it happened once).
     */
    private final Thread onExit = new Thread(this::stopLoops, "chaos-neighbour-cleanup");

    static Neighbour start() throws IOException {
        Neighbour n = new Neighbour();
        Runtime.getRuntime().addShutdownHook(n.onExit);
        for (int i = 0; i < Runtime.getRuntime().availableProcessors(); i++) {
            n.loops.add(new ProcessBuilder("sh", "-c", "while :; do :; done").start());
        }
        return n;
    }

    private void stopLoops() {
        loops.forEach(p -> p.toHandle().destroyForcibly());
    }

    @Override
    public void close() {
        stopLoops();
        try {
            Runtime.getRuntime().removeShutdownHook(onExit);
        } catch (IllegalStateException shuttingDown) {
            // the hook runs (or ran) anyway
        }
    }
}
