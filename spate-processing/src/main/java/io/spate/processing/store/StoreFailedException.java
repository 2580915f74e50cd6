package io.spate.processing.store;

/**
 * A store's storage failed (a full or failing disk, RocksDB's own error): an operating error of
 * the node, not the pipeline's code, so its task restarts from its last commit rather than
 * counting a failure of the code.
 */
public final class StoreFailedException extends RuntimeException {
    public StoreFailedException(String message, Throwable cause) {
        super(message, cause);
    }

    /** This exception in {@code e}'s cause chain, or null. */
    public static StoreFailedException findIn(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof StoreFailedException failed) {
                return failed;
            }
        }
        return null;
    }
}
