package io.spate.tables.net;

import io.spate.tables.Cell;
import io.spate.tables.Envelope;
import io.spate.tables.TableMessage;
import io.spate.tables.TokenRange;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The wire form of an {@link Envelope}: what travels inside one length-prefixed frame between two
 * nodes' {@link NettyTransport}s. Big-endian, no padding:
 *
 * <pre>
 * envelope: [format: 1 = 1][from: str][senderHlc: 8][type: 1][message fields]
 * str:      [length: 2][UTF-8]            bytes: [length: 4][bytes]
 * cell:     [hlc: 8][tombstone: 1][value: bytes]   (a null cell: tombstone byte 2 and nothing after)
 * range:    [startExclusive: 8][endInclusive: 8]
 * lists:    [count: 4][items]
 *
 * 1 Write       [id: 8][table: str][key: bytes][cell][hintFor: 1 present, then str]
 * 2 WriteAck    [id: 8]
 * 3 Read        [id: 8][table: str][key: bytes]
 * 4 ReadReply   [id: 8][cell or null]
 * 5 TreeRequest [session: 8][table: str][range][depth: 4]
 * 6 TreeReply   [session: 8][nodes: count, 8 each]
 * 7 DigestRequest [session: 8][table: str][range][depth: 4][leaves: count, 4 each][after, only when set: 1, bytes]
 * 8 DigestReply [session: 8][versions: count, (key: bytes, hlc: 8, digest: 8)][complete: 1]
 * 9 Push        [session: 8][table: str][cells: count, (key: bytes, cell)]
 * 10 PullRequest [session: 8][table: str][keys: count, bytes]
 * 11 PullReply  [session: 8][cells: count, (key: bytes, cell)]
 * </pre>
 *
 * A frame that cannot be read (an unknown format or type, a length past the frame's end) is
 * refused with {@link MalformedFrameException}: the receiver drops the connection rather than guess.
 */
public final class TableCodec {
    static final byte FORMAT = 1;
    private static final byte NULL_CELL = 2;

    private TableCodec() {
    }

    public static byte[] encode(Envelope envelope) {
        Out out = new Out();
        out.b(FORMAT).str(envelope.from()).l(envelope.senderHlc());
        switch (envelope.message()) {
            case TableMessage.Write m -> {
                out.b(1).l(m.id()).str(m.table()).bytes(m.key()).cell(m.cell());
                out.b(m.hintFor() == null ? 0 : 1);
                if (m.hintFor() != null) {
                    out.str(m.hintFor());
                }
            }
            case TableMessage.WriteAck m -> out.b(2).l(m.id());
            case TableMessage.Read m -> out.b(3).l(m.id()).str(m.table()).bytes(m.key());
            case TableMessage.ReadReply m -> out.b(4).l(m.id()).cell(m.cell());
            case TableMessage.TreeRequest m -> out.b(5).l(m.session()).str(m.table()).range(m.range()).i(m.depth());
            case TableMessage.TreeReply m -> {
                out.b(6).l(m.session()).i(m.nodes().length);
                for (long n : m.nodes()) {
                    out.l(n);
                }
            }
            case TableMessage.DigestRequest m -> {
                out.b(7).l(m.session()).str(m.table()).range(m.range()).i(m.depth()).i(m.leaves().size());
                for (int leaf : m.leaves()) {
                    out.i(leaf);
                }
                if (m.after() != null) {
                    // written only when there is one: a request without it is what nodes before it expect
                    out.b(1);
                    out.bytes(m.after());
                }
            }
            case TableMessage.DigestReply m -> {
                out.b(8).l(m.session()).i(m.versions().size());
                for (TableMessage.KeyVersion v : m.versions()) {
                    out.bytes(v.key()).l(v.hlc()).l(v.digest());
                }
                out.b(m.complete() ? 1 : 0);
            }
            case TableMessage.Push m -> out.b(9).l(m.session()).str(m.table()).keyCells(m.cells());
            case TableMessage.PullRequest m -> {
                out.b(10).l(m.session()).str(m.table()).i(m.keys().size());
                for (byte[] key : m.keys()) {
                    out.bytes(key);
                }
            }
            case TableMessage.PullReply m -> out.b(11).l(m.session()).keyCells(m.cells());
        }
        return out.toArray();
    }

    public static Envelope decode(byte[] frame) {
        return decode(ByteBuffer.wrap(frame));
    }

    public static Envelope decode(ByteBuffer frame) {
        try {
            In in = new In(frame);
            byte format = in.buf.get();
            if (format != FORMAT) {
                throw new MalformedFrameException("table message format " + format + " is not known to this release");
            }
            String from = in.str();
            long senderHlc = in.buf.getLong();
            byte type = in.buf.get();
            TableMessage message = switch (type) {
                case 1 -> {
                    long id = in.buf.getLong();
                    String table = in.str();
                    byte[] key = in.bytes();
                    Cell cell = in.cell();
                    if (cell == null) {
                        throw new MalformedFrameException("a write without a cell");
                    }
                    yield new TableMessage.Write(id, table, key, cell, in.buf.get() == 0 ? null : in.str());
                }
                case 2 -> new TableMessage.WriteAck(in.buf.getLong());
                case 3 -> new TableMessage.Read(in.buf.getLong(), in.str(), in.bytes());
                case 4 -> new TableMessage.ReadReply(in.buf.getLong(), in.cell());
                case 5 -> new TableMessage.TreeRequest(in.buf.getLong(), in.str(), in.range(), in.buf.getInt());
                case 6 -> {
                    long session = in.buf.getLong();
                    long[] nodes = new long[in.count(8)];
                    for (int i = 0; i < nodes.length; i++) {
                        nodes[i] = in.buf.getLong();
                    }
                    yield new TableMessage.TreeReply(session, nodes);
                }
                case 7 -> {
                    long session = in.buf.getLong();
                    String table = in.str();
                    TokenRange range = in.range();
                    int depth = in.buf.getInt();
                    int n = in.count(4);
                    List<Integer> leaves = new ArrayList<>(n);
                    for (int i = 0; i < n; i++) {
                        leaves.add(in.buf.getInt());
                    }
                    byte[] after = null;
                    if (in.buf.hasRemaining()) {
                        byte present = in.buf.get();
                        if (present != 1) {
                            throw new MalformedFrameException("a digest request's resume key is marked " + present + ", not 1");
                        }
                        after = in.bytes();
                    }
                    yield new TableMessage.DigestRequest(session, table, range, depth, leaves, after);
                }
                case 8 -> {
                    long session = in.buf.getLong();
                    int n = in.count(20);
                    List<TableMessage.KeyVersion> versions = new ArrayList<>(n);
                    for (int i = 0; i < n; i++) {
                        versions.add(new TableMessage.KeyVersion(in.bytes(), in.buf.getLong(), in.buf.getLong()));
                    }
                    yield new TableMessage.DigestReply(session, versions, in.buf.get() != 0);
                }
                case 9 -> new TableMessage.Push(in.buf.getLong(), in.str(), in.keyCells());
                case 10 -> {
                    long session = in.buf.getLong();
                    String table = in.str();
                    int n = in.count(4);
                    List<byte[]> keys = new ArrayList<>(n);
                    for (int i = 0; i < n; i++) {
                        keys.add(in.bytes());
                    }
                    yield new TableMessage.PullRequest(session, table, keys);
                }
                case 11 -> new TableMessage.PullReply(in.buf.getLong(), in.keyCells());
                default -> throw new MalformedFrameException("unknown table message type " + type);
            };
            if (in.buf.hasRemaining()) {
                throw new MalformedFrameException(in.buf.remaining() + " bytes left after a message of type " + type);
            }
            return new Envelope(from, senderHlc, message);
        } catch (BufferUnderflowException e) {
            throw new MalformedFrameException("a table message ends before its last field");
        }
    }

    /** A frame this release cannot read. */
    public static final class MalformedFrameException extends RuntimeException {
        MalformedFrameException(String message) {
            super(message);
        }
    }

    private static final class Out {
        private byte[] buf = new byte[64];
        private int size;

        private void ensure(int more) {
            if (size + more > buf.length) {
                buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + more));
            }
        }

        Out b(int v) {
            ensure(1);
            buf[size++] = (byte) v;
            return this;
        }

        Out i(int v) {
            ensure(4);
            ByteBuffer.wrap(buf, size, 4).putInt(v);
            size += 4;
            return this;
        }

        Out l(long v) {
            ensure(8);
            ByteBuffer.wrap(buf, size, 8).putLong(v);
            size += 8;
            return this;
        }

        Out raw(byte[] bytes) {
            ensure(bytes.length);
            System.arraycopy(bytes, 0, buf, size, bytes.length);
            size += bytes.length;
            return this;
        }

        Out str(String s) {
            byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
            if (utf8.length > 0xFFFF) {
                throw new IllegalArgumentException("a name of " + utf8.length + " bytes does not fit a table message");
            }
            ensure(2);
            ByteBuffer.wrap(buf, size, 2).putShort((short) utf8.length);
            size += 2;
            return raw(utf8);
        }

        Out bytes(byte[] bytes) {
            return i(bytes.length).raw(bytes);
        }

        Out cell(Cell cell) {
            if (cell == null) {
                return b(NULL_CELL);
            }
            return b(cell.tombstone() ? 1 : 0).l(cell.hlc()).bytes(cell.value());
        }

        Out range(TokenRange range) {
            return l(range.startExclusive()).l(range.endInclusive());
        }

        Out keyCells(List<TableMessage.KeyCell> cells) {
            i(cells.size());
            for (TableMessage.KeyCell kc : cells) {
                bytes(kc.key()).cell(kc.cell());
            }
            return this;
        }

        byte[] toArray() {
            return Arrays.copyOf(buf, size);
        }
    }

    private record In(ByteBuffer buf) {
        /** A count of items of at least {@code minItemBytes} each, checked against what the frame still holds. */
        int count(int minItemBytes) {
            int n = buf.getInt();
            if (n < 0 || (long) n * minItemBytes > buf.remaining()) {
                throw new MalformedFrameException("a count of " + n + " does not fit the " + buf.remaining() + " bytes left");
            }
            return n;
        }

        String str() {
            int length = Short.toUnsignedInt(buf.getShort());
            byte[] utf8 = new byte[length];
            buf.get(utf8);
            return new String(utf8, StandardCharsets.UTF_8);
        }

        byte[] bytes() {
            byte[] bytes = new byte[count(1)];
            buf.get(bytes);
            return bytes;
        }

        Cell cell() {
            byte flag = buf.get();
            if (flag == NULL_CELL) {
                return null;
            }
            if (flag != 0 && flag != 1) {
                throw new MalformedFrameException("cell flag " + flag);
            }
            long hlc = buf.getLong();
            byte[] value = bytes();
            return flag == 1 ? Cell.tombstone(hlc) : Cell.value(hlc, value);
        }

        TokenRange range() {
            return new TokenRange(buf.getLong(), buf.getLong());
        }

        List<TableMessage.KeyCell> keyCells() {
            int n = count(9);
            List<TableMessage.KeyCell> cells = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                byte[] key = bytes();
                Cell cell = cell();
                if (cell == null) {
                    throw new MalformedFrameException("a streamed key without a cell");
                }
                cells.add(new TableMessage.KeyCell(key, cell));
            }
            return cells;
        }
    }
}
