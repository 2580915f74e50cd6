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
            long size = Files.size(dir.resolve(LocalMetadataLog.COMMANDS_FILE));
            CommandResult refused = submit(log, new MetadataCommand.CreateTopic("orders", UUID.randomUUID(), List.of(List.of(NODE)), Map.of()));
            assertThat(refused.error()).isEqualTo(CommandResult.Error.TOPIC_EXISTS);
            assertThat(refused.version()).isEqualTo(version);
            assertThat(Files.size(dir.resolve(LocalMetadataLog.COMMANDS_FILE))).isEqualTo(size);
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
        long whole = Files.size(commands);
        // The start of a frame that claims 100 bytes, of which only 5 reached the disk.
        try (FileChannel out = FileChannel.open(commands, StandardOpenOption.APPEND)) {
            out.write(ByteBuffer.allocate(21).putInt(100).putInt(42).putLong(before.version() + 1).put(new byte[5]).flip());
        }
        try (LocalMetadataLog log = LocalMetadataLog.open(dir, NODE)) {
            assertThat(log.image()).isEqualTo(before);
            assertThat(Files.size(commands)).as("the torn frame was cut off").isEqualTo(whole);
            assertThat(submit(log, new MetadataCommand.DeleteTopic("orders")).succeeded()).isTrue();
        }
        try (LocalMetadataLog log = LocalMetadataLog.open(dir, NODE)) {
            assertThat(log.image().topic("orders")).as("the command after the cut survived too").isNull();
        }
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
        assertThat(Files.readAllBytes(commands)).as("nothing was cut").hasSize(bytes.length);
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
