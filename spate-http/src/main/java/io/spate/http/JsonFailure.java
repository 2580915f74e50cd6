package io.spate.http;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;

import java.io.IOException;

/**
 * Why Jackson could not read a request body, for a 400. Not every failure has a location (a broken
 * stream constraint such as the nesting depth has none), and not every one is a
 * {@link JsonProcessingException}: bytes in no Unicode encoding fail with a plain
 * {@link java.io.CharConversionException}. Both are the client's body, never the node's fault.
 */
final class JsonFailure {
    private JsonFailure() {
    }

    /**
     * To follow "malformed JSON": " at line 2, column 5: reason" (" at column 5: reason" without
     * {@code withLine}), or ": reason" when Jackson knows no place.
     */
    static String describe(IOException e, boolean withLine) {
        String reason = reason(e);
        JsonLocation at = e instanceof JsonProcessingException json ? json.getLocation() : null;
        if (at == null) {
            return ": " + reason;
        }
        return (withLine ? " at line " + at.getLineNr() + ", column " : " at column ") + at.getColumnNr() + ": " + reason;
    }

    /** Jackson's message without its source excerpt (disabled anyway) or start-marker location. */
    private static String reason(IOException e) {
        String message = String.valueOf(e instanceof JsonProcessingException json ? json.getOriginalMessage() : e.getMessage());
        int marker = message.indexOf(" (start marker at");
        return marker < 0 ? message : message.substring(0, marker);
    }
}
