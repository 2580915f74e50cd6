package io.spate.broker.cli;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The arguments of {@code spate start} when they are all plain {@code --flag value} pairs, read
 * without picocli: loading and verifying picocli's classes costs about a quarter of a second,
 * a third of a node's start-up. Anything else (help, an unknown or malformed option) returns
 * null and goes through picocli, which explains it properly. The flags and their settings come
 * from {@link StartCommand}, so both paths accept the same options.
 */
record QuickStartArgs(Path configFile, Map<String, String> overrides, Map<String, String> flagSettings) {

    static QuickStartArgs parse(String[] args) {
        Path configFile = null;
        Map<String, String> overrides = new LinkedHashMap<>();
        Map<String, String> flags = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            String value;
            int eq = arg.indexOf('=');
            if (arg.startsWith("--") && eq > 0) {
                value = arg.substring(eq + 1);
                arg = arg.substring(0, eq);
            } else if (i + 1 < args.length) {
                value = args[++i];
            } else {
                return null;
            }
            if (StartCommand.FLAG_SETTINGS.containsKey(arg)) {
                flags.put(StartCommand.FLAG_SETTINGS.get(arg), value);
            } else if (arg.equals(StartCommand.CONFIG)) {
                configFile = Path.of(value);
            } else if ((arg.equals(StartCommand.OVERRIDE) || arg.equals("--override")) && value.indexOf('=') > 0) {
                overrides.put(value.substring(0, value.indexOf('=')), value.substring(value.indexOf('=') + 1));
            } else {
                return null;
            }
        }
        return new QuickStartArgs(configFile, overrides, flags);
    }
}
