package io.spate.server.handlers;

import org.apache.kafka.common.Uuid;

import java.util.UUID;

/** Topic ids between Spate's metadata ({@link UUID}) and the wire ({@link Uuid}): the same 128 bits. */
final class TopicIds {
    private TopicIds() {
    }

    static Uuid toWire(UUID id) {
        return new Uuid(id.getMostSignificantBits(), id.getLeastSignificantBits());
    }

    static UUID fromWire(Uuid id) {
        return new UUID(id.getMostSignificantBits(), id.getLeastSignificantBits());
    }
}
