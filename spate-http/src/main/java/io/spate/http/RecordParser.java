package io.spate.http;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The records of a produce request's body, by content type:
 * <ul>
 *   <li>{@code application/json}: an array of {@code {"key":..., "value":..., "headers": {"k": "v"}, "partition": n}};</li>
 *   <li>{@code application/x-ndjson}: one such object per line (blank lines skipped);</li>
 *   <li>anything else: the whole body is one record's value.</li>
 * </ul>
 * A key, value or header value that is a JSON string is stored as its UTF-8 text, any other JSON
 * value as its JSON text, null as no bytes. The array is read element by element, not as one tree.
 */
final class RecordParser {
    /** Records one request may carry: a body of tiny records must not become millions of objects. */
    static final int MAX_RECORDS = 100_000;

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .setNodeFactory(com.fasterxml.jackson.databind.node.JsonNodeFactory.withExactBigDecimals(true));
    private static final Set<String> FIELDS = Set.of("key", "value", "headers", "partition");

    private RecordParser() {
    }

    /** {@code rawKey} and {@code rawPartition} (null when not given) apply to a raw body only. */
    static List<IncomingRecord> parse(String contentType, byte[] body, byte[] rawKey, Integer rawPartition) {
        String mime = contentType == null ? "" : contentType.split(";", 2)[0].trim().toLowerCase(java.util.Locale.ROOT);
        return switch (mime) {
            case "application/json" -> jsonArray(body);
            case "application/x-ndjson" -> ndjson(body);
            default -> List.of(new IncomingRecord(rawKey, body, List.of(), rawPartition));
        };
    }

    static List<IncomingRecord> jsonArray(byte[] body) {
        List<IncomingRecord> records = new ArrayList<>();
        try (JsonParser in = MAPPER.createParser(body)) {
            JsonToken first = in.nextToken();
            if (first != JsonToken.START_ARRAY) {
                throw malformed(first == null ? "an empty body: expected a JSON array of records"
                        : "expected a JSON array of records, not " + describe(first));
            }
            int element = 0;
            for (JsonToken t = in.nextToken(); t != JsonToken.END_ARRAY; t = in.nextToken(), element++) {
                if (t == null) {
                    throw malformed("the JSON array is not closed");
                }
                String where = "element " + element;
                if (t != JsonToken.START_OBJECT) {
                    throw malformed(where + ": expected a record object, not " + describe(t));
                }
                checkCount(records);
                records.add(record(MAPPER.readTree(in), where));
            }
            if (in.nextToken() != null) {
                throw malformed("unexpected content after the JSON array at line " + in.currentTokenLocation().getLineNr());
            }
        } catch (IOException e) {
            throw malformed("malformed JSON" + JsonFailure.describe(e, true));
        }
        return records;
    }

    static List<IncomingRecord> ndjson(byte[] body) {
        List<IncomingRecord> records = new ArrayList<>();
        int start = 0;
        for (int line = 1; start < body.length; line++) {
            int end = start;
            while (end < body.length && body[end] != '\n') {
                end++;
            }
            int stop = end > start && body[end - 1] == '\r' ? end - 1 : end;
            if (!blank(body, start, stop)) {
                String where = "line " + line;
                JsonNode node = line(body, start, stop, where);
                if (node != null) {
                    checkCount(records);
                    records.add(record(node, where));
                }
            }
            start = end + 1;
        }
        return records;
    }

    /** One NDJSON line's record object; null if JSON finds no token in it (blank() should have caught that line, but a null token must not fail). */
    private static JsonNode line(byte[] body, int start, int stop, String where) {
        try (JsonParser in = MAPPER.createParser(body, start, stop - start)) {
            JsonToken first = in.nextToken();
            if (first == null) {
                return null;
            }
            if (first != JsonToken.START_OBJECT) {
                throw malformed(where + ": expected a record object, not " + describe(first));
            }
            JsonNode node = MAPPER.readTree(in);
            if (in.nextToken() != null) {
                throw malformed(where + ": unexpected content after the record object");
            }
            return node;
        } catch (IOException e) {
            throw malformed(where + ": malformed JSON" + JsonFailure.describe(e, false));
        }
    }

    private static IncomingRecord record(JsonNode node, String where) {
        if (!node.isObject()) {
            throw malformed(where + ": expected a record object, not " + node.getNodeType().name().toLowerCase(java.util.Locale.ROOT));
        }
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!FIELDS.contains(name)) {
                throw malformed(where + ": unknown field '" + name + "' (a record has key, value, headers, partition)");
            }
        }
        return new IncomingRecord(bytes(node.get("key")), bytes(node.get("value")), headers(node.get("headers"), where),
                partition(node.get("partition"), where));
    }

    private static List<Header> headers(JsonNode headers, String where) {
        if (headers == null || headers.isNull()) {
            return List.of();
        }
        if (!headers.isObject()) {
            throw malformed(where + ": headers must be an object of names to values");
        }
        List<Header> out = new ArrayList<>();
        for (Map.Entry<String, JsonNode> field : headers.properties()) {
            out.add(new RecordHeader(field.getKey(), bytes(field.getValue())));
        }
        return out;
    }

    private static Integer partition(JsonNode partition, String where) {
        if (partition == null || partition.isNull()) {
            return null;
        }
        if (!partition.isIntegralNumber() || !partition.canConvertToInt() || partition.intValue() < 0) {
            throw ApiError.badRequest(ApiError.BAD_PARTITION, where + ": partition must be a non-negative integer, not " + partition);
        }
        return partition.intValue();
    }

    /** A JSON string as its UTF-8 text, null as null, anything else as its JSON text. */
    static byte[] bytes(JsonNode value) {
        if (value == null || value.isNull()) {
            return null;
        }
        if (value.isTextual()) {
            return value.textValue().getBytes(StandardCharsets.UTF_8);
        }
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a parsed JSON value could not be written back", e);
        }
    }

    private static void checkCount(List<IncomingRecord> records) {
        if (records.size() >= MAX_RECORDS) {
            throw malformed("more than " + MAX_RECORDS + " records in one request");
        }
    }

    private static boolean blank(byte[] body, int from, int to) {
        for (int i = from; i < to; i++) {
            if (body[i] != ' ' && body[i] != '\t' && body[i] != '\r') {
                return false;
            }
        }
        return true;
    }

    private static String describe(JsonToken token) {
        if (token == null) {
            return "nothing";
        }
        return switch (token) {
            case START_OBJECT -> "an object";
            case START_ARRAY -> "an array";
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_NULL -> "null";
            default -> token.name();
        };
    }

    private static ApiError malformed(String message) {
        return ApiError.badRequest(ApiError.MALFORMED_BODY, message);
    }
}
