package io.spate.cluster.local;

import io.spate.cluster.ClusterImage;
import io.spate.cluster.CommandResult;
import io.spate.cluster.MetadataCommand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The metadata log of a node alone, on real files: what it answered survives a reopen, and damage is told apart from a torn tail. */
class LocalMetadataLogTest {
    private static final int NODE = 1;

    @TempDir
    Path dir;

    private static CommandResult submit(LocalMetadataLog log, MetadataCommand command) throws Exception {
        return log.submit(command).get(10, TimeUnit.SECONDS);
    }

    private static void registerAndCreate(LocalMetadataLog log, String topic) throws Exception {
        assertThat(submit(log, new MetadataCommand.RegisterNode(NODE, "127.0.0.1", 9092, 7, true)).succeeded()).isTrue();
        UUID id = UUID.nameUUIDFromBytes(topic.getBytes());
        CommandResult created = submit(log, new MetadataCommand.CreateTopic(topic, id, List.of(List.of(NODE), List.of(NODE)), Map.of("retention.ms", "1000")));
        assertThat(created.succeeded()).isTrue();
    }

    @Test
    void whatWasAnsweredIsThereAfterAReopen() throws Exception {
        ClusterImage before;
        try (LocalMetadataLog log = LocalMetadataLog.open(dir, NODE)) {
            registerAndCreate(log, "orders");
            before = log.image();
        }
        try (LocalMetadataLog log = LocalMetadataLog.open(dir, NODE)) {
            assertThat(log.image()).isEqualTo(before);
            assertThat(log.image().topic("orders").partitions()).hasSize(2);
            assertThat(log.image().topic("orders").partitions().get(0).leader()).isEqualTo(NODE);
            assertThat(log.image().topic("orders").overrides()).containsEntry("retention.ms", "1000");
        }
    }

    @Test
    void listenersHearEveryNewImageAndWaitersCompleteAfterThem() throws Exception {
        try (LocalMetadataLog log = LocalMetadataLog.open(dir, NODE)) {
            List<Long> heard = new java.util.concurrent.CopyOnWriteArrayList<>();
            log.subscribe(image -> heard.add(image.version()));
            registerAndCreate(log, "orders");
            ClusterImage reached = log.awaitVersion(log.image().version()).get(10, TimeUnit.SECONDS);
            assertThat(reached.topic("orders")).isNotNull();
            assertThat(heard).as("the listener saw the image before the waiter completed").contains(reached.version());
            assertThat(heard).isSorted();
        }
    }

    @Test
    void aRefusedCommandIsNotWrittenAndIsAnsweredAtTheCurrentVersion() throws Exception {
        try (LocalMetadataLog log = LocalMetadataLog.open(dir, NODE)) {
            registerAndCreate(log, "orders");
            long version = log.image().version();
            long size = endOfCommands(dir.resolve(LocalMetadataLog.COMMANDS_FILE));
            CommandResult refused = submit(log, new MetadataCommand.CreateTopic("orders", UUID.randomUUID(), List.of(List.of(NODE)), Map.of()));
            assertThat(refused.error()).isEqualTo(CommandResult.Error.TOPIC_EXISTS);
            assertThat(refused.version()).isEqualTo(version);
            assertThat(endOfCommands(dir.resolve(LocalMetadataLog.COMMANDS_FILE))).isEqualTo(size);
        }
    }

    @Test
    void aCommandCutShortByACrashIsDroppedAndTheLogGoesOn() throws Exception {
        ClusterImage before;
        try (LocalMetadataLog log = LocalMetadataLog.open(dir, NODE)) {
            registerAndCreate(log, "orders");
            before = log.image();
        }
        Path commands = dir.resolve(LocalMetadataLog.COMMANDS_FILE);
        long end = endOfCommands(commands);
        assertThat(Files.size(commands)).as("zeros kept past the last command").isGreaterThan(end);
        // The start of a frame that claims 100 bytes, of which only 13 reached the disk.
        try (FileChannel out = FileChannel.open(commands, StandardOpenOption.WRITE)) {
            out.write(ByteBuffer.allocate(29).putInt(100).putInt(42).putLong(before.version() + 1).put(new byte[]{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}).flip(), end);
        }
        try (LocalMetadataLog log = LocalMetadataLog.open(dir, NODE)) {
            assertThat(log.image()).isEqualTo(before);
            assertThat(endOfCommands(commands)).as("the torn frame was cleared").isEqualTo(end);
            assertThat(submit(log, new MetadataCommand.DeleteTopic("orders")).succeeded()).isTrue();
        }
        try (LocalMetadataLog log = LocalMetadataLog.open(dir, NODE)) {
            assertThat(log.image().topic("orders")).as("the command after the cut survived too").isNull();
        }
    }

    /** Where the commands end: the first all-zero frame header. */
    private static long endOfCommands(Path commands) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(commands));
        long position = 0;
        while (position + 16 <= bytes.limit()) {
            int length = bytes.getInt((int) position);
            if (length == 0 && bytes.getInt((int) position + 4) == 0 && bytes.getLong((int) position + 8) == 0) {
                return position;
            }
            position += 16 + length;
        }
        return position;
    }

    @Test
    void aDamagedCommandWithCommandsAfterItStopsTheOpenInsteadOfForgettingThem() throws Exception {
        try (LocalMetadataLog log = LocalMetadataLog.open(dir, NODE)) {
            registerAndCreate(log, "orders");
            registerAndCreate(log, "payments");
        }
        Path commands = dir.resolve(LocalMetadataLog.COMMANDS_FILE);
        byte[] bytes = Files.readAllBytes(commands);
        bytes[20] ^= 0x40; // inside the first command's body
        Files.write(commands, bytes);
        assertThatThrownBy(() -> LocalMetadataLog.open(dir, NODE)).isInstanceOf(IOException.class).hasMessageContaining("damaged");
        assertThat(Files.readAllBytes(commands)).as("nothing was cleared").isEqualTo(bytes);
    }

    @Test
    void theImageIsWrittenAgainNowAndThenAndTheCommandsStartOver() throws Exception {
        long expectedNext;
        try (LocalMetadataLog log = LocalMetadataLog.open(dir, NODE, 10)) {
            registerAndCreate(log, "orders");
            for (int i = 0; i < 25; i++) {
                submit(log, new MetadataCommand.AllocateProducerIds(NODE, 1000));
            }
            expectedNext = log.image().nextProducerId();
            assertThat(expectedNext).isEqualTo(25_000);
        }
        assertThat(dir.resolve(LocalMetadataLog.IMAGE_FILE)).exists();
        try (LocalMetadataLog log = LocalMetadataLog.open(dir, NODE, 10)) {
            assertThat(log.image().nextProducerId()).isEqualTo(expectedNext);
            assertThat(log.image().topic("orders")).isNotNull();
            CompletableFuture<CommandResult> next = log.submit(new MetadataCommand.AllocateProducerIds(NODE, 1000));
            assertThat(next.get(10, TimeUnit.SECONDS).value()).as("no id handed out twice").isEqualTo(expectedNext);
        }
    }

    @Test
    void heartbeatsAreAnsweredFromTheImageAndTheNodeLeadsItsOwnQuorum() throws Exception {
        try (LocalMetadataLog log = LocalMetadataLog.open(dir, NODE)) {
            assertThat(log.heartbeat(NODE, 7).get().registered()).isFalse();
            registerAndCreate(log, "orders");
            assertThat(log.heartbeat(NODE, 7).get().registered()).isTrue();
            assertThat(log.heartbeat(NODE, 6).get().registered()).as("an earlier incarnation").isFalse();
            assertThat(log.isControllerLeader()).isTrue();
            assertThat(log.controllerLeader()).isEqualTo(NODE);
            assertThat(log.quorumContactAgeMs()).isZero();
        }
    }
}
