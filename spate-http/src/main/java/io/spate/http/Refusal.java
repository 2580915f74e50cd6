package io.spate.http;

/**
 * A request {@link RequestReader} refused before reading its body (413, 429, 400, 408), passed on
 * to be answered in its turn: written ahead of an earlier request's answer, a client pairs it
 * with that request, takes that one for refused and sends it again, though it was served.
 * Nothing is read on the connection after it.
 */
record Refusal(Response response) {
}
