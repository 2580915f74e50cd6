package io.spate.testkit.sim;

import io.spate.log.LogReadResult;
import io.spate.log.PartitionLog;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Every record of a log, offset to value (UTF-8), for checks that compare logs with what was
 * written. Read with kafka-clients' decoder, not Spate's: the simulated producers write with
 * Spate's encoder, so each check also checks one against the other.
 */
public final class LogValues {
    private LogValues() {
    }

    /** @throws IllegalStateException when a read below the log end finds nothing (a hole inside the log) */
    public static Map<Long, String> read(PartitionLog log) {
        Map<Long, String> values = new LinkedHashMap<>();
        try {
            long next = log.logStartOffset();
            while (next < log.logEndOffset()) { // a read returns one segment's slice at most
                LogReadResult read = log.read(next, Integer.MAX_VALUE / 2, log.logEndOffset(), true);
                if (read.slice().size() == 0) {
                    throw new IllegalStateException(log.topicPartition() + ": nothing to read at " + next + " below the log end " + log.logEndOffset());
                }
                for (Record r : MemoryRecords.readableRecords(read.slice().readIntoHeap()).records()) {
                    values.put(r.offset(), StandardCharsets.UTF_8.decode(r.value()).toString());
                    next = r.offset() + 1;
                }
                read.slice().release();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return values;
    }
}
