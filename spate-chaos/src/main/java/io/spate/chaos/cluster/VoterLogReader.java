package io.spate.chaos.cluster;

import io.spate.chaos.history.MetadataLogEntry;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.thirdparty.com.google.protobuf.CodedInputStream;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;

/**
 * Reads the Raft log a controller voter keeps under its data directory ({@code meta/raft/GROUP/current}),
 * segment by segment, as the checker needs it: index, term and a checksum of each entry. Ratis
 * writes a segment as an 8-byte header, then per entry a varint length, the entry and a 4-byte
 * CRC-32C of both; a segment still being written ends in zeros, and one cut short by kill -9 in a
 * torn entry: reading stops at either, or at the first entry whose checksum does not match.
 */
public final class VoterLogReader {
    private static final Pattern SEGMENT = Pattern.compile("log_(?:inprogress_)?(\\d+)(?:_\\d+)?");
    private static final int HEADER_BYTES = 8;
    private static final int CHECKSUM_BYTES = 4;

    private VoterLogReader() {
    }

    /**
     * The entries of node {@code node}'s voter log under {@code dataDir}, as view {@code view};
     * none if it keeps no log there. A read that overlapped a change of the files (a segment
     * rolled, truncated or compacted away meanwhile) is refused with an IOException, since it could
     * show a log that never existed; so is one whose indices are not one run without gaps.
     */
    public static List<MetadataLogEntry> read(int node, int view, Path dataDir) throws IOException {
        Path raft = dataDir.resolve("meta").resolve("raft");
        List<MetadataLogEntry> entries = new ArrayList<>();
        if (!Files.isDirectory(raft)) {
            return entries;
        }
        List<Path> segments = segments(raft);
        for (Path segment : segments) {
            readSegment(node, view, Files.readAllBytes(segment), entries);
        }
        if (!segments.equals(segments(raft))) {
            throw new IOException("node " + node + "'s log segments changed while they were read");
        }
        for (int i = 1; i < entries.size(); i++) {
            if (entries.get(i).index() != entries.get(i - 1).index() + 1) {
                throw new IOException("node " + node + "'s log read with a gap or overlap at index " + entries.get(i).index());
            }
        }
        return entries;
    }

    private static List<Path> segments(Path raft) throws IOException {
        List<Path> segments = new ArrayList<>();
        try (var groups = Files.list(raft)) {
            for (Path group : groups.toList()) {
                Path current = group.resolve("current");
                if (!Files.isDirectory(current)) {
                    continue;
                }
                try (var files = Files.list(current)) {
                    files.filter(f -> SEGMENT.matcher(f.getFileName().toString()).matches()).forEach(segments::add);
                }
            }
        }
        segments.sort(Comparator.comparingLong(VoterLogReader::firstIndex).thenComparing(Path::toString));
        return segments;
    }

    private static long firstIndex(Path segment) {
        Matcher m = SEGMENT.matcher(segment.getFileName().toString());
        return m.matches() ? Long.parseLong(m.group(1)) : Long.MAX_VALUE;
    }

    static void readSegment(int node, int view, byte[] bytes, List<MetadataLogEntry> into) {
        int pos = HEADER_BYTES;
        while (pos < bytes.length) {
            try {
                CodedInputStream in = CodedInputStream.newInstance(bytes, pos, bytes.length - pos);
                int size = in.readRawVarint32();
                int start = pos + in.getTotalBytesRead();
                if (size <= 0 || start + size + CHECKSUM_BYTES > bytes.length) {
                    return; // preallocated zeros, or an entry cut short
                }
                // Ratis' checksum covers the length and the entry; an entry still being written
                // (or torn by kill -9) fails it even where it would parse.
                CRC32C stored = new CRC32C();
                stored.update(bytes, pos, start + size - pos);
                if ((int) stored.getValue() != ByteBuffer.wrap(bytes, start + size, CHECKSUM_BYTES).getInt()) {
                    return;
                }
                LogEntryProto entry = LogEntryProto.parseFrom(CodedInputStream.newInstance(bytes, start, size));
                CRC32C crc = new CRC32C();
                crc.update(bytes, start, size);
                into.add(new MetadataLogEntry(node, view, entry.getIndex(), entry.getTerm(), crc.getValue()));
                pos = start + size + CHECKSUM_BYTES;
            } catch (IOException | RuntimeException torn) {
                return;
            }
        }
    }
}
