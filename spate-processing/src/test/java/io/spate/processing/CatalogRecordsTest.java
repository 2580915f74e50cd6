package io.spate.processing;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CatalogRecordsTest {
    @Test
    void aSpecSurvivesItsRecord() {
        PipelineSpec spec = new PipelineSpec("counts", PipelineSpec.JAR, "ab12".repeat(16), "com.example.Counts",
                Map.of("processing.guarantee", "exactly_once", "window.s", "5"), true, 7);

        assertThat(CatalogRecords.decodeSpec(CatalogRecords.encode(spec))).isEqualTo(spec);
    }

    @Test
    void aTaskStatusSurvivesItsRecord() {
        TaskStatus status = new TaskStatus("counts", 1, 4, 2, "RUNNING", 3, 1000, 12, 250.5, 800, 2500, 9000, 3, 1, 42, 77, 0, "", 123456789L, 900, 100, 5000);

        assertThat(CatalogRecords.decodeStatus(CatalogRecords.encode(status))).isEqualTo(status);
    }

    @Test
    void aTaskStatusFromANewerOrAnOlderNodeIsRead() {
        String current = new String(CatalogRecords.encode(
                new TaskStatus("counts", 1, 4, 2, "RUNNING", 3, 1000, 12, 250.5, 800, 2500, 9000, 3, 1, 42, 77, 0, "", 123456789L, 900, 100, 5000)),
                java.nio.charset.StandardCharsets.UTF_8);
        String newer = current.replace("\"pipeline\":", "\"someFieldOfLater\":[1,2],\"pipeline\":");
        String older = current.replace(",\"standbyRecords\":5000", "");
        assertThat(newer).contains("someFieldOfLater");
        assertThat(older).doesNotContain("standbyRecords");

        assertThat(CatalogRecords.decodeStatus(newer.getBytes(java.nio.charset.StandardCharsets.UTF_8)).standbyRecords()).isEqualTo(5000);
        TaskStatus fromOlder = CatalogRecords.decodeStatus(older.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertThat(fromOlder.standbyRecords()).isZero();
        assertThat(fromOlder.recordsProcessed()).isEqualTo(1000);
    }

    @Test
    void aRecordThatIsNotASpecIsRefusedWithItsText() {
        assertThatThrownBy(() -> CatalogRecords.decodeSpec("{\"name\":1}".getBytes()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a pipeline spec");
    }

    @Test
    void badNamesAndSettingsAreRefusedBeforeAnythingIsWritten() {
        assertThatThrownBy(() -> new PipelineSpec("no spaces", PipelineSpec.EXAMPLE, "wordcount", "x", Map.of(), false, 1))
                .hasMessageContaining("a pipeline name");
        assertThatThrownBy(() -> PipelineSettings.of(Map.of("processing.guarantee", "twice")))
                .hasMessageContaining("at_least_once or exactly_once");
        assertThatThrownBy(() -> PipelineSettings.of(Map.of("commit.interval.ms", "soon")))
                .hasMessageContaining("commit.interval.ms must be a whole number");
        assertThat(PipelineSettings.of(Map.of("processing.guarantee", "exactly_once")).commitIntervalMs()).isEqualTo(20);
        assertThat(PipelineSettings.of(Map.of()).guarantee()).isEqualTo(Guarantee.AT_LEAST_ONCE);
    }

    @Test
    void aTasksStreamTimeRidesInItsCommittedPositions() {
        String metadata = PositionStore.streamTimeMetadata(1_700_000_123_456L);

        assertThat(PositionStore.streamTimeOf(new org.apache.kafka.clients.consumer.OffsetAndMetadata(10, metadata))).isEqualTo(1_700_000_123_456L);
        assertThat(PositionStore.streamTimeOf(new org.apache.kafka.clients.consumer.OffsetAndMetadata(10, ""))).isEqualTo(Long.MIN_VALUE);
        assertThat(PositionStore.streamTimeOf(new org.apache.kafka.clients.consumer.OffsetAndMetadata(10, "st=soon"))).isEqualTo(Long.MIN_VALUE);
        assertThat(PositionStore.streamTimeMetadata(Long.MIN_VALUE)).isEmpty();
    }

    @Test
    void aJarIsNamedByItsHashOnly() {
        assertThatThrownBy(() -> new PipelineSpec("p", PipelineSpec.JAR, "../../etc/passwd", "x", Map.of(), false, 1))
                .hasMessageContaining("SHA-256");
        assertThatThrownBy(() -> PipelineSettings.of(Map.of("processing.guarantee", "exactly_once", "commit.interval.ms", "60000")))
                .hasMessageContaining("at most 30000");
    }
}
