package io.spate.log;

/** A setting with an unknown name or an unacceptable value; the message says which and why. */
public final class InvalidConfigException extends RuntimeException {
    public InvalidConfigException(String message) {
        super(message);
    }
}
