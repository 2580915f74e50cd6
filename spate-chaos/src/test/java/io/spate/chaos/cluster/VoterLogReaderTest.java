package io.spate.chaos.cluster;

import io.spate.chaos.history.MetadataLogEntry;
import io.spate.cluster.ClusterSettings;
import io.spate.cluster.LivenessTracker;
import io.spate.cluster.MetadataCommand;
import io.spate.cluster.ratis.RatisMetadataLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Reads the log a real (one-voter) Ratis quorum wrote, whole and with its last entry torn. */
class VoterLogReaderTest {

    @TempDir
    Path dataDir;

    private void writeLog(int commands) throws Exception {
        int port = LoopbackPorts.free();
        ClusterSettings settings = new ClusterSettings(1, List.of(new ClusterSettings.Voter(1, "127.0.0.1", port)),
                dataDir.resolve("meta").resolve("raft"), 100, 1000, 300, 0);
        try (RatisMetadataLog log = RatisMetadataLog.start(settings, new LivenessTracker(settings.sessionTimeoutMs()))) {
            for (int i = 0; i < commands; i++) {
                assertThat(log.submit(new MetadataCommand.AllocateProducerIds(1, 1000))
                        .get(30, TimeUnit.SECONDS).succeeded()).isTrue();
            }
        }
    }

    @Test
    void readsEveryEntryInIndexOrder() throws Exception {
        writeLog(20);
        List<MetadataLogEntry> entries = VoterLogReader.read(1, 0, dataDir);
        // The 20 commands, plus the entries Ratis adds itself (configuration, a new leader's first entry).
        assertThat(entries).hasSizeGreaterThan(20).allSatisfy(e -> {
            assertThat(e.node()).isEqualTo(1);
            assertThat(e.term()).isPositive();
        });
        for (int i = 1; i < entries.size(); i++) {
            assertThat(entries.get(i).index()).isEqualTo(entries.get(i - 1).index() + 1);
        }
    }

    @Test
    void stopsAtAnEntryCutShort() throws Exception {
        writeLog(5);
        List<MetadataLogEntry> whole = VoterLogReader.read(1, 0, dataDir);
        Path last;
        try (var files = Files.walk(dataDir.resolve("meta").resolve("raft"))) {
            last = files.filter(f -> f.getFileName().toString().startsWith("log_"))
                    .max(Comparator.comparingLong(VoterLogReaderTest::firstIndex)).orElseThrow();
        }
        long size = lastEntryEnd(last);
        try (FileChannel ch = FileChannel.open(last, StandardOpenOption.WRITE)) {
            ch.truncate(size - 3); // into the last entry's checksum: as kill -9 mid-write leaves it
        }
        List<MetadataLogEntry> torn = VoterLogReader.read(1, 0, dataDir);
        assertThat(torn).hasSize(whole.size() - 1).isEqualTo(whole.subList(0, whole.size() - 1));
    }

    private static long firstIndex(Path segment) {
        return Long.parseLong(segment.getFileName().toString().replaceAll("log_(inprogress_)?(\\d+).*", "$2"));
    }

    /** Where the written part of a segment ends: before its preallocated zeros. */
    private static long lastEntryEnd(Path segment) throws IOException {
        byte[] bytes = Files.readAllBytes(segment);
        int end = bytes.length;
        while (end > 0 && bytes[end - 1] == 0) {
            end--;
        }
        // A checksum may end in zero bytes itself; the entry is cut short either way.
        return end;
    }
}
