package io.spate.server.metadata;

import io.spate.server.StandaloneCore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Incremental changes to a topic's settings on a node's real metadata log: a change made on
 * settings that another change replaced meanwhile is made again on the new ones, never
 * committed over them.
 */
class TopicConfigChangesTest {
    @TempDir
    Path dataDir;
    StandaloneCore core;

    @BeforeEach
    void start() throws Exception {
        core = StandaloneCore.start(dataDir);
        core.topics.create("t", 1, (short) 1, Map.of("retention.ms", "1000"));
    }

    @AfterEach
    void stop() {
        core.close();
    }

    @Test
    void twoChangesMadeOnTheSameSettingsBothSurvive() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        // The first change reads the settings; before it is committed, a second change to another key is.
        TopicInfo after = core.topics.alterConfigAsync("t", settings -> {
            if (calls.getAndIncrement() == 0) {
                core.topics.alterConfigAsync("t", with("max.message.bytes", "2048"), false).join();
            }
            return with("segment.ms", "60000").apply(settings);
        }, false).get(30, TimeUnit.SECONDS);

        assertThat(calls).as("made again on the settings the second change left").hasValue(2);
        assertThat(after.overrides()).containsEntry("retention.ms", "1000").containsEntry("segment.ms", "60000")
                .containsEntry("max.message.bytes", "2048");
        assertThat(core.registry.get("t").overrides()).isEqualTo(after.overrides());
    }

    private static java.util.function.UnaryOperator<Map<String, String>> with(String key, String value) {
        return settings -> {
            Map<String, String> changed = new HashMap<>(settings);
            changed.put(key, value);
            return changed;
        };
    }
}
