package io.spate.http;

import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RecordParserTest {
    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    @Test
    void jsonStringsAreTheirTextAndOtherValuesTheirJson() {
        List<IncomingRecord> records = RecordParser.parse("application/json; charset=utf-8", utf8("""
                [{"key": "k", "value": "caf\\u00e9", "headers": {"a": "1", "b": 2, "c": null}},
                 {"value": {"n": 1.10, "l": [1, "x"]}, "partition": 3},
                 {"key": null},
                 {"value": 42}, {"value": true}]"""), null, null);
        assertThat(records).hasSize(5);
        assertThat(text(records.get(0).key())).isEqualTo("k");
        assertThat(text(records.get(0).value())).isEqualTo("café");
        assertThat(records.get(0).headers()).extracting(Header::key).containsExactly("a", "b", "c");
        assertThat(records.get(0).headers()).extracting(h -> text(h.value())).containsExactly("1", "2", null);
        assertThat(text(records.get(1).value())).isEqualTo("{\"n\":1.10,\"l\":[1,\"x\"]}");
        assertThat(records.get(1).partition()).isEqualTo(3);
        assertThat(records.get(2).key()).isNull();
        assertThat(records.get(2).value()).isNull();
        assertThat(records.get(2).partition()).isNull();
        assertThat(text(records.get(3).value())).isEqualTo("42");
        assertThat(text(records.get(4).value())).isEqualTo("true");
    }

    @Test
    void ndjsonTakesOneObjectPerLineAndSkipsBlankLines() {
        List<IncomingRecord> records = RecordParser.parse("application/x-ndjson", utf8("{\"value\": \"a\"}\r\n\n  \n{\"value\": \"b\", \"key\": \"k\"}"),
                null, null);
        assertThat(records).extracting(r -> text(r.value())).containsExactly("a", "b");
        assertThat(text(records.get(1).key())).isEqualTo("k");
    }

    @Test
    void anyOtherContentTypeIsOneRawRecord() {
        byte[] body = {0, 1, 2, (byte) 0xff};
        List<IncomingRecord> records = RecordParser.parse("application/octet-stream", body, utf8("key"), 1);
        assertThat(records).hasSize(1);
        assertThat(records.getFirst().value()).isEqualTo(body);
        assertThat(text(records.getFirst().key())).isEqualTo("key");
        assertThat(records.getFirst().partition()).isEqualTo(1);
        assertThat(RecordParser.parse(null, body, null, null).getFirst().key()).isNull();
    }

    @Test
    void malformedInputNamesWhereItIs() {
        assertMalformed("application/json", "[{\"value\": 1},\n {\"value\": ]", "line 2");
        assertMalformed("application/json", "[{\"value\": 1}, \"x\"]", "element 1: expected a record object, not a string");
        assertMalformed("application/json", "{\"value\": 1}", "expected a JSON array of records, not an object");
        assertMalformed("application/json", "", "empty body");
        assertMalformed("application/json", "[{\"value\": 1}", "Unexpected end-of-input");
        assertMalformed("application/json", "[{\"value\": 1}] [", "after the JSON array");
        assertMalformed("application/json", "[{\"value\": 1, \"vaule\": 2}]", "element 0: unknown field 'vaule'");
        assertMalformed("application/json", "[{\"headers\": [1]}]", "element 0: headers must be an object");
        assertMalformed("application/x-ndjson", "{\"value\": 1}\n\n{\"value\": 1\n", "line 3");
        assertMalformed("application/x-ndjson", "{\"value\": 1}\n[1]\n", "line 2: expected a record object, not an array");
        assertMalformed("application/x-ndjson", "{\"value\": 1} {\"value\": 2}\n", "line 1: unexpected content");
        assertThatThrownBy(() -> RecordParser.parse("application/json", utf8("[{\"partition\": -1}]"), null, null))
                .isInstanceOfSatisfying(ApiError.class, e -> assertThat(e.errorCode).isEqualTo(ApiError.BAD_PARTITION))
                .hasMessageContaining("element 0");
        assertThatThrownBy(() -> RecordParser.parse("application/json", utf8("[{\"partition\": 1.5}]"), null, null))
                .isInstanceOfSatisfying(ApiError.class, e -> assertThat(e.errorCode).isEqualTo(ApiError.BAD_PARTITION));
    }

    /** A line of a lone CR (after the CR of its CRLF is taken off) is blank, not a record Jackson finds no token in. */
    @Test
    void aLineOfCarriageReturnsIsBlank() {
        List<IncomingRecord> records = RecordParser.parse("application/x-ndjson", utf8("{\"value\":\"a\"}\n\r\r\n\r\n \r \n"), null, null);
        assertThat(records).extracting(r -> text(r.value())).containsExactly("a");
    }

    /** Failures Jackson reports without a location, or as a plain IOException, are the body's fault: 400s. */
    @Test
    void bodiesJacksonCannotReadAtAllAreMalformed() {
        String deep = "[".repeat(1001) + "]".repeat(1001);
        assertMalformed("application/json", "[{\"value\":" + deep + "}]", "nesting depth");
        assertMalformed("application/x-ndjson", "{\"value\":" + deep + "}", "line 1: malformed JSON");
        String notUnicode = "\u0000\u0000[\u0000"; // 00 00 5B 00: a UCS-4 byte order Jackson does not read
        assertMalformed("application/json", notUnicode, "malformed JSON");
        assertMalformed("application/x-ndjson", notUnicode, "line 1: malformed JSON");
    }

    @Test
    void aRequestOfCountlessTinyRecordsIsRefused() {
        String many = "[" + "{},".repeat(RecordParser.MAX_RECORDS) + "{}]";
        assertMalformed("application/json", many, "more than " + RecordParser.MAX_RECORDS);
    }

    private static void assertMalformed(String contentType, String body, String expected) {
        assertThatThrownBy(() -> RecordParser.parse(contentType, utf8(body), null, null))
                .isInstanceOfSatisfying(ApiError.class, e -> assertThat(e.errorCode).isEqualTo(ApiError.MALFORMED_BODY))
                .hasMessageContaining(expected);
    }
}
