package io.spate.server.network;

import io.spate.log.FileSlice;
import org.apache.kafka.common.network.TransferableChannel;
import org.apache.kafka.common.record.internal.BaseRecords;
import org.apache.kafka.common.record.internal.RecordsSend;

import java.io.IOException;

/**
 * Records of a fetch response that stay in the segment file: the response encoder turns them
 * into a {@link SegmentFileRegion} so that the kernel copies file to socket (sendfile).
 */
public final class FileSliceRecords implements BaseRecords {
    private final FileSlice slice;

    public FileSliceRecords(FileSlice slice) {
        this.slice = slice;
    }

    public FileSlice slice() {
        return slice;
    }

    @Override
    public int sizeInBytes() {
        return slice.size();
    }

    /** The kafka-clients way of sending these bytes (used only outside Spate's Netty path). */
    @Override
    public RecordsSend<FileSliceRecords> toSend() {
        return new RecordsSend<>(this, slice.size()) {
            @Override
            protected int writeTo(TransferableChannel channel, int previouslyWritten, int remaining) throws IOException {
                long position = (long) slice.position() + previouslyWritten;
                return (int) channel.transferFrom(slice.segment().channel(), position, remaining);
            }
        };
    }
}
