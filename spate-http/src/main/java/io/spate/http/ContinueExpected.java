package io.spate.http;

/**
 * A request's head asked for 100 Continue: sent in the request's turn, as its answer would be. An
 * interim answer written ahead of an earlier request's answer would be taken for that request's.
 */
enum ContinueExpected {
    INSTANCE
}
