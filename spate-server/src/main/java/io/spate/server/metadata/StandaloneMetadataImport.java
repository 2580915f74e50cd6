package io.spate.server.metadata;

import io.spate.cluster.ClusterImage;
import io.spate.cluster.CommandResult;
import io.spate.cluster.MetadataCommand;
import io.spate.cluster.MetadataLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * Carries the metadata of a data directory written by a standalone node of an earlier Spate
 * (topics as {@code meta/topics/*.properties}, the producer id reservation in
 * {@code meta/producer-id-block}) into the metadata log, once, keeping topic ids, partition
 * counts and config overrides, and never handing out a producer id again. The old files are
 * then renamed aside (kept, not deleted). Safe to repeat after a crash half-way: topics already
 * in the image are skipped and the reservation only ever moves forward.
 */
public final class StandaloneMetadataImport {
    private static final Logger log = LoggerFactory.getLogger(StandaloneMetadataImport.class);
    private static final long WAIT_SECONDS = 30;

    private StandaloneMetadataImport() {
    }

    public static void importOnce(Path dataDir, MetadataLog metadata, int nodeId) throws IOException {
        Path meta = dataDir.resolve("meta");
        Path topicsDir = meta.resolve("topics");
        Path producerIdFile = meta.resolve("producer-id-block");
        boolean topics = Files.isDirectory(topicsDir);
        boolean producerIds = Files.isRegularFile(producerIdFile);
        if (!topics && !producerIds) {
            return;
        }
        int imported = 0;
        if (topics) {
            for (OldTopic topic : readTopics(topicsDir)) {
                if (metadata.image().topic(topic.name()) != null) {
                    continue;
                }
                List<List<Integer>> assignment = new ArrayList<>(Collections.nCopies(topic.partitions(), List.of(nodeId)));
                commit(metadata, new MetadataCommand.CreateTopic(topic.name(), topic.id(), assignment, topic.overrides()), "topic " + topic.name());
                imported++;
            }
        }
        if (producerIds) {
            long reservedUpTo = Long.parseLong(Files.readString(producerIdFile).trim());
            while (metadata.image().nextProducerId() < reservedUpTo) {
                long gap = reservedUpTo - metadata.image().nextProducerId();
                commit(metadata, new MetadataCommand.AllocateProducerIds(nodeId, (int) Math.min(Integer.MAX_VALUE, gap)), "producer ids");
            }
        }
        if (topics) {
            Files.move(topicsDir, meta.resolve("topics.imported"));
        }
        if (producerIds) {
            Files.move(producerIdFile, meta.resolve("producer-id-block.imported"));
        }
        log.info("imported the metadata of an earlier standalone Spate: {} topic(s){}; the old files are kept as meta/*.imported",
                imported, producerIds ? " and the producer id reservation" : "");
    }

    private static void commit(MetadataLog metadata, MetadataCommand command, String what) throws IOException {
        try {
            CommandResult result = metadata.submit(command).get(WAIT_SECONDS, TimeUnit.SECONDS);
            if (!result.succeeded()) {
                throw new IOException("could not import " + what + " into the metadata log: " + result.error() + " " + result.message());
            }
            ClusterImage ignored = metadata.awaitVersion(result.version()).get(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while importing " + what, e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException("could not import " + what + " into the metadata log: " + e, e);
        }
    }

    private record OldTopic(String name, UUID id, int partitions, Map<String, String> overrides) {
    }

    private static List<OldTopic> readTopics(Path dir) throws IOException {
        List<OldTopic> topics = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".properties")).sorted().toList()) {
                Properties props = new Properties();
                props.load(new StringReader(Files.readString(file)));
                Map<String, String> overrides = new HashMap<>();
                for (String key : props.stringPropertyNames()) {
                    if (key.startsWith("config.")) {
                        overrides.put(key.substring("config.".length()), props.getProperty(key));
                    }
                }
                topics.add(new OldTopic(props.getProperty("name"), Base64Ids.fromText(props.getProperty("id")),
                        Integer.parseInt(props.getProperty("partitions")), overrides));
            }
        }
        return topics;
    }
}
