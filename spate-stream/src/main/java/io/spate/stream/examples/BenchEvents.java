package io.spate.stream.examples;

/**
 * The benchmark's event: the CSV value {@code sendMicros,seq,user,type,amount,padding} keyed by
 * the user (see the Kafka Streams anchor). Every output of a bench pipeline starts with
 * {@code sendMicros,seq,} of the event that caused it: the latency consumer reads those.
 */
final class BenchEvents {
    private BenchEvents() {
    }

    /** The idx-th comma-separated field, without splitting the whole value. */
    static String field(String v, int idx) {
        int start = 0;
        for (int i = 0; i < idx; i++) {
            start = v.indexOf(',', start) + 1;
        }
        int end = v.indexOf(',', start);
        return end < 0 ? v.substring(start) : v.substring(start, end);
    }
}
