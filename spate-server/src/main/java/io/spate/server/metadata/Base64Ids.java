package io.spate.server.metadata;

import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.UUID;

/**
 * Ids in the text form Kafka tools print and accept (cluster ids, topic ids): the 16 bytes of a
 * UUID in URL-safe base64 without padding, 22 characters.
 */
public final class Base64Ids {
    private static final SecureRandom RANDOM = new SecureRandom();

    private Base64Ids() {
    }

    public static String toText(UUID id) {
        ByteBuffer bytes = ByteBuffer.allocate(16).putLong(id.getMostSignificantBits()).putLong(id.getLeastSignificantBits());
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes.array());
    }

    public static UUID fromText(String text) {
        byte[] bytes = Base64.getUrlDecoder().decode(text);
        if (bytes.length != 16) {
            throw new IllegalArgumentException("'" + text + "' is not an id: it holds " + bytes.length + " bytes, not 16");
        }
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        return new UUID(buffer.getLong(), buffer.getLong());
    }

    /** A fresh random id; never one whose text starts with '-' (a command line would read it as an option), as Kafka's. */
    public static String randomText() {
        while (true) {
            String text = toText(new UUID(RANDOM.nextLong(), RANDOM.nextLong()));
            if (!text.startsWith("-")) {
                return text;
            }
        }
    }
}
