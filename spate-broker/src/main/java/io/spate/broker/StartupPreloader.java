package io.spate.broker;

import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.protocol.MessageUtil;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.requests.AbstractRequest;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs, on a thread of its own once the node has started, the one-time class initialisation
 * that the first client request would otherwise pay for: Kafka's error table (one lambda per
 * error code), the protocol's message schemas (together 0.3 to 0.8 s of one core cold), the record
 * batch and CRC code, time zones and the secure random behind new ids. It only initialises
 * classes and runs codecs on throw-away objects; nothing it does is visible to the node, and a
 * failure here costs only the time it would have saved.
 *
 * <p>It touches no Netty class: the listener thread initialises those, and two threads
 * initialising one library's classes in different orders is how class-initialisation
 * deadlocks happen.
 */
public final class StartupPreloader {
    private static final AtomicBoolean STARTED = new AtomicBoolean();

    private StartupPreloader() {
    }

    /** Starts the preloading thread, once per JVM. */
    public static void startOnce() {
        if (STARTED.compareAndSet(false, true)) {
            Thread.ofPlatform().name("spate-preloader").daemon().start(StartupPreloader::preload);
        }
    }

    private static void preload() {
        try {
            preloadOrThrow();
        } catch (RuntimeException | LinkageError e) {
            // Only start-up time is lost: the node initialises whatever is left when it needs it.
        }
    }

    /** The work itself; throws if a library change broke it (a test checks that it does not). */
    public static void preloadOrThrow() {
        Errors.forCode(Errors.NONE.code());
        Uuid.randomUuid();
        roundTrip(ApiKeys.API_VERSIONS, new ApiVersionsRequestData(), new ApiVersionsResponseData());
        roundTrip(ApiKeys.METADATA, new MetadataRequestData(), new MetadataResponseData());
        roundTrip(ApiKeys.INIT_PRODUCER_ID, new InitProducerIdRequestData(), new InitProducerIdResponseData());
        roundTrip(ApiKeys.PRODUCE, new ProduceRequestData(), new ProduceResponseData());
        MemoryRecords records = MemoryRecords.withRecords(Compression.NONE, new SimpleRecord(0L, new byte[1], new byte[1]));
        for (MutableRecordBatch batch : records.batches()) {
            batch.ensureValid();
        }
        // Properties.store (topic files) and the log's timestamps format dates.
        java.util.TimeZone.getDefault();
        String.format("%s %d", new java.util.Date(), List.of(1).size());
    }

    private static void roundTrip(ApiKeys api, ApiMessage request, ApiMessage response) {
        short version = api.latestVersion();
        ByteBufferAccessor bytes = MessageUtil.toByteBufferAccessor(request, version);
        AbstractRequest.parseRequest(api, version, bytes);
        MessageUtil.toByteBufferAccessor(response, version);
    }
}
