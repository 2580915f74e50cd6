package io.spate.log;

/** A partition of a topic, named the way Kafka names partition directories: {@code topic-N}. */
public record TopicPartition(String topic, int partition) {
    public String dirName() {
        return topic + "-" + partition;
    }

    /** Parses a partition directory name; the topic part may itself contain dashes. */
    public static TopicPartition fromDirName(String name) {
        int dash = name.lastIndexOf('-');
        if (dash <= 0 || dash == name.length() - 1) {
            throw new IllegalArgumentException("not a partition directory name: " + name);
        }
        return new TopicPartition(name.substring(0, dash), Integer.parseInt(name.substring(dash + 1)));
    }

    @Override
    public String toString() {
        return dirName();
    }
}
