package io.spate.processing;

import io.spate.stream.Pipeline;
import io.spate.stream.engine.CompiledPipeline;
import io.spate.stream.engine.PipelineCompiler;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Deploys, lists, describes, pauses, resumes and deletes pipelines over the Kafka protocol only:
 * what `spate pipeline` and the embedded {@code SpateNode} API do. A deploy checks the pipeline
 * here first (it loads, its graph compiles, its inputs exist), creates its topics, then writes
 * its jar and spec to the catalog, which every node reads.
 */
public final class PipelineAdmin implements AutoCloseable {
    /** How long one step (a request, a read of the catalog, a delete's wait for its tasks) may take unless told otherwise. */
    public static final Duration DEFAULT_STEP = Duration.ofSeconds(30);
    private final String bootstrap;
    private final Duration step;
    private final Admin admin;
    private KafkaProducer<String, byte[]> producer;

    public PipelineAdmin(String bootstrap) {
        this(bootstrap, DEFAULT_STEP);
    }

    /** An admin whose every step gives up after {@code step} (the catalog write, which may carry a jar, after twice that). */
    public PipelineAdmin(String bootstrap, Duration step) {
        if (step.isNegative() || step.isZero()) {
            throw new IllegalArgumentException("a pipeline command's timeout must be positive, not " + step.toMillis() + " ms");
        }
        this.bootstrap = bootstrap;
        this.step = step;
        this.admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) Math.min(Integer.MAX_VALUE, step.toMillis()),
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.min(Integer.MAX_VALUE, step.toMillis())));
    }

    /** Where a pipeline's code comes from. */
    public sealed interface Code {
        record Example(String name) implements Code { }

        record Jar(Path path, String className) implements Code { }

        record OnClassPath(String className) implements Code { }
    }

    /** What a deploy did: the spec written and the graph it runs. */
    public record Deployed(PipelineSpec spec, String topology, int partitions) { }

    /** A pipeline and its tasks' last reports (tasks of an older generation left out). */
    /** A pipeline, its tasks' last reports and its standbys' ({@link StandbyTask}: state {@code STANDBY}). */
    public record Description(PipelineSpec spec, List<TaskStatus> tasks, List<TaskStatus> standbys) { }

    private static final long STANDBY_REPORT_STALE_MS = 10_000;

    public Deployed deploy(String name, Code code, Map<String, String> settings) throws Exception {
        PipelineNames.validate(name);
        PipelineSettings.of(settings);
        ensureCatalogTopics();
        PipelineSpec current = spec(name).orElse(null);
        long generation = current == null ? 1 : current.generation() + 1;
        String source;
        String reference;
        String className;
        byte[] jar = null;
        switch (code) {
            case Code.Example e -> {
                source = PipelineSpec.EXAMPLE;
                reference = e.name();
                className = PipelineLoader.exampleClass(e.name());
            }
            case Code.OnClassPath c -> {
                source = PipelineSpec.CLASSPATH;
                reference = "";
                className = c.className();
            }
            case Code.Jar j -> {
                source = PipelineSpec.JAR;
                jar = Files.readAllBytes(j.path());
                if (jar.length > CatalogRecords.MAX_JAR_BYTES) {
                    throw new IllegalArgumentException(j.path() + " is " + jar.length + " bytes; a pipeline jar may be at most "
                            + CatalogRecords.MAX_JAR_BYTES);
                }
                reference = sha256(jar);
                className = j.className();
            }
        }
        PipelineSpec spec = new PipelineSpec(name, source, reference, className, settings, false, generation);
        CompiledPipeline compiled;
        Path jarPath = code instanceof Code.Jar j ? j.path() : null;
        try (PipelineLoader.Loaded loaded = PipelineLoader.load(spec, jarPath)) {
            compiled = compile(name, loaded.pipeline(), settings);
        }
        int partitions = PipelineTopics.ensure(admin, compiled, step);
        if (jar != null) {
            send(CatalogRecords.jarKey(reference), jar);
        }
        send(CatalogRecords.pipelineKey(name), CatalogRecords.encode(spec));
        return new Deployed(spec, compiled.describe(), partitions);
    }

    /** Compiles with the pipeline's code errors told as such. */
    public static CompiledPipeline compile(String name, Pipeline pipeline, Map<String, String> settings) {
        try {
            return PipelineCompiler.compile(name, pipeline, settings);
        } catch (RuntimeException | LinkageError e) {
            throw new IllegalArgumentException("pipeline " + name + " does not build: " + e, e);
        }
    }

    public List<PipelineSpec> list() {
        List<PipelineSpec> specs = new ArrayList<>();
        CompactedTopicReader.readAll(bootstrap, CatalogRecords.CATALOG_TOPIC, step).forEach((key, value) -> {
            if (key.startsWith(CatalogRecords.PIPELINE_PREFIX)) {
                specs.add(CatalogRecords.decodeSpec(value));
            }
        });
        specs.sort((a, b) -> a.name().compareTo(b.name()));
        return specs;
    }

    public Optional<PipelineSpec> spec(String name) {
        byte[] value = CompactedTopicReader.readAll(bootstrap, CatalogRecords.CATALOG_TOPIC, step).get(CatalogRecords.pipelineKey(name));
        return value == null ? Optional.empty() : Optional.of(CatalogRecords.decodeSpec(value));
    }

    public Optional<Description> describe(String name) {
        Optional<PipelineSpec> spec = spec(name);
        if (spec.isEmpty()) {
            return Optional.empty();
        }
        List<TaskStatus> reports = reports(name, spec.get().generation());
        // A standby reports every second; one silent for longer than this is gone (its node was killed or left).
        long since = System.currentTimeMillis() - STANDBY_REPORT_STALE_MS;
        return Optional.of(new Description(spec.get(), reports.stream().filter(t -> !t.state().equals(StandbyTask.STATE)).toList(),
                reports.stream().filter(t -> t.state().equals(StandbyTask.STATE) && t.reportedAtMs() >= since).toList()));
    }

    /** The last reports of {@code name}'s tasks of {@code generation} (or newer). */
    public List<TaskStatus> tasks(String name, long generation) {
        return reports(name, generation).stream().filter(t -> !t.state().equals(StandbyTask.STATE)).toList();
    }

    /** The last reports of {@code name}'s tasks and standbys of {@code generation} (or newer), by task, then node. */
    private List<TaskStatus> reports(String name, long generation) {
        List<TaskStatus> tasks = new ArrayList<>();
        CompactedTopicReader.readAll(bootstrap, CatalogRecords.STATUS_TOPIC, step).forEach((key, value) -> {
            if (key.startsWith(name + "/")) {
                TaskStatus status = CatalogRecords.decodeStatus(value);
                if (status.pipeline().equals(name) && status.generation() >= generation) {
                    tasks.add(status);
                }
            }
        });
        tasks.sort(java.util.Comparator.comparingInt(TaskStatus::subTopology).thenComparingInt(TaskStatus::partition)
                .thenComparingInt(TaskStatus::node));
        return tasks;
    }

    public PipelineSpec pause(String name) throws Exception {
        return setPaused(name, true);
    }

    public PipelineSpec resume(String name) throws Exception {
        return setPaused(name, false);
    }

    private PipelineSpec setPaused(String name, boolean paused) throws Exception {
        PipelineSpec current = spec(name).orElseThrow(() -> new IllegalArgumentException("no pipeline named " + name));
        // A new generation also on resume: a task that failed for good gets its fresh start.
        PipelineSpec changed = current.paused(paused, current.generation() + 1);
        send(CatalogRecords.pipelineKey(name), CatalogRecords.encode(changed));
        return changed;
    }

    /**
     * Removes the pipeline (and its jar, if no other pipeline runs it); with {@code removeState},
     * also its repartition and changelog topics and its positions, once its tasks have stopped
     * (its outputs stay). Returns what it could not do, or an empty list.
     */
    public List<String> delete(String name, boolean removeState) throws Exception {
        Map<String, byte[]> catalog = CompactedTopicReader.readAll(bootstrap, CatalogRecords.CATALOG_TOPIC, step);
        byte[] value = catalog.get(CatalogRecords.pipelineKey(name));
        if (value == null) {
            throw new IllegalArgumentException("no pipeline named " + name);
        }
        PipelineSpec spec = CatalogRecords.decodeSpec(value);
        List<String> internal = removeState ? internalTopics(spec, catalog) : List.of();
        send(CatalogRecords.pipelineKey(name), null);
        if (spec.source().equals(PipelineSpec.JAR)) {
            boolean shared = false;
            for (Map.Entry<String, byte[]> e : catalog.entrySet()) {
                if (e.getKey().startsWith(CatalogRecords.PIPELINE_PREFIX) && !e.getKey().equals(CatalogRecords.pipelineKey(name))) {
                    PipelineSpec other = CatalogRecords.decodeSpec(e.getValue());
                    shared |= other.source().equals(PipelineSpec.JAR) && other.reference().equals(spec.reference());
                }
            }
            if (!shared) {
                send(CatalogRecords.jarKey(spec.reference()), null);
            }
        }
        List<String> left = new ArrayList<>();
        if (!removeState) {
            return left;
        }
        // Each node takes its tasks' reports back once their threads have ended.
        long deadline = System.nanoTime() + step.toNanos();
        while (!tasks(name, 0).isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        if (!tasks(name, 0).isEmpty()) {
            left.add("some of its tasks still reported after " + step.toMillis() + " ms (a node down?); its state was removed anyway");
        }
        List<String> present = new ArrayList<>(internal);
        present.retainAll(admin.listTopics().names().get(step.toMillis(), TimeUnit.MILLISECONDS));
        if (!present.isEmpty()) {
            admin.deleteTopics(present).all().get(step.toMillis(), TimeUnit.MILLISECONDS);
        }
        try {
            admin.deleteConsumerGroups(List.of(PipelineNames.group(name))).all().get(step.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof GroupIdNotFoundException)) {
                left.add("its positions (group " + PipelineNames.group(name) + ") were not removed: " + e.getCause());
            }
        }
        return left;
    }

    /** The repartition and changelog topics the spec's code makes, compiled here (its jar taken from the catalog). */
    private static List<String> internalTopics(PipelineSpec spec, Map<String, byte[]> catalog) throws IOException {
        Path jar = null;
        try {
            if (spec.source().equals(PipelineSpec.JAR)) {
                byte[] bytes = catalog.get(CatalogRecords.jarKey(spec.reference()));
                if (bytes == null) {
                    throw new IllegalArgumentException("pipeline " + spec.name() + "'s jar is not in the catalog: its internal topics are"
                            + " unknown; delete it with --keep-state and remove them by hand");
                }
                jar = Files.createTempFile("spate-pipeline-", ".jar");
                Files.write(jar, bytes);
            }
            try (PipelineLoader.Loaded loaded = PipelineLoader.load(spec, jar)) {
                List<String> topics = new ArrayList<>();
                compile(spec.name(), loaded.pipeline(), spec.settings()).internalTopics().forEach(t -> topics.add(t.name()));
                return topics;
            }
        } finally {
            if (jar != null) {
                Files.deleteIfExists(jar);
            }
        }
    }

    private void ensureCatalogTopics() throws Exception {
        int nodes = admin.describeCluster().nodes().get(step.toMillis(), TimeUnit.MILLISECONDS).size();
        short factor = (short) Math.min(3, nodes);
        List<NewTopic> topics = List.of(
                new NewTopic(CatalogRecords.CATALOG_TOPIC, 1, factor).configs(Map.of("cleanup.policy", "compact",
                        "max.message.bytes", String.valueOf(CatalogRecords.MAX_JAR_BYTES + (1 << 20)))),
                new NewTopic(CatalogRecords.STATUS_TOPIC, 1, factor).configs(Map.of("cleanup.policy", "compact")));
        for (NewTopic topic : topics) {
            try {
                admin.createTopics(List.of(topic)).all().get(step.toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e;
                }
            }
        }
    }

    private synchronized void send(String key, byte[] value) throws Exception {
        if (producer == null) {
            producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ProducerConfig.ACKS_CONFIG, "all",
                    ProducerConfig.MAX_REQUEST_SIZE_CONFIG, CatalogRecords.MAX_JAR_BYTES + (1 << 20),
                    ProducerConfig.BUFFER_MEMORY_CONFIG, (long) CatalogRecords.MAX_JAR_BYTES * 2 + (1 << 20),
                    // without it, a send to a cluster that does not answer blocks 60 s on metadata before the bound below applies
                    ProducerConfig.MAX_BLOCK_MS_CONFIG, step.toMillis()),
                    new StringSerializer(), new ByteArraySerializer());
        }
        producer.send(new ProducerRecord<>(CatalogRecords.CATALOG_TOPIC, 0, key, value)).get(2 * step.toMillis(), TimeUnit.MILLISECONDS);
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
        }
        admin.close(Duration.ofSeconds(5));
    }

}
