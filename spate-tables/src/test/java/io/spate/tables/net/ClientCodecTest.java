package io.spate.tables.net;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.spate.tables.Consistency;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ClientCodecTest {
    private static final UnpooledByteBufAllocator ALLOC = UnpooledByteBufAllocator.DEFAULT;

    /** Encodes a frame and hands back its body, as the length-field decoder would. */
    private static ByteBuf body(ByteBuf frame) {
        int length = frame.readInt();
        assertThat(length).isEqualTo(frame.readableBytes());
        return frame;
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void everyRequestReadsBackAsWritten() {
        List<ClientCodec.Request> requests = List.of(
                new ClientCodec.Request(1, ClientCodec.Op.GET, Consistency.QUORUM, "t", b("k"), 0, null),
                new ClientCodec.Request(2, ClientCodec.Op.PUT, null, "tàble", b("key"), 99, b("value")),
                new ClientCodec.Request(Long.MAX_VALUE, ClientCodec.Op.DELETE, Consistency.ALL, "t", new byte[0], -1, null),
                ClientCodec.Request.nodes(3));
        for (ClientCodec.Request r : requests) {
            ByteBuf body = body(ClientCodec.encode(ALLOC, r));
            assertThat(ClientCodec.isClientFrame(body)).isTrue();
            assertThat(ClientCodec.idOf(body)).isEqualTo(r.id());
            ClientCodec.Request back = ClientCodec.decodeRequest(body);
            assertThat(back).usingRecursiveComparison().isEqualTo(r);
        }
    }

    @Test
    void everyReplyReadsBackAsWritten() {
        ClientCodec.Reply found = ClientCodec.Reply.found(1, 77, b("v"));
        assertThat(ClientCodec.decodeReply(body(ClientCodec.encode(ALLOC, found)), false)).usingRecursiveComparison().isEqualTo(found);
        ClientCodec.Reply written = ClientCodec.Reply.of(2, ClientCodec.Status.OK, 78);
        assertThat(ClientCodec.decodeReply(body(ClientCodec.encode(ALLOC, written)), false)).usingRecursiveComparison().isEqualTo(written);
        ClientCodec.Reply gone = ClientCodec.Reply.of(3, ClientCodec.Status.NOT_FOUND, 79);
        assertThat(ClientCodec.decodeReply(body(ClientCodec.encode(ALLOC, gone)), false)).usingRecursiveComparison().isEqualTo(gone);
        ClientCodec.Reply refused = ClientCodec.Reply.failed(4, ClientCodec.Status.NOT_SERVING, "still opening");
        assertThat(ClientCodec.decodeReply(body(ClientCodec.encode(ALLOC, refused)), false)).usingRecursiveComparison().isEqualTo(refused);
        ClientCodec.Reply nodes = ClientCodec.Reply.nodes(5, List.of(new ClientCodec.NodeEndpoint("1", "127.0.0.1", 9300, true),
                new ClientCodec.NodeEndpoint("2", "::1", 9301, false)));
        assertThat(ClientCodec.decodeReply(body(ClientCodec.encode(ALLOC, nodes)), true)).usingRecursiveComparison().isEqualTo(nodes);
    }

    @Test
    void framesThatCannotBeReadAreRefusedNotGuessed() {
        assertThatThrownBy(() -> ClientCodec.decodeRequest(Unpooled.wrappedBuffer(new byte[]{2, 0, 0})))
                .isInstanceOf(TableCodec.MalformedFrameException.class);
        ByteBuf longer = ALLOC.buffer();
        ClientCodec.encode(ALLOC, ClientCodec.Request.nodes(9)).readerIndex(4).readBytes(longer, 11);
        longer.writeByte(0);
        assertThatThrownBy(() -> ClientCodec.decodeRequest(longer)).hasMessageContaining("past the end");
        byte[] badConsistency = {2, 0, 0, 0, 0, 0, 0, 0, 1, 1, 9};
        assertThatThrownBy(() -> ClientCodec.decodeRequest(Unpooled.wrappedBuffer(badConsistency))).hasMessageContaining("consistency 9");
        assertThat(ClientCodec.isClientFrame(Unpooled.wrappedBuffer(new byte[]{1, 2}))).isFalse();
        assertThat(ClientCodec.hasId(Unpooled.wrappedBuffer(new byte[]{2, 0}))).isFalse();
        assertThat(ClientCodec.idOf(Unpooled.wrappedBuffer(new byte[]{2, -1, -1, -1, -1, -1, -1, -1, -1}))).as("any 64-bit id").isEqualTo(-1L);
        // A reply never fails to encode for a message quoting a huge name: it is cut.
        ClientCodec.Reply quoted = ClientCodec.Reply.failed(6, ClientCodec.Status.UNKNOWN_TABLE, "table '" + "x".repeat(70_000) + "' not found");
        ByteBuf encoded = ClientCodec.encode(ALLOC, quoted);
        assertThat(ClientCodec.decodeReply(body(encoded), false).message()).startsWith("table 'xxx").endsWith("...");
        assertThatThrownBy(() -> ClientCodec.encode(ALLOC, new ClientCodec.Request(7, ClientCodec.Op.GET, null, "t".repeat(70_000), new byte[0], 0, null)))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
