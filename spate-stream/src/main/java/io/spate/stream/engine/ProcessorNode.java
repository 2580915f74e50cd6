package io.spate.stream.engine;

/**
 * A runtime operator of one task. Records travel as objects from node to node by direct calls
 * (no queue between them); {@code ts} is the record's event time.
 */
abstract class ProcessorNode {
    private static final ProcessorNode[] NONE = new ProcessorNode[0];

    final String name;
    ProcessorNode[] children = NONE;

    ProcessorNode(String name) {
        this.name = name;
    }

    abstract void process(Object key, Object value, long ts);

    final void forward(Object key, Object value, long ts) {
        for (ProcessorNode child : children) {
            child.process(key, value, ts);
        }
    }

    /** A node that reads one of the task's input topics. */
    interface InputNode {
        void processInput(InputRecord record);

        /**
         * Whether the topic's records move the task's stream time: a stream's do; a table's only
         * when its updates flow on as a stream. A table that serves lookups only (a join's) would
         * otherwise close the windows of the stream it is joined with by its own timestamps.
         */
        boolean movesStreamTime();
    }
}
