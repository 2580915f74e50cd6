package io.spate.processing;

/** A pipeline's own code threw while processing: retrying the same records would throw again. */
final class UserCodeException extends RuntimeException {
    UserCodeException(Throwable cause) {
        super(cause.toString(), cause);
    }
}
