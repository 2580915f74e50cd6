package io.spate.broker;

import io.spate.log.InvalidConfigException;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Kafka's settings that go by several names, each resolved to one name by Kafka's fixed precedence:
 * {@code log.retention.ms} over {@code .minutes} over {@code .hours}, {@code log.roll.ms} over
 * {@code log.roll.hours}, {@code log.dirs} over {@code log.dir}, and {@code listeners} over
 * {@code host} and {@code port}. A source of settings (a file, the {@code -o} overrides) is resolved
 * on its own, so neither its order nor a {@link java.util.Properties}' hash order picks the winner,
 * and a later source that names any alias of a setting replaces every alias of it in earlier ones.
 */
final class SettingAliases {
    static final String LOG_RETENTION_MS = "log.retention.ms";
    static final String LOG_ROLL_MS = "log.roll.ms";

    private record CoarserUnit(String name, long millis) {
    }

    private static final List<CoarserUnit> RETENTION_UNITS = List.of(
            new CoarserUnit("log.retention.minutes", 60_000L), new CoarserUnit("log.retention.hours", 3_600_000L));
    private static final List<CoarserUnit> ROLL_UNITS = List.of(new CoarserUnit("log.roll.hours", 3_600_000L));

    /** The names that {@link #resolve} turns into others. */
    static final Set<String> ALIASES = Set.of("log.retention.minutes", "log.retention.hours", "log.roll.hours",
            SpateConfig.LOG_DIR, SpateConfig.LISTENERS);

    private SettingAliases() {
    }

    /** {@code source} with every alias replaced by the name it stands for, the highest-precedence one winning. */
    static Map<String, String> resolve(Map<String, String> source) {
        Map<String, String> resolved = new LinkedHashMap<>(source);
        resolveUnits(resolved, LOG_RETENTION_MS, RETENTION_UNITS, true);
        resolveUnits(resolved, LOG_ROLL_MS, ROLL_UNITS, false);
        String dir = resolved.remove(SpateConfig.LOG_DIR);
        if (dir != null) {
            resolved.putIfAbsent(SpateConfig.LOG_DIRS, dir);
        }
        String listeners = resolved.remove(SpateConfig.LISTENERS);
        if (listeners != null) {
            applyListener(resolved, listeners);
        }
        return resolved;
    }

    /** {@code sources} resolved one by one, each later one replacing the settings it names. */
    static Map<String, String> overlay(List<Map<String, String>> sources) {
        Map<String, String> merged = new LinkedHashMap<>();
        sources.forEach(source -> merged.putAll(resolve(source)));
        return merged;
    }

    private static void resolveUnits(Map<String, String> settings, String millisName, List<CoarserUnit> units, boolean negativeIsUnlimited) {
        // Every alias is parsed, so a bad value is refused even where a finer one takes precedence (as Kafka does).
        for (CoarserUnit unit : units) {
            String value = settings.remove(unit.name());
            if (value != null) {
                settings.putIfAbsent(millisName, String.valueOf(toMillis(unit, value, negativeIsUnlimited)));
            }
        }
    }

    private static long toMillis(CoarserUnit unit, String text, boolean negativeIsUnlimited) {
        long value;
        try {
            value = Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            throw new InvalidConfigException(unit.name() + " must be a whole number, not '" + text + "'");
        }
        if (negativeIsUnlimited && value < 0) {
            return -1; // Kafka: a negative retention, in any unit, keeps the log without a time limit
        }
        if (!negativeIsUnlimited && value < 1) {
            throw new InvalidConfigException(unit.name() + " must be at least 1, not " + value);
        }
        try {
            return Math.multiplyExact(value, unit.millis());
        } catch (ArithmeticException e) {
            throw new InvalidConfigException(unit.name() + " is too large: " + value);
        }
    }

    private static void applyListener(Map<String, String> settings, String listeners) {
        String first = listeners.split(",")[0].trim();
        int scheme = first.indexOf("://");
        String hostPort = scheme >= 0 ? first.substring(scheme + 3) : first;
        int colon = hostPort.lastIndexOf(':');
        if (colon < 0) {
            throw new InvalidConfigException("listeners must look like PLAINTEXT://host:port, not '" + listeners + "'");
        }
        // Kafka: a listener with no host listens on every interface.
        settings.put(SpateConfig.HOST, colon == 0 ? SpateConfig.EVERY_INTERFACE : hostPort.substring(0, colon));
        settings.put(SpateConfig.PORT, hostPort.substring(colon + 1));
    }
}
