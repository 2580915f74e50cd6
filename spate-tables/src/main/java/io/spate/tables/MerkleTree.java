package io.spate.tables;

import java.util.ArrayList;
import java.util.List;

/**
 * A hash tree over one token range: the range is cut into {@code 2^depth} equal slices (leaves),
 * a leaf's hash is the XOR of its keys' entry hashes (order-free, so it could be kept up to date
 * write by write later), and each inner node hashes its two children. Two replicas compare
 * trees from the root down and exchange only the keys of the leaves that differ.
 *
 * <p>Laid out as a heap: node 0 is the root, node i's children are 2i+1 and 2i+2, leaves are the
 * last {@code 2^depth} entries. That array is what goes over the wire.
 */
public final class MerkleTree {
    public static final int MAX_DEPTH = 16;

    private final TokenRange range;
    private final int depth;
    private final long[] nodes;
    private boolean built;

    public MerkleTree(TokenRange range, int depth) {
        if (depth < 0 || depth > MAX_DEPTH) {
            throw new IllegalArgumentException("depth " + depth);
        }
        this.range = range;
        this.depth = depth;
        this.nodes = new long[(2 << depth) - 1];
    }

    private MerkleTree(TokenRange range, int depth, long[] nodes) {
        this.range = range;
        this.depth = depth;
        this.nodes = nodes;
        this.built = true;
    }

    /** The tree of a store's keys in the range. Tombstones the table may already have collected are left out, as if collected. */
    public static MerkleTree of(TableStore store, TokenRange range, int depth, long purgeBeforeMs) {
        MerkleTree tree = new MerkleTree(range, depth);
        store.scan(range, (key, cell) -> {
            if (!cell.purgeable(purgeBeforeMs)) {
                tree.add(key, cell);
            }
        });
        tree.build();
        return tree;
    }

    public static MerkleTree fromArray(TokenRange range, int depth, long[] nodes) {
        if (nodes.length != (2 << depth) - 1) {
            throw new IllegalArgumentException(nodes.length + " hashes for depth " + depth);
        }
        return new MerkleTree(range, depth, nodes.clone());
    }

    public int leafCount() {
        return 1 << depth;
    }

    /** Which leaf a token falls in: its offset in the range over the slice width (unsigned arithmetic). */
    public static int leafOf(TokenRange range, int depth, long token) {
        if (!range.contains(token)) {
            throw new IllegalArgumentException("token " + token + " outside " + range);
        }
        long width = range.widthUnsigned();
        long slice = width == 0 ? 1L << (64 - depth) : Long.divideUnsigned(width, 1L << depth) + 1;
        if (depth == 0 || slice == 0) {
            return 0;
        }
        return (int) Long.divideUnsigned(range.offsetOf(token), slice);
    }

    public void add(byte[] key, Cell cell) {
        if (built) {
            throw new IllegalStateException("tree already built");
        }
        int leaf = leafOf(range, depth, TokenRing.token(key));
        nodes[nodes.length - leafCount() + leaf] ^= entryHash(key, cell);
    }

    static long entryHash(byte[] key, Cell cell) {
        return Hashing.mix(Hashing.hash64(key) * 31 + cell.digest());
    }

    public void build() {
        for (int i = nodes.length - leafCount() - 1; i >= 0; i--) {
            nodes[i] = combine(nodes[2 * i + 1], nodes[2 * i + 2]);
        }
        built = true;
    }

    private static long combine(long left, long right) {
        if (left == 0 && right == 0) {
            return 0; // empty subtrees stay 0, so an empty range has root 0
        }
        return Hashing.mix(left ^ Long.rotateLeft(right, 31) ^ 0x632BE59BD9B4E019L);
    }

    public long root() {
        return nodes[0];
    }

    public long[] toArray() {
        return nodes.clone();
    }

    public TokenRange range() {
        return range;
    }

    public int depth() {
        return depth;
    }

    /** The leaves whose hashes differ, found by descending only into differing subtrees. */
    public List<Integer> differingLeaves(MerkleTree other) {
        if (!range.equals(other.range) || depth != other.depth) {
            throw new IllegalArgumentException("trees of " + range + "/" + depth + " and " + other.range + "/" + other.depth);
        }
        List<Integer> out = new ArrayList<>();
        descend(other, 0, out);
        return out;
    }

    private void descend(MerkleTree other, int node, List<Integer> out) {
        if (nodes[node] == other.nodes[node]) {
            return;
        }
        int firstLeaf = nodes.length - leafCount();
        if (node >= firstLeaf) {
            out.add(node - firstLeaf);
            return;
        }
        descend(other, 2 * node + 1, out);
        descend(other, 2 * node + 2, out);
    }
}
