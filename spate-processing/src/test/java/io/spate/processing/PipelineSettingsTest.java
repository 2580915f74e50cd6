package io.spate.processing;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PipelineSettingsTest {

    @Test
    void standbysAreOffUnlessAskedFor() {
        assertThat(PipelineSettings.of(Map.of()).standbyReplicas()).isZero();
        assertThat(PipelineSettings.of(Map.of("num.standby.replicas", "2")).standbyReplicas()).isEqualTo(2);
        assertThat(PipelineSettings.of(Map.of("num.standby.replicas", "1", "state.store", "rocksdb")).standbyReplicas()).isEqualTo(1);
    }

    @Test
    void aStandbyCountThatCannotBeIsRefusedWithTheReason() {
        assertThatThrownBy(() -> PipelineSettings.of(Map.of("num.standby.replicas", "-1")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("num.standby.replicas must be 0 or more");
        assertThatThrownBy(() -> PipelineSettings.of(Map.of("num.standby.replicas", "one")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("whole number");
    }
}
