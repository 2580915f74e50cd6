package io.spate.tests;

import io.spate.processing.PipelineAdmin;
import io.spate.tables.Consistency;
import io.spate.tables.client.TablesClient;
import io.spate.tests.support.Clients;
import io.spate.tests.support.SpateCluster;
import io.spate.tests.support.SpateProcess;
import io.spate.tests.support.SteadyProducer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The web console in a real browser (Debian's headless Chromium through its chromedriver, driven
 * by Selenium) against a 3-node cluster of node processes under a light produce load: every page
 * shows what the cluster holds, a node killed with {@code kill -9} shows as down within seconds,
 * a group's lag grows while its consumer stops and shrinks once it resumes, the message browser
 * tails newly produced records, the Tables page lists a table and follows its writes. Screenshots
 * go to {@code target/console-screenshots} (or {@code -Dspate.console.screenshots=DIR}); the
 * README's are a set of them.
 */
class ConsoleBrowserTest {
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final String TOPIC = "orders";
    private static final String GROUP = "order-audit";
    @TempDir
    static Path tmp;
    static SpateCluster cluster;
    static final Map<Integer, Integer> httpPorts = new HashMap<>();
    static WebDriver browser;
    static Path screenshots;

    @BeforeAll
    static void start() throws Exception {
        assertThat(CHROMEDRIVER).as("Debian's chromium-driver (scripts/test.sh installs it)").isExecutable();
        assertThat(CHROMIUM).as("Debian's chromium (scripts/test.sh installs it)").isExecutable();
        screenshots = Path.of(System.getProperty("spate.console.screenshots", "target/console-screenshots"));
        Files.createDirectories(screenshots);
        for (int id = 1; id <= 3; id++) {
            httpPorts.put(id, SpateProcess.freePort());
        }
        cluster = new SpateCluster(tmp.resolve("cluster"), 3, Map.of("broker.heartbeat.interval.ms", "500", "broker.session.timeout.ms", "3000",
                "offsets.topic.replication.factor", "3"), id -> Map.of("http.port", String.valueOf(httpPorts.get(id)), "broker.rack", "rack-" + id));
        var browserStart = java.util.concurrent.CompletableFuture.runAsync(ConsoleBrowserTest::startBrowser); // beside the nodes' start
        cluster.start();
        browserStart.get(60, java.util.concurrent.TimeUnit.SECONDS);
    }

    private static void startBrowser() {
        // Named explicitly: Selenium Manager (which would look for, or download, a driver) is never asked.
        System.setProperty("webdriver.chrome.driver", CHROMEDRIVER.toString());
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort()
                .withLogFile(tmp.resolve("chromedriver.log").toFile()).build();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                "--user-data-dir=" + tmp.resolve("chromium-profile"), "--window-size=1366,768");
        browser = new ChromeDriver(service, options);
        browser.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.quit();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void theConsoleShowsTheClusterLive() throws Exception {
        cluster.createTopic(TOPIC, 3, 3, Map.of("retention.ms", "86400000"));
        cluster.createTopic("lines", 2, 3, Map.of());
        try (PipelineAdmin pipelines = new PipelineAdmin(cluster.bootstrap())) {
            pipelines.deploy("wordcount", new PipelineAdmin.Code.Example("wordcount"), Map.of());
        }
        try (SteadyProducer load = new SteadyProducer(cluster.bootstrap(), TOPIC, 3, 30, Map.of()).start();
             KafkaProducer<String, String> producer = Clients.producer(cluster.bootstrap(), Map.of());
             GroupConsumer consumer = new GroupConsumer(cluster.bootstrap())) {
            for (String line : List.of("to be or not to be", "the console counts words", "to be continued")) {
                producer.send(new ProducerRecord<>("lines", line)).get();
            }
            String console = "http://127.0.0.1:" + httpPorts.get(1) + "/";

            // Cluster: three live nodes, their racks, one controller.
            browser.get(console + "#cluster");
            await("three live nodes").atMost(Duration.ofSeconds(15)).ignoreExceptions().untilAsserted(() -> {
                List<WebElement> rows = browser.findElements(By.cssSelector("#nodes tbody tr"));
                assertThat(rows).hasSize(3);
                assertThat(rows).allSatisfy(r -> assertThat(r.getAttribute("data-live")).isEqualTo("true"));
                assertThat(browser.findElement(By.cssSelector("#nodes")).getText()).contains("controller", "this node", "rack-1", "rack-2", "rack-3");
                assertThat(browser.findElement(By.id("cluster-cards")).getText()).contains("3 / 3");
            });
            awaitChart("#chart-rate", "Produce");
            screenshot("cluster");

            // Topics: the list, a topic's partitions (leader, in-sync set, offsets), configs; create and delete.
            browser.get(console + "#topics");
            await("the topic listed").atMost(Duration.ofSeconds(15)).ignoreExceptions().untilAsserted(() ->
                    assertThat(row("#topics-table", "data-topic", TOPIC).getText()).contains(TOPIC, "3"));
            WebElement form = browser.findElement(By.id("create-topic"));
            form.findElement(By.name("name")).sendKeys("payments");
            form.findElement(By.name("partitions")).clear();
            form.findElement(By.name("partitions")).sendKeys("2");
            form.findElement(By.name("replication_factor")).sendKeys("2");
            form.findElement(By.name("configs")).sendKeys("cleanup.policy=compact");
            form.findElement(By.cssSelector("button[type=submit]")).click();
            await("the created topic listed").atMost(Duration.ofSeconds(20)).ignoreExceptions().untilAsserted(() ->
                    assertThat(row("#topics-table", "data-topic", "payments").getText()).contains("payments", "2"));
            assertThat(cluster.describe("payments").partitions()).hasSize(2).allSatisfy(p -> assertThat(p.replicas()).hasSize(2));
            screenshot("topics");

            browser.get(console + "#topics/" + TOPIC);
            await("the partitions with three replicas in sync and records").atMost(Duration.ofSeconds(20)).ignoreExceptions().untilAsserted(() -> {
                List<WebElement> rows = browser.findElements(By.cssSelector("#partitions tbody tr"));
                assertThat(rows).hasSize(3);
                for (WebElement r : rows) {
                    List<WebElement> cells = r.findElements(By.tagName("td"));
                    assertThat(cells.get(2).getText().split(", ")).as("replicas").containsExactlyInAnyOrder("1", "2", "3");
                    assertThat(cells.get(3).getText().split(", ")).as("in sync").containsExactlyInAnyOrder("1", "2", "3");
                    assertThat(cells.get(1).getText()).as("leader").isIn("1", "2", "3");
                    assertThat(Long.parseLong(cells.get(5).getText().replace(",", ""))).as("log end").isPositive();
                    assertThat(cells.get(7).getText()).as("size").endsWith("B");
                }
                assertThat(row("#configs", "data-config", "retention.ms").getText()).contains("86400000");
            });
            screenshot("topic");

            browser.get(console + "#topics/payments");
            await("the delete button").atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> browser.findElement(By.id("delete-topic")).isDisplayed());
            browser.findElement(By.id("delete-topic")).click();
            browser.findElement(By.id("delete-topic")).click(); // confirms
            await("the deleted topic gone").atMost(Duration.ofSeconds(20)).ignoreExceptions().untilAsserted(() -> {
                assertThat(browser.getCurrentUrl()).endsWith("#topics");
                assertThat(browser.findElements(By.cssSelector("#topics-table tbody tr[data-topic='payments']"))).isEmpty();
                assertThat(browser.findElements(By.cssSelector("#topics-table tbody tr[data-topic='" + TOPIC + "']"))).hasSize(1);
            });

            // Groups: lag grows while the consumer is stopped, shrinks once it resumes.
            await("the consumer caught up").atMost(Duration.ofSeconds(30)).until(() -> consumer.consumed.get() > 0);
            browser.get(console + "#groups/" + GROUP);
            await("the group stable with a member").atMost(Duration.ofSeconds(20)).ignoreExceptions().untilAsserted(() -> {
                assertThat(browser.findElements(By.cssSelector("#group-offsets tbody tr"))).hasSize(3);
                assertThat(browser.findElements(By.cssSelector("#group-members tbody tr td"))).hasSizeGreaterThan(1);
            });
            consumer.paused.set(true);
            long grown = await("lag growing while the consumer is stopped").atMost(Duration.ofSeconds(20)).ignoreExceptions()
                    .until(ConsoleBrowserTest::lagShown, lag -> lag >= 60);
            screenshot("group");
            consumer.paused.set(false);
            await("lag shrinking once the consumer resumes").atMost(Duration.ofSeconds(20)).ignoreExceptions()
                    .until(ConsoleBrowserTest::lagShown, lag -> lag < grown / 2);
            browser.get(console + "#groups");
            await("the group listed").atMost(Duration.ofSeconds(15)).ignoreExceptions().untilAsserted(() ->
                    assertThat(row("#groups-table", "data-group", GROUP).getText()).contains("STABLE", TOPIC));

            // Message browser: tails the topic; a record produced now shows up.
            browser.get(console + "#messages/" + TOPIC);
            await("the tail started").atMost(Duration.ofSeconds(10)).ignoreExceptions().untilAsserted(() ->
                    assertThat(browser.findElement(By.id("tail-count")).getText()).isNotBlank());
            String marker = "console-marker-" + UUID.randomUUID();
            AtomicReference<String> sentAt = new AtomicReference<>();
            await("the new record tailed").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(500)).ignoreExceptions().untilAsserted(() -> {
                if (sentAt.get() == null) {
                    // The stream starts at the end once its consumer has sought it: sent once the first load record arrived.
                    assertThat(browser.findElements(By.cssSelector("#tail-table tbody tr"))).isNotEmpty();
                    var meta = producer.send(new ProducerRecord<>(TOPIC, 0, "marker", marker)).get();
                    sentAt.set(meta.partition() + ":" + meta.offset());
                }
                WebElement r = row("#tail-table", "data-offset", sentAt.get());
                assertThat(r.getText()).contains(marker, "marker");
            });
            screenshot("messages");

            // Pipelines: the word count's tasks reporting.
            browser.get(console + "#pipelines");
            await("the pipeline's tasks running").atMost(Duration.ofSeconds(30)).ignoreExceptions().untilAsserted(() -> {
                WebElement p = browser.findElement(By.cssSelector("[data-pipeline='wordcount']"));
                assertThat(p.getText()).contains("wordcount", "RUNNING");
            });
            screenshot("pipelines");

            // Live stats: Produce among the APIs of the last second, and its latency drawn.
            browser.get(console + "#stats");
            await("Produce in the last second's figures").atMost(Duration.ofSeconds(15)).ignoreExceptions().untilAsserted(() ->
                    assertThat(row("#apis", "data-api", "Produce").getText()).contains("ms"));
            awaitChart("#chart-latency", "p99");
            screenshot("stats");

            // The dark theme, from the header's toggle.
            browser.get(console + "#topics");
            await("the topics listed").atMost(Duration.ofSeconds(15)).ignoreExceptions().until(() ->
                    browser.findElements(By.cssSelector("#topics-table tbody tr[data-topic='" + TOPIC + "']")).size() == 1);
            browser.findElement(By.id("theme")).click();
            assertThat(browser.findElement(By.tagName("html")).getAttribute("data-theme")).isEqualTo("dark");
            screenshot("topics-dark");
            browser.findElement(By.id("theme")).click();
            assertThat(browser.findElement(By.tagName("html")).getAttribute("data-theme")).isEqualTo("light");

            // Tables: a table created here listed with its settings, and this node's table figures
            // (requests per consistency, hints, repairs) following the writes live.
            try (TablesClient tables = TablesClient.of(List.of("http://127.0.0.1:" + httpPorts.get(1)), Duration.ofSeconds(10))) {
                tables.create("carts", 3, Map.of("durability", "sync_each"));
                await("the table served").atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() ->
                        tables.put("carts", "probe", new byte[]{1}, Consistency.QUORUM, 0) > 0);
                for (int i = 0; i < 40; i++) {
                    tables.put("carts", "cart-" + i, ("items-" + i).getBytes(java.nio.charset.StandardCharsets.UTF_8), Consistency.QUORUM, 0);
                }
                for (int i = 0; i < 10; i++) {
                    assertThat(tables.get("carts", "cart-" + i, Consistency.ONE)).isPresent();
                }
                browser.get(console + "#tables");
                await("the table and its figures").atMost(Duration.ofSeconds(15)).ignoreExceptions().untilAsserted(() -> {
                    assertThat(row("#tables-table", "data-table", "carts").getText()).contains("carts", "3", "QUORUM", "sync_each", "strict");
                    assertThat(requestsShown("write-quorum")).isGreaterThanOrEqualTo(41);
                    assertThat(requestsShown("read-one")).isGreaterThanOrEqualTo(10);
                    assertThat(browser.findElement(By.id("figure-hints-pending")).getText()).contains("Hints pending", "0");
                    assertThat(browser.findElement(By.id("figure-ae-sessions")).getText()).contains("Anti-entropy sessions", "in sync");
                });
                // read between two of the page's refreshes: one that replaces the row under the read makes it stale
                long before = await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> requestsShown("write-all"), shown -> true);
                for (int i = 0; i < 20; i++) {
                    tables.put("carts", "cart-" + i, new byte[]{2}, Consistency.ALL, 0);
                }
                await("the figures updated without a reload").atMost(Duration.ofSeconds(10)).ignoreExceptions().untilAsserted(() ->
                        assertThat(requestsShown("write-all")).isGreaterThanOrEqualTo(before + 20));
                awaitChart("#chart-table-rate", "ALL");
                screenshot("tables");
            }

            // A node killed with kill -9 shows as down within seconds (the session timeout is 3 s).
            browser.get(console + "#cluster");
            await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> browser.findElements(By.cssSelector("#nodes tbody tr")).size() == 3);
            long killedAt = System.nanoTime();
            cluster.kill9(3);
            await("node 3 shown down").atMost(Duration.ofSeconds(12)).pollInterval(Duration.ofMillis(200)).ignoreExceptions().untilAsserted(() -> {
                assertThat(row("#nodes", "data-node", "3").getAttribute("data-live")).isEqualTo("false");
                assertThat(row("#nodes", "data-node", "3").findElement(By.className("status")).getText()).isEqualTo("down");
                assertThat(browser.findElement(By.id("cluster-cards")).getText()).contains("2 / 3");
            });
            SpateCluster.log("node 3 shown down " + (System.nanoTime() - killedAt) / 1_000_000 + " ms after kill -9");
            await().atMost(Duration.ofSeconds(5)).ignoreExceptions().untilAsserted(() ->
                    assertThat(row("#nodes", "data-node", "1").getAttribute("data-live")).isEqualTo("true"));
            screenshot("cluster-node-down");
        }
    }

    /** The Tables page's request count for one operation and consistency ({@code write-quorum}). */
    private static long requestsShown(String request) {
        return Long.parseLong(row("#table-requests", "data-request", request).findElements(By.tagName("td")).get(2).getText().replace(",", ""));
    }

    /** The group page's total lag. */
    private static long lagShown() {
        return Long.parseLong(browser.findElement(By.id("group-lag-total")).getText().replace(",", ""));
    }

    private static WebElement row(String table, String attribute, String value) {
        return browser.findElement(By.cssSelector(table + " tbody tr[" + attribute + "='" + value + "']"));
    }

    /** Awaits a chart's series with some points drawn. */
    private static void awaitChart(String chart, String series) {
        await(series + " drawn in " + chart).atMost(Duration.ofSeconds(15)).ignoreExceptions().untilAsserted(() ->
                assertThat(browser.findElement(By.cssSelector(chart + " path[data-series='" + series + "']")).getAttribute("d"))
                        .contains("L"));
    }

    private static void screenshot(String name) throws Exception {
        byte[] png = ((org.openqa.selenium.TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES);
        Files.write(screenshots.resolve(name + ".png"), png);
    }

    /** A member of {@link #GROUP} consuming {@link #TOPIC} on its own thread, committing as it goes; it stops polling while paused. */
    private static final class GroupConsumer implements AutoCloseable {
        final AtomicBoolean paused = new AtomicBoolean();
        final AtomicBoolean running = new AtomicBoolean(true);
        final java.util.concurrent.atomic.AtomicLong consumed = new java.util.concurrent.atomic.AtomicLong();
        private final Thread thread;

        GroupConsumer(String bootstrap) {
            thread = Thread.ofPlatform().name("console-group-consumer").start(() -> {
                try (KafkaConsumer<String, String> consumer = Clients.consumer(bootstrap, Map.of(ConsumerConfig.GROUP_ID_CONFIG, GROUP,
                        ConsumerConfig.CLIENT_ID_CONFIG, "audit-1", ConsumerConfig.AUTO_COMMIT_INTERVAL_MS_CONFIG, 200))) {
                    consumer.subscribe(List.of(TOPIC));
                    while (running.get()) {
                        if (paused.get()) {
                            // Stopped: no poll, so nothing more is consumed or committed (heartbeats keep it a member).
                            java.util.concurrent.locks.LockSupport.parkNanos(50_000_000);
                            continue;
                        }
                        consumed.addAndGet(consumer.poll(Duration.ofMillis(100)).count());
                    }
                }
            });
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            thread.join(10_000);
        }
    }
}
