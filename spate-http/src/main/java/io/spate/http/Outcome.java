package io.spate.http;

/** What a handler answers: a whole response, or a stream that takes the connection over. */
sealed interface Outcome permits Response, StreamingOutcome {
}
