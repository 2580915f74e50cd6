package io.spate.chaos;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** A CPU-heavy neighbour: one busy shell loop per core, at the nodes' own priority. */
final class Neighbour implements AutoCloseable {
    private final List<Process> loops = new ArrayList<>();

    static Neighbour start() throws IOException {
        Neighbour n = new Neighbour();
        for (int i = 0; i < Runtime.getRuntime().availableProcessors(); i++) {
            n.loops.add(new ProcessBuilder("sh", "-c", "while :; do :; done").start());
        }
        return n;
    }

    @Override
    public void close() {
        loops.forEach(p -> p.toHandle().destroyForcibly());
    }
}
