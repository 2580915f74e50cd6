package io.spate.tables;

import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class MemoryTableStoreTest extends TableStoreContract {
    @Override
    TableStore open(Durability durability) {
        return new MemoryTableStore(durability, scheduler);
    }

    @Test
    void aCrashKeepsWhatWasSyncedAndAPrefixOfTheRest() {
        for (int seed = 0; seed < 50; seed++) {
            MemoryTableStore store = new MemoryTableStore(Durability.batched(10), scheduler);
            AtomicInteger acked = new AtomicInteger();
            for (int i = 0; i < 5; i++) {
                store.merge(key(i), Cell.value(i + 1, "v".getBytes()), acked::incrementAndGet);
            }
            scheduler.advance(10);
            for (int i = 5; i < 10; i++) {
                store.merge(key(i), Cell.value(i + 1, "v".getBytes()), acked::incrementAndGet);
            }
            int lost = store.crash(new Random(new java.util.SplittableRandom(seed).nextLong())); // a fresh Random's first draw barely varies with small seeds
            scheduler.advance(10);
            assertThat(acked).hasValue(5); // the second group's acks died with the process
            assertThat(store.size()).isEqualTo(10 - lost);
            assertThat(store.maxHlc()).as("what survived, as a reopened store would find it").isEqualTo(10 - lost);
            for (int i = 0; i < 10 - lost; i++) {
                assertThat(store.get(key(i))).as("prefix kept, seed %d", seed).isNotNull();
            }
        }
    }
}
