package io.spate.processing;

/** One task: a sub-topology of a pipeline over one partition of its inputs. */
public record TaskId(String pipeline, int subTopology, int partition) implements Comparable<TaskId> {
    @Override
    public int compareTo(TaskId o) {
        int byName = pipeline.compareTo(o.pipeline);
        if (byName != 0) {
            return byName;
        }
        return subTopology != o.subTopology ? Integer.compare(subTopology, o.subTopology) : Integer.compare(partition, o.partition);
    }

    @Override
    public String toString() {
        return pipeline + "/" + subTopology + "/" + partition;
    }
}
