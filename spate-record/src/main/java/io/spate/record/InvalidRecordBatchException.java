package io.spate.record;

/** A record batch that must not be stored: bad size, magic, header or CRC. */
public final class InvalidRecordBatchException extends RuntimeException {
    public InvalidRecordBatchException(String message) {
        super(message);
    }
}
