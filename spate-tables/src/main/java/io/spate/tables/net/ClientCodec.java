package io.spate.tables.net;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.spate.tables.Consistency;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The tables' native protocol: what a client and a node say to each other on the node's tables
 * port, beside the peers' {@link TableCodec} frames. Every frame is {@code [length: 4][body]};
 * a body starting with {@link #FORMAT} is a client's, so one listener takes both. Big-endian:
 *
 * <pre>
 * request: [format: 1 = 2][id: 8][op: 1][consistency: 1][table: str][key: bytes]   (get)
 *          ... [after: 8][value: bytes]                                             (put)
 *          ... [after: 8]                                                           (delete)
 *          [format: 1 = 2][id: 8][op: 1 = 4][consistency: 1, ignored]               (nodes)
 * reply:   [format: 1 = 2][id: 8][status: 1][version: 8][payload]
 *   payload: a get that found the key: [value: bytes]; other OK answers: nothing;
 *            nodes: [count: 4][(id: str, host: str, port: 4, live: 1)];
 *            a status from UNKNOWN_TABLE on: [message: str]
 * str:     [length: 2][UTF-8]        bytes: [length: 4][bytes]
 * consistency: 0 = the table's default, 1 = ONE, 2 = QUORUM, 3 = ALL
 * </pre>
 *
 * Requests carry an id the reply repeats: a connection carries many requests at once and replies
 * come in the order they complete. The version of a write's reply is the timestamp it was given,
 * also when it failed (the next write's {@code after}); of a get's, the newest version found, also
 * a deletion's.
 */
public final class ClientCodec {
    public static final byte FORMAT = 2;
    /** The longest failure message a reply carries (a UTF-8 string field holds at most 65,535 bytes). */
    static final int MAX_MESSAGE_CHARS = 4_000;

    public enum Op {
        GET(1), PUT(2), DELETE(3), NODES(4);

        final int code;

        Op(int code) {
            this.code = code;
        }

        static Op of(int code) {
            for (Op op : values()) {
                if (op.code == code) {
                    return op;
                }
            }
            throw new TableCodec.MalformedFrameException("unknown client operation " + code);
        }
    }

    public enum Status {
        OK(0), NOT_FOUND(1), TIMEOUT(2), UNAVAILABLE(3), OVERLOADED(4),
        /** The table is not in the catalog. */
        UNKNOWN_TABLE(16),
        /** The table exists but this node cannot serve it now (its store is opening or failed). */
        NOT_SERVING(17),
        /** The request itself is refused (a value over the node's limit, an {@code after} too far ahead of the node's clock). */
        INVALID(18),
        /** The node failed the request for a reason of its own. */
        ERROR(19);

        final int code;

        Status(int code) {
            this.code = code;
        }

        /** Whether the reply carries a message instead of a payload. */
        public boolean failure() {
            return code >= 16;
        }

        static Status of(int code) {
            for (Status s : values()) {
                if (s.code == code) {
                    return s;
                }
            }
            throw new TableCodec.MalformedFrameException("unknown client status " + code);
        }
    }

    /** {@code consistency} null: the table's default. {@code value} only for a put, {@code table} and {@code key} not for nodes. */
    public record Request(long id, Op op, Consistency consistency, String table, byte[] key, long after, byte[] value) {
        public static Request nodes(long id) {
            return new Request(id, Op.NODES, null, null, null, 0, null);
        }
    }

    /** A member of the ring as a client sees it: where to send requests, and whether the cluster counts it live. */
    public record NodeEndpoint(String id, String host, int port, boolean live) {
    }

    /** {@code value}: a found value; {@code message}: why a failure; {@code nodes}: a nodes reply's members. */
    public record Reply(long id, Status status, long version, byte[] value, String message, List<NodeEndpoint> nodes) {
        public static Reply of(long id, Status status, long version) {
            return new Reply(id, status, version, null, null, null);
        }

        public static Reply found(long id, long version, byte[] value) {
            return new Reply(id, Status.OK, version, value, null, null);
        }

        /** {@code message} is cut to {@link #MAX_MESSAGE_CHARS}: it may quote what the client sent. */
        public static Reply failed(long id, Status status, String message) {
            String m = String.valueOf(message);
            return new Reply(id, status, 0, null, m.length() > MAX_MESSAGE_CHARS ? m.substring(0, MAX_MESSAGE_CHARS) + "..." : m, null);
        }

        public static Reply nodes(long id, List<NodeEndpoint> nodes) {
            return new Reply(id, Status.OK, 0, null, null, List.copyOf(nodes));
        }
    }

    private ClientCodec() {
    }

    /** Whether a frame's body is a client's (its first byte; the frame's reader index is not moved). */
    public static boolean isClientFrame(ByteBuf body) {
        return body.isReadable() && body.getByte(body.readerIndex()) == FORMAT;
    }

    /** The whole frame, length prefix included. */
    public static ByteBuf encode(ByteBufAllocator alloc, Request r) {
        int size = 1 + 8 + 1 + 1;
        if (r.op() != Op.NODES) {
            size += strSize(r.table()) + 4 + r.key().length;
            if (r.op() != Op.GET) {
                size += 8;
            }
            if (r.op() == Op.PUT) {
                size += 4 + r.value().length;
            }
        }
        ByteBuf out = alloc.buffer(4 + size);
        out.writeInt(size).writeByte(FORMAT).writeLong(r.id()).writeByte(r.op().code)
                .writeByte(r.consistency() == null ? 0 : r.consistency().ordinal() + 1);
        if (r.op() != Op.NODES) {
            str(out, r.table());
            out.writeInt(r.key().length).writeBytes(r.key());
            if (r.op() != Op.GET) {
                out.writeLong(r.after());
            }
            if (r.op() == Op.PUT) {
                out.writeInt(r.value().length).writeBytes(r.value());
            }
        }
        return out;
    }

    /** A request from a frame's body (after the length). */
    public static Request decodeRequest(ByteBuf in) {
        try {
            format(in);
            long id = in.readLong();
            Op op = Op.of(in.readByte());
            int c = in.readByte();
            if (c < 0 || c > Consistency.values().length) {
                throw new TableCodec.MalformedFrameException("unknown consistency " + c);
            }
            Consistency consistency = c == 0 ? null : Consistency.values()[c - 1];
            if (op == Op.NODES) {
                end(in);
                return Request.nodes(id);
            }
            String table = str(in);
            byte[] key = bytes(in);
            long after = op == Op.GET ? 0 : in.readLong();
            byte[] value = op == Op.PUT ? bytes(in) : null;
            end(in);
            return new Request(id, op, consistency, table, key, after, value);
        } catch (IndexOutOfBoundsException e) {
            throw new TableCodec.MalformedFrameException("a client request ends early: " + e.getMessage());
        }
    }

    /** The whole frame, length prefix included. */
    public static ByteBuf encode(ByteBufAllocator alloc, Reply r) {
        int size = 1 + 8 + 1 + 8;
        if (r.status().failure()) {
            size += strSize(r.message());
        } else if (r.nodes() != null) {
            size += 4;
            for (NodeEndpoint n : r.nodes()) {
                size += strSize(n.id()) + strSize(n.host()) + 4 + 1;
            }
        } else if (r.value() != null) {
            size += 4 + r.value().length;
        }
        ByteBuf out = alloc.buffer(4 + size);
        out.writeInt(size).writeByte(FORMAT).writeLong(r.id()).writeByte(r.status().code).writeLong(r.version());
        if (r.status().failure()) {
            str(out, r.message());
        } else if (r.nodes() != null) {
            out.writeInt(r.nodes().size());
            for (NodeEndpoint n : r.nodes()) {
                str(out, n.id());
                str(out, n.host());
                out.writeInt(n.port()).writeByte(n.live() ? 1 : 0);
            }
        } else if (r.value() != null) {
            out.writeInt(r.value().length).writeBytes(r.value());
        }
        return out;
    }

    /**
     * A reply from a frame's body. Only the client knows whether it asked for nodes, so it says:
     * the payload of an OK reply is then a member list, else a value if any bytes follow.
     */
    public static Reply decodeReply(ByteBuf in, boolean nodesExpected) {
        try {
            format(in);
            long id = in.readLong();
            Status status = Status.of(in.readByte());
            long version = in.readLong();
            Reply reply;
            if (status.failure()) {
                reply = Reply.failed(id, status, str(in));
            } else if (status == Status.OK && nodesExpected) {
                int count = in.readInt();
                if (count < 0 || count > in.readableBytes()) {
                    throw new TableCodec.MalformedFrameException("a node list of " + count);
                }
                List<NodeEndpoint> nodes = new ArrayList<>(count);
                for (int i = 0; i < count; i++) {
                    nodes.add(new NodeEndpoint(str(in), str(in), in.readInt(), in.readByte() != 0));
                }
                reply = Reply.nodes(id, nodes);
            } else if (status == Status.OK && in.isReadable()) {
                reply = Reply.found(id, version, bytes(in));
            } else {
                reply = Reply.of(id, status, version);
            }
            end(in);
            return reply;
        } catch (IndexOutOfBoundsException e) {
            throw new TableCodec.MalformedFrameException("a client reply ends early: " + e.getMessage());
        }
    }

    /** Whether a frame's body is long enough to hold a request id (any 64-bit value). */
    public static boolean hasId(ByteBuf body) {
        return body.readableBytes() >= 9;
    }

    /** The request id of a frame's body ({@link #hasId} first), to answer a request that cannot be read whole. */
    public static long idOf(ByteBuf body) {
        return body.getLong(body.readerIndex() + 1);
    }

    private static void format(ByteBuf in) {
        byte format = in.readByte();
        if (format != FORMAT) {
            throw new TableCodec.MalformedFrameException("not a client frame (format " + format + ")");
        }
    }

    private static void end(ByteBuf in) {
        if (in.isReadable()) {
            throw new TableCodec.MalformedFrameException(in.readableBytes() + " bytes past the end of a client frame");
        }
    }

    private static int utf8Length(String s) {
        return io.netty.buffer.ByteBufUtil.utf8Bytes(s);
    }

    /** A string field's size, refused before anything is allocated when it does not fit. */
    private static int strSize(String s) {
        int length = utf8Length(s);
        if (length > 0xFFFF) {
            throw new IllegalArgumentException("a string of " + length + " bytes does not fit a client frame");
        }
        return 2 + length;
    }

    private static void str(ByteBuf out, String s) {
        int length = utf8Length(s);
        if (length > 0xFFFF) {
            throw new IllegalArgumentException("a string of " + length + " bytes does not fit a client frame");
        }
        out.writeShort(length);
        out.writeCharSequence(s, StandardCharsets.UTF_8);
    }

    private static String str(ByteBuf in) {
        int length = in.readUnsignedShort();
        return in.readCharSequence(length, StandardCharsets.UTF_8).toString();
    }

    private static byte[] bytes(ByteBuf in) {
        int length = in.readInt();
        if (length < 0 || length > in.readableBytes()) {
            throw new TableCodec.MalformedFrameException("a field of " + length + " bytes in a frame with " + in.readableBytes() + " left");
        }
        byte[] b = new byte[length];
        in.readBytes(b);
        return b;
    }
}
