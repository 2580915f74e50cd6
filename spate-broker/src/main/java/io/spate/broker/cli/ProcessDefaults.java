package io.spate.broker.cli;

/**
 * System properties the {@code spate} process sets for itself before any library reads them.
 * Each one buys start-up time, which the first produce of a fresh node pays for; a value given
 * on the command line ({@code -Dname=value} in {@code SPATE_JVM_OPTS}) wins.
 */
final class ProcessDefaults {
    private ProcessDefaults() {
    }

    static void apply() {
        // SLF4J otherwise finds its provider with a ServiceLoader scan of every jar on the class
        // path (about 45 ms with the Ratis and gRPC jars there).
        setIfAbsent("slf4j.provider", "org.slf4j.simple.SimpleServiceProvider");
        // Keeps SLF4J from announcing on stderr that it used the provider named above.
        setIfAbsent("slf4j.internal.verbosity", "WARN");
    }

    private static void setIfAbsent(String name, String value) {
        if (System.getProperty(name) == null) {
            System.setProperty(name, value);
        }
    }
}
