package io.spate.server.network;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.FileRegion;
import io.netty.util.ReferenceCountUtil;
import io.spate.log.FileSlice;
import io.spate.replication.Acks;
import io.spate.replication.Partition;
import io.spate.replication.ReadBound;
import io.spate.server.StandaloneCore;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.requests.FetchResponse;
import org.apache.kafka.common.requests.ResponseHeader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A fetch response over a real standalone node's log, encoded as the event loop encodes it and
 * parsed back with kafka-clients: a small slice is copied into the response buffer, a large one
 * goes as a file region, and either way the client reads the same records.
 */
class ResponseEncoderTest {
    private static final short VERSION = 12;

    @TempDir
    Path dataDir;

    private StandaloneCore node;
    private Partition partition;

    @BeforeEach
    void start() throws Exception {
        node = StandaloneCore.start(dataDir);
        node.topics.create("events", 1, (short) 1, Map.of());
        partition = node.replicas.partition("events", 0);
    }

    @AfterEach
    void stop() {
        node.close();
    }

    @Test
    void aSmallSliceIsCopiedIntoOneBufferAndReadsBackTheSame() throws Exception {
        append("a", 10);
        append("b", 10);
        List<Object> parts = encode(slice());
        assertThat(parts).hasSize(1).allMatch(p -> p instanceof ByteBuf);
        assertThat(values(parts)).hasSize(20).startsWith("a-0").endsWith("b-9");
    }

    @Test
    void aLargeSliceGoesFromTheFileAndReadsBackTheSame() throws Exception {
        for (int i = 0; i < 40; i++) {
            append("c" + i, 50); // ~50 KB in all: past what is copied
        }
        FileSlice slice = slice();
        assertThat(slice.size()).isGreaterThan(ResponseEncoder.COPY_MAX_BYTES);
        List<Object> parts = encode(slice);
        assertThat(parts).anyMatch(p -> p instanceof FileRegion);
        List<String> values = values(parts);
        assertThat(values).hasSize(2000).startsWith("c0-0").endsWith("c39-49");
    }

    private void append(String prefix, int records) {
        SimpleRecord[] batch = new SimpleRecord[records];
        for (int i = 0; i < records; i++) {
            batch[i] = new SimpleRecord(0L, null, (prefix + "-" + i + "-" + "x".repeat(10)).getBytes(StandardCharsets.UTF_8));
        }
        var buffer = MemoryRecords.withRecords(Compression.NONE, batch).buffer();
        assertThat(partition.append(buffer, Acks.LEADER, 1_000, System.currentTimeMillis()).join().ok()).isTrue();
    }

    private FileSlice slice() {
        return partition.read(0, 1 << 20, ReadBound.HIGH_WATERMARK, true).slice();
    }

    private static List<Object> encode(FileSlice slice) {
        FetchResponseData response = new FetchResponseData();
        FetchResponseData.FetchableTopicResponse topic = new FetchResponseData.FetchableTopicResponse().setTopic("events");
        topic.partitions().add(new FetchResponseData.PartitionData().setPartitionIndex(0).setHighWatermark(1).setLastStableOffset(1)
                .setRecords(new FileSliceRecords(slice)));
        response.responses().add(topic);
        return ResponseEncoder.encode(UnpooledByteBufAllocator.DEFAULT, 7, ApiKeys.FETCH.responseHeaderVersion(VERSION), response, VERSION);
    }

    /** Writes the parts as the channel would, and parses what a client would read. */
    private static List<String> values(List<Object> parts) throws Exception {
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        WritableByteChannel channel = Channels.newChannel(wire);
        for (Object part : parts) {
            if (part instanceof ByteBuf buf) {
                buf.readBytes(wire, buf.readableBytes());
            } else {
                FileRegion region = (FileRegion) part;
                long done = 0;
                while (done < region.count()) {
                    done += region.transferTo(channel, done);
                }
            }
            ReferenceCountUtil.release(part);
        }
        ByteBuffer bytes = ByteBuffer.wrap(wire.toByteArray());
        assertThat(bytes.getInt()).isEqualTo(bytes.remaining());
        assertThat(ResponseHeader.parse(bytes, ApiKeys.FETCH.responseHeaderVersion(VERSION)).correlationId()).isEqualTo(7);
        FetchResponseData parsed = FetchResponse.parse(new ByteBufferAccessor(bytes), VERSION).data();
        List<String> values = new ArrayList<>();
        MemoryRecords records = (MemoryRecords) parsed.responses().get(0).partitions().get(0).records();
        for (Record record : records.records()) {
            String value = StandardCharsets.UTF_8.decode(record.value()).toString();
            values.add(value.substring(0, value.indexOf("-x")));
        }
        return values;
    }
}
