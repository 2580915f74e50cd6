package io.spate.stream;

import io.spate.stream.engine.Partitioning;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class PartitioningTest {
    @Test
    void murmur2MatchesKafkasForEveryTailLength() {
        Random random = new Random(42);
        for (int length = 0; length < 64; length++) {
            for (int i = 0; i < 50; i++) {
                byte[] key = new byte[length];
                random.nextBytes(key);
                assertThat(Partitioning.murmur2(key)).as("murmur2 of %d bytes", length).isEqualTo(Utils.murmur2(key));
            }
        }
    }

    @Test
    void partitionsMatchKafkasDefaultPartitionerForStringKeys() {
        for (int n : new int[]{1, 3, 6, 7, 100}) {
            for (int u = 0; u < 1000; u++) {
                byte[] key = String.format("u%04d", u).getBytes(StandardCharsets.UTF_8);
                assertThat(Partitioning.partition(key, n)).isEqualTo(Utils.toPositive(Utils.murmur2(key)) % n);
            }
        }
    }

    @Test
    void knownValues() {
        // values Kafka's own UtilsTest pins for murmur2
        assertThat(Partitioning.murmur2("21".getBytes(StandardCharsets.UTF_8))).isEqualTo(-973932308);
        assertThat(Partitioning.murmur2("foobar".getBytes(StandardCharsets.UTF_8))).isEqualTo(-790332482);
        assertThat(Partitioning.murmur2("a-little-bit-long-string".getBytes(StandardCharsets.UTF_8))).isEqualTo(-985981536);
        assertThat(Partitioning.murmur2(new byte[0])).isEqualTo(Utils.murmur2(new byte[0]));
    }
}
