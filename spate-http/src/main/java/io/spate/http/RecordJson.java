package io.spate.http;

import com.fasterxml.jackson.core.JsonGenerator;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * A record as the API shows it: {@code {"partition","offset","timestamp","key","value","headers"}},
 * bytes as UTF-8 text (malformed sequences replaced) or, in {@link Format#BASE64}, as base64.
 */
final class RecordJson {
    enum Format {
        TEXT, BASE64;

        static Format of(String value) {
            return switch (value) {
                case "text" -> TEXT;
                case "base64" -> BASE64;
                default -> throw ApiError.badRequest(ApiError.BAD_PARAMETER, "format must be text or base64, not '" + value + "'");
            };
        }
    }

    /** A record read from a log or a consumer, its bytes copied out. */
    record OutgoingRecord(int partition, long offset, long timestamp, byte[] key, byte[] value, List<Map.Entry<String, byte[]>> headers) {
    }

    private RecordJson() {
    }

    static void write(JsonGenerator out, OutgoingRecord r, Format format) throws IOException {
        out.writeStartObject();
        out.writeNumberField("partition", r.partition());
        out.writeNumberField("offset", r.offset());
        out.writeNumberField("timestamp", r.timestamp());
        out.writeFieldName("key");
        bytes(out, r.key(), format);
        out.writeFieldName("value");
        bytes(out, r.value(), format);
        out.writeObjectFieldStart("headers");
        for (Map.Entry<String, byte[]> h : r.headers()) {
            out.writeFieldName(h.getKey());
            bytes(out, h.getValue(), format);
        }
        out.writeEndObject();
        out.writeEndObject();
    }

    private static void bytes(JsonGenerator out, byte[] bytes, Format format) throws IOException {
        if (bytes == null) {
            out.writeNull();
        } else if (format == Format.BASE64) {
            out.writeString(Base64.getEncoder().encodeToString(bytes));
        } else {
            out.writeString(new String(bytes, StandardCharsets.UTF_8));
        }
    }
}
