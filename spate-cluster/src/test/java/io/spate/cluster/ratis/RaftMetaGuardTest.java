package io.spate.cluster.ratis;

import org.apache.ratis.server.storage.RaftStorageMetadata;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The raft-meta fallback: a repair that could not rewrite raft-meta on a full disk (something
 * else took the room the reserve freed) is restored at the next start from the fallback, which
 * the repair wrote in place first; a fallback is used once and never for a raft-meta Ratis can read.
 */
class RaftMetaGuardTest {
    @TempDir
    Path dir;

    private Path raftMeta() throws IOException {
        Path current = Files.createDirectories(dir.resolve("metadata").resolve("group").resolve("current"));
        return current.resolve(RaftMetaGuard.FILE_NAME);
    }

    @Test
    void anEmptiedRaftMetaIsRestoredOnceFromTheFallbackARepairWrote() throws IOException {
        RaftMetaGuard guard = new RaftMetaGuard(dir.resolve("metadata-reserve"));
        Path raftMeta = raftMeta();
        guard.keepFallback();
        Path fallback = dir.resolve("metadata-reserve-raft-meta");
        assertThat(fallback).hasSize(RaftMetaGuard.FALLBACK_BYTES);
        // What check() writes before it tries raft-meta: in place, at the fallback's own size.
        RaftStorageMetadata repaired = RaftStorageMetadata.valueOf(1_007, RaftStorageMetadata.getDefault().getVotedFor());
        RaftMetaGuard.writeInPlace(fallback, RaftMetaGuard.fallbackBytes(repaired));
        assertThat(fallback).hasSize(RaftMetaGuard.FALLBACK_BYTES);
        Files.write(raftMeta, new byte[0]); // what Ratis' failed write leaves

        assertThat(guard.restoreAtStart(raftMeta)).isTrue();
        assertThat(RaftMetaGuard.readable(raftMeta)).isTrue();
        assertThat(Files.readString(raftMeta)).contains("term=1007");

        // Used once: emptied again later, raft-meta is not rebuilt from an old repair.
        Files.write(raftMeta, new byte[0]);
        assertThat(guard.restoreAtStart(raftMeta)).isFalse();
        assertThat(RaftMetaGuard.readable(raftMeta)).isFalse();
    }

    @Test
    void aReadableRaftMetaIsLeftAsItIsAndTheFallbackBlanked() throws IOException {
        RaftMetaGuard guard = new RaftMetaGuard(dir.resolve("metadata-reserve"));
        Path raftMeta = raftMeta();
        RaftMetaGuard.write(raftMeta, RaftStorageMetadata.valueOf(42, RaftStorageMetadata.getDefault().getVotedFor()));
        guard.keepFallback();
        Path fallback = dir.resolve("metadata-reserve-raft-meta");
        RaftMetaGuard.writeInPlace(fallback, RaftMetaGuard.fallbackBytes(RaftStorageMetadata.valueOf(9, RaftStorageMetadata.getDefault().getVotedFor())));
        byte[] before = Files.readAllBytes(raftMeta);

        assertThat(guard.restoreAtStart(raftMeta)).isFalse();
        assertThat(Files.readAllBytes(raftMeta)).isEqualTo(before);
        assertThat(RaftMetaGuard.readable(fallback)).as("blanked: an old repair is never taken for a new one").isFalse();
    }
}
