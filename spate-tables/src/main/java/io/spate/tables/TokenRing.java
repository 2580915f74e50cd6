package io.spate.tables;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Consistent hashing with virtual nodes: each member owns {@code vnodes} tokens, hashed from its id,
 * so the ring depends on the member set alone and every node computes the same one. A key's
 * token is the hash of its bytes; its preference list is the first N distinct members met walking
 * clockwise from it. A joining member takes over a slice next to each of its tokens, about 1/(M+1)
 * of the keys, from many members at once, and nothing else moves.
 *
 * <p>Immutable: a membership change builds a new ring.
 */
public final class TokenRing {
    private final long[] tokens;
    private final String[] owners;
    private final int memberCount;

    private TokenRing(long[] tokens, String[] owners, int memberCount) {
        this.tokens = tokens;
        this.owners = owners;
        this.memberCount = memberCount;
    }

    public static TokenRing of(Collection<String> members, int vnodes) {
        if (vnodes < 1) {
            throw new IllegalArgumentException("vnodes " + vnodes);
        }
        record Entry(long token, String owner) {
        }
        List<Entry> entries = new ArrayList<>();
        Set<String> distinct = new TreeSet<>(members);
        for (String member : distinct) {
            for (int i = 0; i < vnodes; i++) {
                entries.add(new Entry(Hashing.hash64(member + "#" + i), member));
            }
        }
        // Ties (two members on one token) broken by id, so every node builds the same ring.
        entries.sort((a, b) -> a.token != b.token ? Long.compare(a.token, b.token) : a.owner.compareTo(b.owner));
        long[] tokens = new long[entries.size()];
        String[] owners = new String[entries.size()];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = entries.get(i).token;
            owners[i] = entries.get(i).owner;
        }
        return new TokenRing(tokens, owners, distinct.size());
    }

    public static long token(byte[] key) {
        return Hashing.hash64(key);
    }

    public static long token(String key) {
        return token(key.getBytes(StandardCharsets.UTF_8));
    }

    public boolean isEmpty() {
        return tokens.length == 0;
    }

    public int memberCount() {
        return memberCount;
    }

    /** Index of the first virtual node whose token is at or after {@code token}, wrapping to 0. */
    private int firstAtOrAfter(long token) {
        int i = Arrays.binarySearch(tokens, token);
        if (i < 0) {
            i = -i - 1;
        } else {
            while (i > 0 && tokens[i - 1] == token) {
                i--;
            }
        }
        return i == tokens.length ? 0 : i;
    }

    /** Every member once, in the order met walking clockwise from {@code token}: the first N are the replicas, the rest stand-ins. */
    public List<String> walk(long token) {
        LinkedHashSet<String> seen = new LinkedHashSet<>();
        if (tokens.length == 0) {
            return List.of();
        }
        int start = firstAtOrAfter(token);
        for (int k = 0; k < tokens.length && seen.size() < memberCount; k++) {
            seen.add(owners[(start + k) % tokens.length]);
        }
        return List.copyOf(seen);
    }

    /** The {@code n} members that hold keys with this token (fewer when the ring has fewer members). */
    public List<String> preferenceList(long token, int n) {
        List<String> all = walk(token);
        return all.subList(0, Math.min(n, all.size()));
    }

    /** A token range whose keys all share one preference list, with that list. */
    public record RangeReplicas(TokenRange range, List<String> replicas) {
    }

    /** One range per virtual node, ({@code previous token}, {@code token}], with its N replicas. */
    public List<RangeReplicas> ranges(int n) {
        List<RangeReplicas> out = new ArrayList<>();
        for (int i = 0; i < tokens.length; i++) {
            long prev = tokens[(i - 1 + tokens.length) % tokens.length];
            if (tokens.length > 1 && prev == tokens[i]) {
                continue; // an empty range between two members on one token
            }
            out.add(new RangeReplicas(new TokenRange(prev, tokens[i]), preferenceList(tokens[i], n)));
        }
        return out;
    }

    /** The ranges {@code node} holds a replica of. */
    public List<RangeReplicas> rangesOf(String node, int n) {
        return ranges(n).stream().filter(r -> r.replicas().contains(node)).toList();
    }
}
