package io.spate.stream.engine;

/**
 * Kafka's default partitioner for keyed records: {@code toPositive(murmur2(key)) % partitions}, so
 * that records Spate re-keys land where a Kafka producer would put them (written from the
 * algorithm's description; {@code PartitioningTest} checks it against kafka-clients).
 */
public final class Partitioning {
    private Partitioning() {
    }

    public static int partition(byte[] key, int numPartitions) {
        if (key == null) {
            throw new IllegalArgumentException("a record without a key has no key partition");
        }
        return toPositive(murmur2(key)) % numPartitions;
    }

    public static int toPositive(int n) {
        return n & 0x7fffffff;
    }

    /** 32-bit MurmurHash2 with Kafka's seed. */
    public static int murmur2(byte[] data) {
        int length = data.length;
        int seed = 0x9747b28c;
        final int m = 0x5bd1e995;
        final int r = 24;
        int h = seed ^ length;
        int length4 = length / 4;
        for (int i = 0; i < length4; i++) {
            int i4 = i * 4;
            int k = (data[i4] & 0xff) + ((data[i4 + 1] & 0xff) << 8) + ((data[i4 + 2] & 0xff) << 16) + ((data[i4 + 3] & 0xff) << 24);
            k *= m;
            k ^= k >>> r;
            k *= m;
            h *= m;
            h ^= k;
        }
        int tail = length & ~3;
        switch (length % 4) {
            case 3:
                h ^= (data[tail + 2] & 0xff) << 16;
                // fall through
            case 2:
                h ^= (data[tail + 1] & 0xff) << 8;
                // fall through
            case 1:
                h ^= data[tail] & 0xff;
                h *= m;
                break;
            default:
                break;
        }
        h ^= h >>> 13;
        h *= m;
        h ^= h >>> 15;
        return h;
    }
}
