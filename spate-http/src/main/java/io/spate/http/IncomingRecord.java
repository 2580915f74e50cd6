package io.spate.http;

import org.apache.kafka.common.header.Header;

import java.util.List;

/**
 * One record of a produce request, as parsed: key and value bytes (null for none), headers, and
 * the partition asked for (null: chosen by key or round-robin).
 */
record IncomingRecord(byte[] key, byte[] value, List<Header> headers, Integer partition) {
    IncomingRecord {
        headers = List.copyOf(headers);
    }

    /** Bytes this record takes in a batch, roughly: to size the batch's buffer. */
    int estimatedBytes() {
        int bytes = 24 + (key == null ? 0 : key.length) + (value == null ? 0 : value.length);
        for (Header h : headers) {
            bytes += 8 + h.key().length() + (h.value() == null ? 0 : h.value().length);
        }
        return bytes;
    }
}
