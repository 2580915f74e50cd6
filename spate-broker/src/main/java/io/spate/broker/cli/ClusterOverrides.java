package io.spate.broker.cli;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code -o} settings of a stopped local cluster started again: the ones given now over the
 * ones it was started with before. A restart that named one new setting used to replace them all,
 * and the earlier ones were gone without a word. {@code NAME=} (nothing after '=') drops an
 * earlier {@code NAME}, the only way to take one back short of editing {@code cluster.properties}.
 *
 * @param settings what the nodes start with now
 * @param changes  one line per setting added, changed or dropped, in the order given
 * @param kept     the earlier settings that stay as they were, as {@code NAME=VALUE}
 */
record ClusterOverrides(Map<String, String> settings, List<String> changes, List<String> kept) {
    ClusterOverrides {
        settings = Collections.unmodifiableMap(new LinkedHashMap<>(settings));
        changes = List.copyOf(changes);
        kept = List.copyOf(kept);
    }

    static ClusterOverrides merge(Map<String, String> stored, Map<String, String> given) {
        Map<String, String> settings = new LinkedHashMap<>(stored);
        List<String> changes = new ArrayList<>();
        given.forEach((name, value) -> {
            String before = stored.get(name);
            if (value.isEmpty()) {
                if (settings.remove(name) != null) {
                    changes.add(name + " dropped (was " + before + ")");
                }
            } else if (before == null) {
                settings.put(name, value);
                changes.add(name + "=" + value + " (new)");
            } else if (!before.equals(value)) {
                settings.put(name, value);
                changes.add(name + "=" + value + " (was " + before + ")");
            }
        });
        List<String> kept = new ArrayList<>();
        stored.forEach((name, value) -> {
            if (value.equals(settings.get(name))) {
                kept.add(name + "=" + value);
            }
        });
        return new ClusterOverrides(settings, changes, kept);
    }
}
