package io.spate.processing;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The records of the pipeline catalog, a compacted topic like Kafka Connect's config topic: a
 * pipeline's spec under {@code pipeline/NAME} (JSON; a tombstone deletes it) and a jar's bytes under
 * {@code jar/SHA256}. The status topic keeps each task's last report under {@code NAME/SUB/PARTITION}.
 */
public final class CatalogRecords {
    public static final String CATALOG_TOPIC = "__spate_pipelines";
    public static final String STATUS_TOPIC = "__spate_pipeline_status";
    public static final String PIPELINE_PREFIX = "pipeline/";
    public static final String JAR_PREFIX = "jar/";
    /** A pipeline's jar is one record: the catalog topic takes records this large. */
    public static final int MAX_JAR_BYTES = 48 << 20;

    private static final ObjectMapper JSON = new ObjectMapper();
    /**
     * Reads task reports written by any node of a cluster in the middle of a rolling upgrade:
     * a field a newer node added is skipped, and one an older node did not write reads as 0
     * (or null), so that neither a node nor {@code spate pipeline describe} stops at the other's.
     */
    private static final ObjectMapper TOLERANT_JSON = new ObjectMapper()
            .configure(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private CatalogRecords() {
    }

    public static String pipelineKey(String name) {
        return PIPELINE_PREFIX + name;
    }

    public static String jarKey(String sha256) {
        return JAR_PREFIX + sha256;
    }

    public static byte[] encode(PipelineSpec spec) {
        Map<String, Object> fields = Map.of("name", spec.name(), "source", spec.source(), "reference", spec.reference(),
                "className", spec.className(), "settings", spec.settings(), "paused", spec.paused(), "generation", spec.generation());
        try {
            return JSON.writeValueAsBytes(fields);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public static PipelineSpec decodeSpec(byte[] bytes) {
        try {
            Map<String, Object> fields = JSON.readValue(bytes, new TypeReference<Map<String, Object>>() { });
            @SuppressWarnings("unchecked")
            Map<String, String> settings = (Map<String, String>) fields.getOrDefault("settings", Map.of());
            return new PipelineSpec((String) fields.get("name"), (String) fields.get("source"), (String) fields.get("reference"),
                    (String) fields.get("className"), settings, Boolean.TRUE.equals(fields.get("paused")),
                    ((Number) fields.get("generation")).longValue());
        } catch (java.io.IOException | RuntimeException e) {
            throw new IllegalArgumentException("not a pipeline spec: " + new String(bytes, StandardCharsets.UTF_8), e);
        }
    }

    public static byte[] encode(TaskStatus status) {
        try {
            return JSON.writeValueAsBytes(status);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public static TaskStatus decodeStatus(byte[] bytes) {
        try {
            return TOLERANT_JSON.readValue(bytes, TaskStatus.class);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("not a task status", e);
        }
    }

    public static String statusKey(String pipeline, int subTopology, int partition) {
        return pipeline + "/" + subTopology + "/" + partition;
    }

    /** A standby's report: one per task and node keeping it. */
    public static String standbyKey(String pipeline, int subTopology, int partition, int node) {
        return statusKey(pipeline, subTopology, partition) + "/standby/" + node;
    }
}
