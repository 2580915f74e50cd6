package io.spate.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;

/** A whole answer: status, body (JSON but for {@code /metrics}), its content type and any extra headers. */
record Response(HttpResponseStatus status, byte[] body, String contentType, Map<String, String> headers) implements Outcome {
    private static final JsonFactory JSON = new JsonFactory();
    static final String APPLICATION_JSON = "application/json";

    /** A JSON answer. */
    Response(HttpResponseStatus status, byte[] json, Map<String, String> headers) {
        this(status, json, APPLICATION_JSON, headers);
    }

    /** Writes one JSON value. */
    @FunctionalInterface
    interface JsonWriter {
        void write(JsonGenerator out) throws IOException;
    }

    static Response json(HttpResponseStatus status, JsonWriter writer) {
        return new Response(status, bytes(writer), Map.of());
    }

    static Response error(ApiError e) {
        Map<String, String> headers = e instanceof HttpApi.MethodNotAllowed refused ? Map.of("Allow", refused.allowed.name()) : Map.of();
        return error(e.status, e.errorCode, e.getMessage(), headers);
    }

    static Response error(HttpResponseStatus status, int errorCode, String message, Map<String, String> headers) {
        return new Response(status, bytes(out -> {
            out.writeStartObject();
            out.writeNumberField("error_code", errorCode);
            out.writeStringField("message", message);
            out.writeEndObject();
        }), headers);
    }

    static byte[] bytes(JsonWriter writer) {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream(256);
        try (JsonGenerator out = JSON.createGenerator(buffer)) {
            writer.write(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return buffer.toByteArray();
    }
}
