package io.spate.server.handlers;

import org.apache.kafka.clients.consumer.internals.ConsumerProtocol;

import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.Set;

/**
 * The topics in a consumer's subscription, as a {@code consumer} group's members send it in their
 * JoinGroup metadata: decoded with kafka-clients' own codec, here at the protocol edge, for the
 * group coordinator's offset expiry and OffsetDelete.
 */
public final class ConsumerSubscriptions {
    private ConsumerSubscriptions() {
    }

    public static Set<String> topics(byte[] metadata) {
        return new HashSet<>(ConsumerProtocol.deserializeSubscription(ByteBuffer.wrap(metadata)).topics());
    }
}
