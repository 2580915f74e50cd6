package io.spate.tables;

import java.util.List;

/**
 * What replicas say to one another. Requests carry an id the answer repeats; the sender matches
 * answers to its pending requests and drops those it no longer waits for (a late answer after
 * a timeout, a duplicate). Every message travels in an {@link Envelope} with the sender's clock.
 * The next slice gives them a wire format; here they are plain values.
 */
public sealed interface TableMessage {
    /** A key's cell and its key, as streamed by anti-entropy. */
    record KeyCell(byte[] key, Cell cell) {
    }

    /** A key's version as anti-entropy compares it: the timestamp says who is newer, the digest whether they differ. */
    record KeyVersion(byte[] key, long hlc, long digest) {
    }

    /** Store this cell; {@code hintFor} names the down replica it is meant for when this node stands in. Answered by {@link WriteAck} once durable. */
    record Write(long id, String table, byte[] key, Cell cell, String hintFor) implements TableMessage {
    }

    record WriteAck(long id) implements TableMessage {
    }

    record Read(long id, String table, byte[] key) implements TableMessage {
    }

    /** The replica's cell, null when it holds none. */
    record ReadReply(long id, Cell cell) implements TableMessage {
    }

    /** Anti-entropy, step 1: the peer's Merkle tree of a range. */
    record TreeRequest(long session, String table, TokenRange range, int depth) implements TableMessage {
    }

    record TreeReply(long session, long[] nodes) implements TableMessage {
    }

    /**
     * Step 2: the peer's key versions in the leaves that differ, in token order; with {@code after}
     * (null: from the start) only those past that key, where the previous round's cut list ended.
     */
    record DigestRequest(long session, String table, TokenRange range, int depth, List<Integer> leaves, byte[] after)
            implements TableMessage {
        public DigestRequest(long session, String table, TokenRange range, int depth, List<Integer> leaves) {
            this(session, table, range, depth, leaves, null);
        }
    }

    /**
     * {@code complete} is false when the list was cut at the message bound: it covers the leaves up to
     * its last key, and the next round asks from there.
     */
    record DigestReply(long session, List<KeyVersion> versions, boolean complete) implements TableMessage {
    }

    /** Step 3: cells the initiator holds newer, for the peer to merge (no answer). */
    record Push(long session, String table, List<KeyCell> cells) implements TableMessage {
    }

    /** Step 3: keys the peer holds newer, asked back. */
    record PullRequest(long session, String table, List<byte[]> keys) implements TableMessage {
    }

    record PullReply(long session, List<KeyCell> cells) implements TableMessage {
    }
}
