package io.spate.chaos.check;

import java.util.Locale;

/** Formats run times (microseconds since the run started) for people. */
public final class Times {

    private Times() {
    }

    /** {@code 12.345s}. */
    public static String s(long us) {
        return String.format(Locale.ROOT, "%.3fs", us / 1e6);
    }

    /** Seconds with one decimal, for tables: {@code 12.3}. */
    public static String s1(long us) {
        return String.format(Locale.ROOT, "%.1f", us / 1e6);
    }
}
