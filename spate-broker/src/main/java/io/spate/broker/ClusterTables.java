package io.spate.broker;

import io.spate.cluster.ClusterImage;
import io.spate.cluster.CommandResult;
import io.spate.cluster.MetadataCommand;
import io.spate.cluster.MetadataLog;
import io.spate.cluster.NodeInfo;
import io.spate.cluster.TableSpec;
import io.spate.http.NodeTables;
import io.spate.tables.NodeSettings;
import io.spate.tables.TableConfig;
import io.spate.tables.service.TableService;
import io.spate.tables.service.TableSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The node's masterless tables tied to the cluster metadata. The metadata is the tables' truth
 * about the cluster, as it is the partitions': the members are the registered nodes that
 * advertise a tables port (fenced ones included: they keep their tokens, and their share goes to
 * stand-ins with hints), the live ones are those not fenced, the view's epoch is the image's
 * version, and the catalog is the image's tables, committed through the controller quorum like
 * topics, so every node serves the same tables with the same settings.
 */
final class ClusterTables implements NodeTables, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ClusterTables.class);

    private final TableService service;
    private final MetadataLog metadata;
    private final int maxValueBytes;
    private volatile Map<String, TableConfig> catalog = Map.of();
    /** Catalog entries this release cannot read, reported once. */
    private final Set<String> unreadable = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private final NodeSettings settings;
    private final TableService.HintSettings hints;
    private final long minGraceMs;

    private ClusterTables(TableService service, MetadataLog metadata, int maxValueBytes, NodeSettings settings,
                          TableService.HintSettings hints) {
        this.service = service;
        this.metadata = metadata;
        this.maxValueBytes = maxValueBytes;
        this.settings = settings;
        this.hints = hints;
        this.minGraceMs = hints.minTombstoneGraceMs(settings);
    }

    /**
     * Opens the tables' stores under {@code dataDir/tables} and their listener; the port is for the
     * node's registration, so this comes before the node joins.
     */
    static ClusterTables start(SpateConfig config, MetadataLog metadata, long brokerEpochMs) {
        NodeSettings defaults = NodeSettings.defaults();
        NodeSettings settings = new NodeSettings(defaults.vnodes(), config.tablesRequestTimeoutMs(), defaults.maxInFlightRequests(),
                defaults.hintIntervalMs(), defaults.hintBatch(), defaults.antiEntropyIntervalMs(), defaults.merkleDepth(),
                defaults.maxKeysPerMessage(), defaults.gcIntervalMs(), defaults.maxClockForwardMs());
        TableService.HintSettings hints = TableService.HintSettings.defaults();
        TableService service = TableService.start(String.valueOf(config.nodeId()), brokerEpochMs, config.dataDir().resolve("tables"),
                config.listenHost(), config.tablesPort(), settings, hints, TableService.QueueLimits.defaults(),
                config.tablesBlockCacheBytes());
        service.maxValueBytes(config.tablesMaxValueBytes());
        return new ClusterTables(service, metadata, config.tablesMaxValueBytes(), settings, hints);
    }

    int port() {
        return service.port();
    }

    /** From now on every image reaches the tables, the newest one first. */
    void follow() {
        metadata.subscribe(this::onImage);
    }

    private void onImage(ClusterImage image) {
        Map<String, TableService.Endpoint> members = new HashMap<>();
        Set<String> live = new HashSet<>();
        for (NodeInfo node : image.nodes().values()) {
            if (node.tablesPort() == NodeInfo.NO_TABLES_PORT) {
                continue; // a node of a release before tables, or one not serving them: not on the ring
            }
            String id = String.valueOf(node.id());
            members.put(id, new TableService.Endpoint(node.host(), node.tablesPort()));
            if (!node.fenced()) {
                live.add(id);
            }
        }
        Map<String, TableConfig> tables = new HashMap<>();
        for (TableSpec spec : image.tables().values()) {
            try {
                tables.put(spec.name(), TableSettings.parse(spec.name(), spec.config()));
            } catch (IllegalArgumentException e) {
                if (unreadable.add(spec.name())) {
                    log.error("tables: table '{}' of the catalog is not served here: {}", spec.name(), e.getMessage());
                }
            }
        }
        catalog = Map.copyOf(tables);
        service.apply(new TableService.View(image.version(), members, live, tables));
    }

    @Override
    public CompletableFuture<TableConfig> create(TableConfig config) {
        if (config.tombstoneGraceMs() < minGraceMs) {
            // A value's hint delivered after its deletion's tombstone was collected would bring the value back.
            return CompletableFuture.failedFuture(new IllegalArgumentException("tombstone.grace.ms must be at least " + minGraceMs
                    + " ms (the " + hints.maxHintAgeMs() + " ms a value's hint is kept, plus the " + settings.maxClockForwardMs()
                    + " ms the nodes' clocks may disagree, plus the " + settings.requestTimeoutMs() + " ms request timeout), not "
                    + config.tombstoneGraceMs()));
        }
        MetadataCommand.CreateTable command = new MetadataCommand.CreateTable(config.name(), TableSettings.toMap(config));
        return metadata.submit(command).thenCompose((CommandResult result) -> {
            if (result.error() == CommandResult.Error.TABLE_EXISTS) {
                throw new TableExistsException(result.message());
            }
            if (!result.succeeded()) {
                throw new IllegalStateException(result.error() + ": " + result.message());
            }
            return metadata.awaitVersion(result.version());
        }).thenCompose(image -> service.awaitTable(config.name()));
    }

    @Override
    public Map<String, TableConfig> catalog() {
        return catalog;
    }

    @Override
    public TableService service() {
        return service;
    }

    @Override
    public int maxValueBytes() {
        return maxValueBytes;
    }

    @Override
    public void close() {
        service.close();
    }
}
