package io.spate.processing;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StateStoreTypeTest {
    @Test
    void stateStoreIsInMemoryUnlessRocksDbIsAskedFor() {
        assertThat(PipelineSettings.of(Map.of()).stateStore()).isEqualTo(StateStoreType.IN_MEMORY);
        assertThat(PipelineSettings.of(Map.of("state.store", "in_memory")).stateStore()).isEqualTo(StateStoreType.IN_MEMORY);
        assertThat(PipelineSettings.of(Map.of("state.store", " RocksDB ")).stateStore()).isEqualTo(StateStoreType.ROCKSDB);
        assertThatThrownBy(() -> PipelineSettings.of(Map.of("state.store", "lmdb")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("state.store must be in_memory or rocksdb, not 'lmdb'");
    }
}
