package io.spate.cluster;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How a node proves, on a plain Kafka connection, that it is node N of this cluster: its node-to-node requests
 * (replica fetches, OffsetForLeaderEpoch from a follower, BrokerHeartbeat) carry, at the end of the request
 * header's client id, a token that is an HMAC of N under a secret every node of the cluster shares.
 *
 * <p>Why a shared secret and not the sender's address: on one machine (test clusters, laptops) every node and
 * every client connect from 127.0.0.1 with ephemeral ports, so an address says nothing about who is calling. A
 * token bound to the node id also keeps one node from speaking for another.
 *
 * <p>The secret is {@code cluster.secret} when set (give every node the same value), otherwise it is derived
 * from the controller quorum list, which every node is started with and which Spate does not show to clients
 * (DescribeConfigs leaves both out). The token travels in clear, as everything on a PLAINTEXT listener does: it
 * keeps stray and misbehaving clients out, not an attacker who can read the network.
 */
public final class NodeCredentials {
    static final String MARK = ";node-token=";
    private static final NodeCredentials NONE = new NodeCredentials(null);

    /** Null on a standalone node: it has no peers, so no request is a node's. */
    private final SecretKeySpec key;
    private final Map<Integer, String> tokens = new ConcurrentHashMap<>();

    private NodeCredentials(SecretKeySpec key) {
        this.key = key;
    }

    /** A standalone node's: it accepts no node-to-node request. */
    public static NodeCredentials none() {
        return NONE;
    }

    /** The credentials of a cluster: from {@code secret} if not blank, else from the controller quorum list. */
    public static NodeCredentials forCluster(String secret, List<ClusterSettings.Voter> voters) {
        String material = secret == null || secret.isBlank() ? "spate-voters:" + voters : "spate-secret:" + secret;
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(material.getBytes(StandardCharsets.UTF_8));
            return new NodeCredentials(new SecretKeySpec(digest, "HmacSHA256"));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    /** What node {@code nodeId} appends to its client id ("" on a standalone node). */
    public String token(int nodeId) {
        if (key == null) {
            return "";
        }
        return tokens.computeIfAbsent(nodeId, id -> {
            try {
                Mac mac = Mac.getInstance("HmacSHA256");
                mac.init(key);
                byte[] tag = mac.doFinal(("node:" + id).getBytes(StandardCharsets.UTF_8));
                return MARK + HexFormat.of().formatHex(tag, 0, 16);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("HmacSHA256 is missing from this JDK", e);
            }
        });
    }

    /** Whether {@code clientId} carries node {@code nodeId}'s token. Allocates nothing once the token is known. */
    public boolean verifies(String clientId, int nodeId) {
        if (key == null || clientId == null || nodeId < 0) {
            return false;
        }
        String expected = token(nodeId);
        int offset = clientId.length() - expected.length();
        if (offset < 0) {
            return false;
        }
        // Constant time over the token, so a client cannot find it a character at a time.
        int difference = 0;
        for (int i = 0; i < expected.length(); i++) {
            difference |= clientId.charAt(offset + i) ^ expected.charAt(i);
        }
        return difference == 0;
    }
}
