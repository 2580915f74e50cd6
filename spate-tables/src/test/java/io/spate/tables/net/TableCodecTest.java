package io.spate.tables.net;

import io.spate.tables.Cell;
import io.spate.tables.Envelope;
import io.spate.tables.TableMessage;
import io.spate.tables.TokenRange;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TableCodecTest {
    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static final Cell VALUE = Cell.value(0x1234_5678_9ABCL, b("v\u00e9"));
    private static final Cell TOMBSTONE = Cell.tombstone(77);

    /** One of every message type, with the fields that need care: null hint target and cell, empty and wrapping lists. */
    static List<TableMessage> everyType() {
        return List.of(
                new TableMessage.Write(1L << 40 | 5, "t\u00fcbl", b("k"), VALUE, null),
                new TableMessage.Write(-1, "t", new byte[0], TOMBSTONE, "n3"),
                new TableMessage.WriteAck(Long.MAX_VALUE),
                new TableMessage.Read(9, "t", b("key")),
                new TableMessage.ReadReply(9, VALUE),
                new TableMessage.ReadReply(10, null),
                new TableMessage.ReadReply(11, TOMBSTONE),
                new TableMessage.TreeRequest(3, "t", new TokenRange(Long.MAX_VALUE - 5, Long.MIN_VALUE + 7), 10),
                new TableMessage.TreeReply(3, new long[]{1, -2, Long.MIN_VALUE}),
                new TableMessage.TreeReply(3, new long[0]),
                new TableMessage.DigestRequest(4, "t", new TokenRange(-10, 10), 6, List.of(0, 5, 63)),
                new TableMessage.DigestRequest(4, "t", new TokenRange(-10, 10), 6, List.of(1), b("resume after")),
                new TableMessage.DigestRequest(4, "t", new TokenRange(-10, 10), 6, List.of(1), new byte[0]),
                new TableMessage.DigestReply(4, List.of(new TableMessage.KeyVersion(b("a"), 5, -6),
                        new TableMessage.KeyVersion(new byte[0], 0, 0)), false),
                new TableMessage.DigestReply(4, List.of(), true),
                new TableMessage.Push(5, "t", List.of(new TableMessage.KeyCell(b("a"), VALUE), new TableMessage.KeyCell(b("b"), TOMBSTONE))),
                new TableMessage.PullRequest(6, "t", List.of(b("a"), new byte[0], b("zz"))),
                new TableMessage.PullReply(6, List.of(new TableMessage.KeyCell(b("a"), VALUE))),
                new TableMessage.PullReply(7, List.of()));
    }

    @Test
    void everyMessageTypeSurvivesTheRoundTrip() {
        List<TableMessage> messages = everyType();
        // Every permitted subtype is covered: a new message type without a wire form fails here.
        assertThat(messages.stream().map(Object::getClass).distinct())
                .containsExactlyInAnyOrder(TableMessage.class.getPermittedSubclasses());
        for (TableMessage message : messages) {
            Envelope sent = new Envelope("node-\u00e9", 0xABCDEF0123L, message);
            Envelope got = TableCodec.decode(TableCodec.encode(sent));
            assertThat(got.from()).isEqualTo(sent.from());
            assertThat(got.senderHlc()).isEqualTo(sent.senderHlc());
            assertThat(got.message()).usingRecursiveComparison().isEqualTo(message);
        }
    }

    @Test
    void truncatedOrCorruptFramesAreRefusedNotMisread() {
        for (TableMessage message : everyType()) {
            byte[] frame = TableCodec.encode(new Envelope("n1", 1, message));
            // a digest request cut just before its optional resume key is the whole request of a node that has none
            int wholeWithoutKey = message instanceof TableMessage.DigestRequest d && d.after() != null
                    ? frame.length - 1 - 4 - d.after().length : -1;
            for (int cut = 0; cut < frame.length; cut++) {
                if (cut == wholeWithoutKey) {
                    continue;
                }
                byte[] shorter = Arrays.copyOf(frame, cut);
                assertThatThrownBy(() -> TableCodec.decode(shorter)).as("%s cut at %d", message, cut)
                        .isInstanceOf(TableCodec.MalformedFrameException.class);
            }
            byte[] longer = Arrays.copyOf(frame, frame.length + 1);
            assertThatThrownBy(() -> TableCodec.decode(longer)).isInstanceOf(TableCodec.MalformedFrameException.class);
        }
        byte[] frame = TableCodec.encode(new Envelope("n1", 1, new TableMessage.WriteAck(1)));
        frame[0] = 9;
        assertThatThrownBy(() -> TableCodec.decode(frame)).hasMessageContaining("format 9");
        byte[] huge = TableCodec.encode(new Envelope("n1", 1, new TableMessage.PullRequest(1, "t", List.of())));
        huge[huge.length - 1] = 0x7f; // a count far past the frame's end: refused before anything is allocated for it
        assertThatThrownBy(() -> TableCodec.decode(huge)).isInstanceOf(TableCodec.MalformedFrameException.class);
    }

    @Test
    void aDigestRequestWithoutAResumeKeyIsWrittenAsNodesBeforeThatFieldWroteIt() {
        var plain = new TableMessage.DigestRequest(4, "t", new TokenRange(-10, 10), 6, List.of(0, 5));
        var resuming = new TableMessage.DigestRequest(4, "t", new TokenRange(-10, 10), 6, List.of(0, 5), b("k"));
        byte[] withoutKey = TableCodec.encode(new Envelope("n1", 1, plain));
        byte[] withKey = TableCodec.encode(new Envelope("n1", 1, resuming));
        // the old form ends with the leaves: nothing after them when there is no key to resume after
        assertThat(withKey.length - withoutKey.length).isEqualTo(1 + 4 + 1);
        assertThat(TableCodec.decode(withoutKey).message()).usingRecursiveComparison().isEqualTo(plain);
    }

    @Test
    void aWriteOfTheLargestValueATableTakesFitsAFrameWhateverItsKeyAndNames() {
        String longestName = "n".repeat(0xFFFF);
        byte[] oneByte = {1};
        byte[] body = TableCodec.encode(new Envelope(longestName, Long.MAX_VALUE, new TableMessage.Write(Long.MAX_VALUE, longestName,
                new byte[io.spate.tables.service.TableService.MAX_KEY_BYTES], Cell.value(Long.MAX_VALUE, oneByte), longestName)));
        long frame = 4L + body.length - oneByte.length + io.spate.tables.service.TableService.MAX_VALUE_BYTES_LIMIT;
        assertThat(frame).isLessThanOrEqualTo(NettyTransport.Settings.defaults().maxFrameBytes());
    }
}
