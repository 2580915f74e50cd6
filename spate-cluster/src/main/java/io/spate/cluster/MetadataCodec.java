package io.spate.cluster;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Binary form of commands, results and whole images, as stored in the metadata log and its
 * snapshots. A leading format byte lets a later release read what an older one wrote.
 */
public final class MetadataCodec {
    /**
     * 2 added reassignments (the command, and adding/removing replicas in images); 1 is still read.
     * Bytes are written in format 2 only when they hold a reassignment, so that a node of the
     * previous release reads everything else during a rolling upgrade (its voters would otherwise
     * skip the entries they cannot read and their images would drift apart). 3 added eligible
     * leader replicas (images) and registrations that say whether the node shut down cleanly.
     * 4 added batches of in-sync set changes (written in format 4 only for those). 5 added the
     * node's rack (registrations and images; written in format 5 only when a node has one). 6
     * added the masterless tables: a node's tables port (registrations and images) and the tables'
     * catalog (the command and images); written in format 6 only when there is one of those. 7
     * added dynamic node settings (the command and images that hold any). 8 added partition
     * additions that name the partition count they were decided on (format 1's carry none, and
     * are replayed unchecked). 9 added topic setting replacements that name the settings they
     * replace (format 1's replace whatever is there). 10 added changes to single keys of a node's
     * dynamic settings (format 7's replace them all).
     */
    private static final byte FORMAT = 10;
    /** Changes to single keys of a node's dynamic settings. */
    private static final byte NODE_CONFIG_KEYS_FORMAT = 10;
    /** Topic setting replacements that carry the settings they were made on. */
    private static final byte BASED_CONFIG_FORMAT = 9;
    /** Partition additions that carry the count they expect. */
    private static final byte COUNTED_PARTITIONS_FORMAT = 8;
    /** Dynamic node settings: their command, images that hold any. */
    private static final byte NODE_CONFIGS_FORMAT = 7;
    /** Tables: registrations with a tables port, the table catalog's commands, images with either. */
    private static final byte TABLES_FORMAT = 6;
    /** Racks: registrations with {@code broker.rack} set, images where a node has a rack. */
    private static final byte RACK_FORMAT = 5;
    /** Batches of in-sync set changes. */
    private static final byte ISR_BATCH_FORMAT = 4;
    /** Eligible leader replicas and clean-shutdown registrations. */
    private static final byte ELR_FORMAT = 3;
    /** Partition moves (image: adding/removing replicas). */
    private static final byte MOVES_FORMAT = 2;
    private static final byte FIRST_FORMAT = 1;

    private MetadataCodec() {
    }

    public static byte[] encode(MetadataCommand command) {
        return write(out -> {
            out.writeByte(switch (command) {
                case MetadataCommand.AlterIsrs c -> ISR_BATCH_FORMAT;
                case MetadataCommand.RegisterNode c -> c.tablesPort() != NodeInfo.NO_TABLES_PORT ? TABLES_FORMAT
                        : c.rack().isEmpty() ? ELR_FORMAT : RACK_FORMAT;
                case MetadataCommand.CreateTable c -> TABLES_FORMAT;
                case MetadataCommand.AlterNodeConfig c -> NODE_CONFIGS_FORMAT;
                case MetadataCommand.AlterNodeConfigKeys c -> NODE_CONFIG_KEYS_FORMAT;
                case MetadataCommand.ReassignPartition c -> MOVES_FORMAT;
                case MetadataCommand.CreatePartitions c when c.expectedCount() != MetadataCommand.CreatePartitions.UNCHECKED ->
                        COUNTED_PARTITIONS_FORMAT;
                case MetadataCommand.AlterTopicConfig c when c.basedOn() != null -> BASED_CONFIG_FORMAT;
                default -> FIRST_FORMAT;
            });
            switch (command) {
                case MetadataCommand.RegisterNode c when c.tablesPort() != NodeInfo.NO_TABLES_PORT -> {
                    out.writeByte(14);
                    out.writeInt(c.nodeId());
                    out.writeUTF(c.host());
                    out.writeInt(c.port());
                    out.writeLong(c.incarnation());
                    out.writeBoolean(c.cleanShutdown());
                    out.writeUTF(c.rack());
                    out.writeInt(c.tablesPort());
                }
                case MetadataCommand.CreateTable c -> {
                    out.writeByte(15);
                    out.writeUTF(c.name());
                    writeMap(out, c.config());
                }
                case MetadataCommand.AlterNodeConfig c -> {
                    out.writeByte(16);
                    out.writeInt(c.nodeId());
                    writeMap(out, c.configs());
                }
                case MetadataCommand.AlterNodeConfigKeys c -> {
                    out.writeByte(19);
                    out.writeInt(c.nodeId());
                    writeMap(out, c.set());
                    writeStrings(out, c.deleted());
                }
                case MetadataCommand.RegisterNode c -> {
                    out.writeByte(c.rack().isEmpty() ? 11 : 13);
                    out.writeInt(c.nodeId());
                    out.writeUTF(c.host());
                    out.writeInt(c.port());
                    out.writeLong(c.incarnation());
                    out.writeBoolean(c.cleanShutdown());
                    if (!c.rack().isEmpty()) {
                        out.writeUTF(c.rack());
                    }
                }
                case MetadataCommand.FenceNode c -> {
                    out.writeByte(2);
                    out.writeInt(c.nodeId());
                    out.writeLong(c.incarnation());
                }
                case MetadataCommand.CreateTopic c -> {
                    out.writeByte(3);
                    out.writeUTF(c.name());
                    writeUuid(out, c.id());
                    writeAssignment(out, c.assignment());
                    writeMap(out, c.overrides());
                }
                case MetadataCommand.DeleteTopic c -> {
                    out.writeByte(4);
                    out.writeUTF(c.name());
                }
                case MetadataCommand.CreatePartitions c when c.expectedCount() != MetadataCommand.CreatePartitions.UNCHECKED -> {
                    out.writeByte(17);
                    out.writeUTF(c.name());
                    out.writeInt(c.expectedCount());
                    writeAssignment(out, c.newAssignment());
                }
                case MetadataCommand.CreatePartitions c -> {
                    out.writeByte(5);
                    out.writeUTF(c.name());
                    writeAssignment(out, c.newAssignment());
                }
                case MetadataCommand.AlterTopicConfig c when c.basedOn() != null -> {
                    out.writeByte(18);
                    out.writeUTF(c.name());
                    writeMap(out, c.overrides());
                    writeMap(out, c.basedOn());
                }
                case MetadataCommand.AlterTopicConfig c -> {
                    out.writeByte(6);
                    out.writeUTF(c.name());
                    writeMap(out, c.overrides());
                }
                case MetadataCommand.AlterIsr c -> {
                    out.writeByte(7);
                    writeAlterIsr(out, c);
                }
                case MetadataCommand.AlterIsrs c -> {
                    out.writeByte(12);
                    out.writeInt(c.changes().size());
                    for (MetadataCommand.AlterIsr change : c.changes()) {
                        writeAlterIsr(out, change);
                    }
                }
                case MetadataCommand.ElectPreferredLeader c -> {
                    out.writeByte(8);
                    out.writeUTF(c.topic());
                    out.writeInt(c.partition());
                }
                case MetadataCommand.ReassignPartition c -> {
                    out.writeByte(10);
                    out.writeUTF(c.topic());
                    out.writeInt(c.partition());
                    writeInts(out, c.target());
                }
                case MetadataCommand.AllocateProducerIds c -> {
                    out.writeByte(9);
                    out.writeInt(c.nodeId());
                    out.writeInt(c.count());
                }
            }
        });
    }

    /**
     * Leads an entry that only counts if committed in the Raft term it was decided in (a
     * controller's own decision). Not a format number, so older entries never start with it.
     */
    private static final byte DECIDED_IN_TERM = 0x7d;

    /** A log entry as decoded: the command, and the term it must be committed in (-1: any). */
    public record Entry(long decidedInTerm, MetadataCommand command) {
        public boolean bindsTerm() {
            return decidedInTerm >= 0;
        }
    }

    /**
     * Encodes a controller's decision bound to the term of the controller that made it: should
     * that controller be deposed before the entry is in its log, a retry that reaches its successor
     * is committed in a later term and refused, so no deposed controller's stale view of liveness
     * fences a node the new one hears from (found by the fault campaigns, seed 1000).
     */
    public static byte[] encodeDecidedIn(long term, MetadataCommand command) {
        byte[] inner = encode(command);
        byte[] out = new byte[9 + inner.length];
        java.nio.ByteBuffer.wrap(out).put(DECIDED_IN_TERM).putLong(term).put(inner);
        return out;
    }

    /** Decodes a log entry written by {@link #encode(MetadataCommand)} or {@link #encodeDecidedIn}. */
    public static Entry decodeEntry(byte[] bytes) {
        if (bytes.length >= 9 && bytes[0] == DECIDED_IN_TERM) {
            long term = java.nio.ByteBuffer.wrap(bytes, 1, 8).getLong();
            return new Entry(term, decodeCommand(java.util.Arrays.copyOfRange(bytes, 9, bytes.length)));
        }
        return new Entry(-1, decodeCommand(bytes));
    }

    public static MetadataCommand decodeCommand(byte[] bytes) {
        return read(bytes, in -> {
            checkFormat(in);
            int type = in.readByte();
            return switch (type) {
                case 1 -> new MetadataCommand.RegisterNode(in.readInt(), in.readUTF(), in.readInt(), in.readLong());
                case 2 -> new MetadataCommand.FenceNode(in.readInt(), in.readLong());
                case 3 -> new MetadataCommand.CreateTopic(in.readUTF(), readUuid(in), readAssignment(in), readMap(in));
                case 4 -> new MetadataCommand.DeleteTopic(in.readUTF());
                case 5 -> new MetadataCommand.CreatePartitions(in.readUTF(), readAssignment(in));
                case 6 -> new MetadataCommand.AlterTopicConfig(in.readUTF(), readMap(in));
                case 7 -> readAlterIsr(in);
                case 12 -> {
                    int count = in.readInt();
                    if (count < 0) {
                        throw new IOException("negative count of in-sync set changes: " + count);
                    }
                    List<MetadataCommand.AlterIsr> changes = new java.util.ArrayList<>(Math.min(count, 1024));
                    for (int i = 0; i < count; i++) {
                        changes.add(readAlterIsr(in));
                    }
                    yield new MetadataCommand.AlterIsrs(changes);
                }
                case 8 -> new MetadataCommand.ElectPreferredLeader(in.readUTF(), in.readInt());
                case 9 -> new MetadataCommand.AllocateProducerIds(in.readInt(), in.readInt());
                case 10 -> new MetadataCommand.ReassignPartition(in.readUTF(), in.readInt(), readInts(in));
                case 11 -> new MetadataCommand.RegisterNode(in.readInt(), in.readUTF(), in.readInt(), in.readLong(), in.readBoolean());
                case 13 -> new MetadataCommand.RegisterNode(in.readInt(), in.readUTF(), in.readInt(), in.readLong(), in.readBoolean(), in.readUTF());
                case 14 -> new MetadataCommand.RegisterNode(in.readInt(), in.readUTF(), in.readInt(), in.readLong(), in.readBoolean(), in.readUTF(),
                        in.readInt());
                case 15 -> new MetadataCommand.CreateTable(in.readUTF(), readMap(in));
                case 16 -> new MetadataCommand.AlterNodeConfig(in.readInt(), readMap(in));
                case 17 -> new MetadataCommand.CreatePartitions(in.readUTF(), in.readInt(), readAssignment(in));
                case 18 -> new MetadataCommand.AlterTopicConfig(in.readUTF(), readMap(in), readMap(in));
                case 19 -> new MetadataCommand.AlterNodeConfigKeys(in.readInt(), readMap(in), readStrings(in));
                default -> throw new IOException("unknown metadata command type " + type);
            };
        });
    }

    public static byte[] encode(CommandResult result) {
        return write(out -> {
            out.writeByte(FIRST_FORMAT);
            out.writeByte(result.error().ordinal());
            out.writeUTF(result.message());
            out.writeLong(result.value());
            out.writeLong(result.version());
        });
    }

    public static CommandResult decodeResult(byte[] bytes) {
        return read(bytes, in -> {
            checkFormat(in);
            return new CommandResult(CommandResult.Error.values()[in.readByte()], in.readUTF(), in.readLong(), in.readLong());
        });
    }

    public static byte[] encode(ClusterImage image) {
        boolean nodeConfigs = !image.nodeConfigs().isEmpty();
        boolean tables = nodeConfigs || !image.tables().isEmpty() || image.nodes().values().stream().anyMatch(n -> n.tablesPort() != NodeInfo.NO_TABLES_PORT);
        boolean racks = tables || image.nodes().values().stream().anyMatch(n -> !n.rack().isEmpty());
        // Each format holds the fields of the ones before it.
        boolean eligible = racks || image.topics().values().stream().flatMap(t -> t.partitions().stream()).anyMatch(p -> !p.elr().isEmpty());
        boolean moving = eligible || image.topics().values().stream().flatMap(t -> t.partitions().stream()).anyMatch(PartitionState::reassigning);
        return write(out -> {
            // The oldest format that holds the image, so that older readers keep reading what they can.
            out.writeByte(nodeConfigs ? NODE_CONFIGS_FORMAT : tables ? TABLES_FORMAT : racks ? RACK_FORMAT : eligible ? ELR_FORMAT : moving ? MOVES_FORMAT : FIRST_FORMAT);
            out.writeLong(image.version());
            out.writeLong(image.nextProducerId());
            out.writeInt(image.nodes().size());
            for (NodeInfo n : image.nodes().values()) {
                out.writeInt(n.id());
                out.writeUTF(n.host());
                out.writeInt(n.port());
                out.writeLong(n.incarnation());
                out.writeBoolean(n.fenced());
                if (racks) {
                    out.writeUTF(n.rack());
                }
                if (tables) {
                    out.writeInt(n.tablesPort());
                }
            }
            out.writeInt(image.topics().size());
            for (TopicState t : image.topics().values()) {
                out.writeUTF(t.name());
                writeUuid(out, t.id());
                writeMap(out, t.overrides());
                out.writeInt(t.partitions().size());
                for (PartitionState p : t.partitions()) {
                    writeInts(out, p.replicas());
                    out.writeInt(p.leader());
                    out.writeInt(p.leaderEpoch());
                    writeInts(out, p.isr());
                    out.writeInt(p.partitionEpoch());
                    if (moving) {
                        writeInts(out, p.adding());
                        writeInts(out, p.removing());
                    }
                    if (eligible) {
                        writeInts(out, p.elr());
                    }
                }
            }
            if (tables) {
                out.writeInt(image.tables().size());
                for (TableSpec t : image.tables().values()) {
                    out.writeUTF(t.name());
                    writeMap(out, t.config());
                }
            }
            if (nodeConfigs) {
                out.writeInt(image.nodeConfigs().size());
                for (Map.Entry<Integer, Map<String, String>> e : image.nodeConfigs().entrySet()) {
                    out.writeInt(e.getKey());
                    writeMap(out, e.getValue());
                }
            }
        });
    }

    public static ClusterImage decodeImage(byte[] bytes) {
        return read(bytes, in -> {
            byte format = checkFormat(in);
            long version = in.readLong();
            long nextProducerId = in.readLong();
            Map<Integer, NodeInfo> nodes = new HashMap<>();
            for (int i = in.readInt(); i > 0; i--) {
                NodeInfo n = new NodeInfo(in.readInt(), in.readUTF(), in.readInt(), in.readLong(), in.readBoolean());
                if (format >= RACK_FORMAT) {
                    n = new NodeInfo(n.id(), n.host(), n.port(), n.incarnation(), n.fenced(), in.readUTF());
                }
                if (format >= TABLES_FORMAT) {
                    n = new NodeInfo(n.id(), n.host(), n.port(), n.incarnation(), n.fenced(), n.rack(), in.readInt());
                }
                nodes.put(n.id(), n);
            }
            Map<String, TopicState> topics = new HashMap<>();
            for (int i = in.readInt(); i > 0; i--) {
                String name = in.readUTF();
                UUID id = readUuid(in);
                Map<String, String> overrides = readMap(in);
                List<PartitionState> partitions = new ArrayList<>();
                for (int p = in.readInt(); p > 0; p--) {
                    PartitionState state = new PartitionState(readInts(in), in.readInt(), in.readInt(), readInts(in), in.readInt());
                    if (format >= MOVES_FORMAT) {
                        state = new PartitionState(state.replicas(), state.leader(), state.leaderEpoch(), state.isr(), state.partitionEpoch(),
                                readInts(in), readInts(in));
                    }
                    if (format >= ELR_FORMAT) {
                        state = state.withElr(readInts(in));
                    }
                    partitions.add(state);
                }
                topics.put(name, new TopicState(name, id, partitions, overrides));
            }
            Map<String, TableSpec> tables = new HashMap<>();
            if (format >= TABLES_FORMAT) {
                for (int i = in.readInt(); i > 0; i--) {
                    String name = in.readUTF();
                    tables.put(name, new TableSpec(name, readMap(in)));
                }
            }
            Map<Integer, Map<String, String>> nodeConfigs = new HashMap<>();
            if (format >= NODE_CONFIGS_FORMAT) {
                for (int i = in.readInt(); i > 0; i--) {
                    int node = in.readInt();
                    nodeConfigs.put(node, readMap(in));
                }
            }
            return new ClusterImage(version, nodes, topics, nextProducerId, tables, nodeConfigs);
        });
    }

    private interface Writer {
        void write(DataOutputStream out) throws IOException;
    }

    private interface Reader<T> {
        T read(DataInputStream in) throws IOException;
    }

    private static byte[] write(Writer writer) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(128);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            writer.write(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    private static <T> T read(byte[] bytes, Reader<T> reader) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            return reader.read(in);
        } catch (IOException e) {
            throw new IllegalArgumentException("unreadable metadata entry: " + e.getMessage(), e);
        }
    }

    private static byte checkFormat(DataInputStream in) throws IOException {
        byte format = in.readByte();
        if (format < FIRST_FORMAT || format > FORMAT) {
            throw new IOException("metadata format " + format + " is not known to this release");
        }
        return format;
    }

    private static void writeAlterIsr(DataOutputStream out, MetadataCommand.AlterIsr c) throws IOException {
        out.writeUTF(c.topic());
        out.writeInt(c.partition());
        out.writeInt(c.leader());
        out.writeInt(c.leaderEpoch());
        out.writeInt(c.partitionEpoch());
        writeInts(out, c.isr());
    }

    private static MetadataCommand.AlterIsr readAlterIsr(DataInputStream in) throws IOException {
        return new MetadataCommand.AlterIsr(in.readUTF(), in.readInt(), in.readInt(), in.readInt(), in.readInt(), readInts(in));
    }

    private static void writeUuid(DataOutputStream out, UUID id) throws IOException {
        out.writeLong(id.getMostSignificantBits());
        out.writeLong(id.getLeastSignificantBits());
    }

    private static UUID readUuid(DataInputStream in) throws IOException {
        return new UUID(in.readLong(), in.readLong());
    }

    private static void writeInts(DataOutputStream out, List<Integer> values) throws IOException {
        out.writeInt(values.size());
        for (int v : values) {
            out.writeInt(v);
        }
    }

    private static List<Integer> readInts(DataInputStream in) throws IOException {
        int n = in.readInt();
        List<Integer> values = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            values.add(in.readInt());
        }
        return values;
    }

    private static void writeAssignment(DataOutputStream out, List<List<Integer>> assignment) throws IOException {
        out.writeInt(assignment.size());
        for (List<Integer> replicas : assignment) {
            writeInts(out, replicas);
        }
    }

    private static List<List<Integer>> readAssignment(DataInputStream in) throws IOException {
        int n = in.readInt();
        List<List<Integer>> assignment = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            assignment.add(readInts(in));
        }
        return assignment;
    }

    /** Sorted, so that equal sets encode to the same bytes. */
    private static void writeStrings(DataOutputStream out, java.util.Set<String> values) throws IOException {
        out.writeInt(values.size());
        for (String value : new java.util.TreeSet<>(values)) {
            out.writeUTF(value);
        }
    }

    private static java.util.Set<String> readStrings(DataInputStream in) throws IOException {
        java.util.Set<String> values = new java.util.HashSet<>();
        for (int i = in.readInt(); i > 0; i--) {
            values.add(in.readUTF());
        }
        return values;
    }

    private static void writeMap(DataOutputStream out, Map<String, String> map) throws IOException {
        out.writeInt(map.size());
        for (Map.Entry<String, String> e : new java.util.TreeMap<>(map).entrySet()) {
            out.writeUTF(e.getKey());
            out.writeUTF(e.getValue());
        }
    }

    private static Map<String, String> readMap(DataInputStream in) throws IOException {
        Map<String, String> map = new HashMap<>();
        for (int i = in.readInt(); i > 0; i--) {
            map.put(in.readUTF(), in.readUTF());
        }
        return map;
    }
}
