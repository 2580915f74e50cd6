package io.spate.tables.service;

import io.spate.tables.Consistency;
import io.spate.tables.Durability;
import io.spate.tables.TableConfig;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A table's settings as the cluster metadata's catalog stores them: named strings, parsed here.
 *
 * <pre>
 * replication.factor   N (required)
 * write.consistency    one | quorum | all   (default quorum)
 * read.consistency     one | quorum | all   (default quorum)
 * durability           sync_each | batched:MS | none   (default batched:5)
 * tombstone.grace.ms   default 864000000 (10 days)
 * sloppy.quorum        true | false   (default false)
 * </pre>
 */
public final class TableSettings {
    public static final String REPLICATION_FACTOR = "replication.factor";
    public static final String WRITE_CONSISTENCY = "write.consistency";
    public static final String READ_CONSISTENCY = "read.consistency";
    public static final String DURABILITY = "durability";
    public static final String TOMBSTONE_GRACE_MS = "tombstone.grace.ms";
    public static final String SLOPPY_QUORUM = "sloppy.quorum";
    private static final Set<String> NAMES = Set.of(REPLICATION_FACTOR, WRITE_CONSISTENCY, READ_CONSISTENCY, DURABILITY,
            TOMBSTONE_GRACE_MS, SLOPPY_QUORUM);
    /** Table names are directory names on every node: a conservative set, like Kafka's topic names. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,200}");

    private TableSettings() {
    }

    public static void checkName(String name) {
        if (name == null || !NAME.matcher(name).matches() || name.equals(".") || name.equals("..")) {
            throw new IllegalArgumentException("a table name is 1 to 200 of A-Z a-z 0-9 . _ -, not '" + name + "'");
        }
    }

    /** Parses the catalog's strings; an unknown name or a bad value is refused, naming it. */
    public static TableConfig parse(String name, Map<String, String> config) {
        checkName(name);
        for (String key : config.keySet()) {
            if (!NAMES.contains(key)) {
                throw new IllegalArgumentException("unknown table setting '" + key + "' (known: " + new java.util.TreeSet<>(NAMES) + ")");
            }
        }
        String rf = config.get(REPLICATION_FACTOR);
        if (rf == null) {
            throw new IllegalArgumentException(REPLICATION_FACTOR + " is required");
        }
        TableConfig defaults = TableConfig.of(name, 1);
        return new TableConfig(name, positiveInt(REPLICATION_FACTOR, rf),
                consistency(WRITE_CONSISTENCY, config.getOrDefault(WRITE_CONSISTENCY, defaults.defaultWrite().name())),
                consistency(READ_CONSISTENCY, config.getOrDefault(READ_CONSISTENCY, defaults.defaultRead().name())),
                durability(config.get(DURABILITY), defaults.durability()),
                positiveLong(TOMBSTONE_GRACE_MS, config.getOrDefault(TOMBSTONE_GRACE_MS, String.valueOf(defaults.tombstoneGraceMs()))),
                bool(SLOPPY_QUORUM, config.getOrDefault(SLOPPY_QUORUM, "false")));
    }

    /** The catalog's strings for a table (every setting spelled out, so no node's defaults matter). */
    public static Map<String, String> toMap(TableConfig config) {
        Map<String, String> out = new LinkedHashMap<>();
        out.put(REPLICATION_FACTOR, String.valueOf(config.replicationFactor()));
        out.put(WRITE_CONSISTENCY, config.defaultWrite().name().toLowerCase(Locale.ROOT));
        out.put(READ_CONSISTENCY, config.defaultRead().name().toLowerCase(Locale.ROOT));
        out.put(DURABILITY, durabilityText(config.durability()));
        out.put(TOMBSTONE_GRACE_MS, String.valueOf(config.tombstoneGraceMs()));
        out.put(SLOPPY_QUORUM, String.valueOf(config.sloppyQuorum()));
        return out;
    }

    public static String durabilityText(Durability d) {
        return switch (d.mode()) {
            case SYNC_EACH -> "sync_each";
            case NONE -> "none";
            case BATCHED -> "batched:" + d.batchMs();
        };
    }

    public static Consistency consistency(String what, String text) {
        try {
            return Consistency.valueOf(text.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(what + " must be one, quorum or all, not '" + text + "'");
        }
    }

    public static Durability durability(String text, Durability fallback) {
        if (text == null) {
            return fallback;
        }
        String t = text.trim().toLowerCase(Locale.ROOT);
        if (t.equals("sync_each")) {
            return Durability.SYNC_EACH;
        }
        if (t.equals("none")) {
            return Durability.NONE;
        }
        if (t.startsWith("batched:")) {
            return Durability.batched(positiveLong(DURABILITY, t.substring("batched:".length())));
        }
        throw new IllegalArgumentException(DURABILITY + " must be sync_each, batched:MS or none, not '" + text + "'");
    }

    private static int positiveInt(String what, String text) {
        long v = positiveLong(what, text);
        if (v > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(what + " is too large: " + text);
        }
        return (int) v;
    }

    private static long positiveLong(String what, String text) {
        try {
            long v = Long.parseLong(text.trim());
            if (v <= 0) {
                throw new IllegalArgumentException(what + " must be positive, not " + text);
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + " must be a number, not '" + text + "'");
        }
    }

    private static boolean bool(String what, String text) {
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException(what + " must be true or false, not '" + text + "'");
        };
    }
}
