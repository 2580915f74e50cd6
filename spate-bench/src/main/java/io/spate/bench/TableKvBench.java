package io.spate.bench;

import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * The key-value workload of issue 14's benchmark, the same against a Spate table (the native protocol,
 * {@link NativeKvTarget}, or HTTP, {@link HttpKvTarget}) and an Apache Cassandra table (CQL, {@link CqlKvTarget}).
 * Not a test: it prints RESULT lines.
 *
 * <pre>
 *   java -cp ... io.spate.bench.TableKvBench --target=native|http|cql --hosts=... [--option=value ...]
 * </pre>
 *
 * Keys "k0".."k(N-1)", values of --value-size random (incompressible) bytes, --read-pct % reads,
 * the rest writes of a whole value. Keys are drawn uniform, or zipfian (YCSB's theta 0.99 over the
 * ranks, each rank mapped to a key by a fixed seeded permutation so the hot keys spread over the
 * ring). First the N keys are written once at ALL (--preload-inflight in flight), then every phase of
 * --plan, --reps times:
 * <ul>
 *   <li>{@code fixed:RATE:CL:DIST}: open loop, op i due at t0 + i/RATE, latency from that intended
 *       time (coordinated omission corrected), at most 8192 in flight;</li>
 *   <li>{@code max:INFLIGHT:CL:DIST}: closed loop, INFLIGHT requests always outstanding, latency from
 *       the actual send.</li>
 * </ul>
 * Each phase: --warmup-s unrecorded, then --duration-s recorded. ops_s counts successful completions
 * inside the recorded window. Histograms in microseconds (HdrHistogram, 3 digits). CPU from /proc over
 * the window: the whole machine's idle share, the server processes' (--pid-files) and this client's.
 */
public final class TableKvBench {

    /** What a store answers to one operation. {@code error} is null on success. */
    public interface Callback {
        void done(boolean found, String error);
    }

    /** One store, driven asynchronously: the callback may run on any thread. */
    public interface Target extends AutoCloseable {
        void setup(int replicationFactor) throws Exception;

        void read(String key, String consistency, Callback cb);

        void write(String key, byte[] value, String consistency, Callback cb);

        String describe();
    }

    static final Map<String, String> opt = new LinkedHashMap<>();

    static String s(String k, String d) { return opt.getOrDefault(k, d); }

    static long l(String k, long d) { return Long.parseLong(s(k, Long.toString(d))); }

    static String[] keys;
    static byte[][] values;
    static int readPct;
    static int[] zipfPerm;
    static double[] zipfCdf;

    public static void main(String[] args) throws Exception {
        for (String a : args) {
            if (!a.startsWith("--") || !a.contains("=")) throw new IllegalArgumentException("bad argument " + a + " (use --name=value)");
            opt.put(a.substring(2, a.indexOf('=')), a.substring(a.indexOf('=') + 1));
        }
        int n = (int) l("keys", 100_000);
        int valueSize = (int) l("value-size", 1024);
        readPct = (int) l("read-pct", 50);
        int rf = (int) l("rf", 1);
        keys = new String[n];
        for (int i = 0; i < n; i++) keys[i] = "k" + i;
        Random rnd = new Random(42);
        values = new byte[256][];
        for (int i = 0; i < values.length; i++) {
            values[i] = new byte[valueSize];
            rnd.nextBytes(values[i]);
        }
        buildZipf(n, Double.parseDouble(s("zipf-theta", "0.99")));

        String kind = s("target", "http");
        List<String> hosts = List.of(s("hosts", "127.0.0.1").split(","));
        Target target = switch (kind) {
            case "http" -> new HttpKvTarget(hosts, s("table", "kvbench"), (int) l("connections", 32), s("durability", "none"));
            case "native" -> new NativeKvTarget(hosts, s("table", "kvbench"), s("durability", "none"));
            case "cql" -> new CqlKvTarget(hosts, (int) l("port", 9042), s("keyspace", "kvbench"), s("dc", "datacenter1"));
            default -> throw new IllegalArgumentException("--target=http|native|cql, not " + kind);
        };
        System.out.println("target: " + target.describe());
        target.setup(rf);

        List<Long> pids = new ArrayList<>();
        for (String f : s("pid-files", "").split(",")) {
            if (!f.isBlank()) pids.add(Long.parseLong(Files.readString(Path.of(f.trim())).trim()));
        }
        preload(target, (int) l("preload-inflight", 256));

        long warmS = l("warm-s", 0);
        if (warmS > 0) {
            Phase w = new Phase(target, "max", 64, "ONE", "uniform", warmS, 0, pids);
            w.run();
            System.out.printf("WARMUP %d s closed loop (64 in flight, ONE, uniform): %d errors%n", warmS, w.errors.sum());
        }
        String label = s("label", kind);
        long warmupS = l("warmup-s", 5), durationS = l("duration-s", 15);
        int reps = (int) l("reps", 1);
        for (int rep = 1; rep <= reps; rep++) {
            for (String ph : s("plan", "fixed:1000:ONE:uniform,max:64:ONE:uniform").split(",")) {
                String[] p = ph.trim().split(":");
                Phase phase = new Phase(target, p[0], Long.parseLong(p[1]), p[2].toUpperCase(), p.length > 3 ? p[3] : "uniform",
                        warmupS, durationS, pids);
                phase.run();
                System.out.println(phase.result(label, rep, rf));
                System.out.flush();
                Thread.sleep(l("pause-ms", 1000));
            }
        }
        target.close();
        System.exit(0);
    }

    static void buildZipf(int n, double theta) {
        zipfCdf = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += 1.0 / Math.pow(i + 1, theta);
            zipfCdf[i] = sum;
        }
        for (int i = 0; i < n; i++) zipfCdf[i] /= sum;
        zipfPerm = new int[n];
        for (int i = 0; i < n; i++) zipfPerm[i] = i;
        Random r = new Random(7);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = zipfPerm[i];
            zipfPerm[i] = zipfPerm[j];
            zipfPerm[j] = t;
        }
    }

    static int nextKey(boolean zipf, ThreadLocalRandom r) {
        if (!zipf) return r.nextInt(keys.length);
        double u = r.nextDouble();
        int lo = 0, hi = zipfCdf.length - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (zipfCdf[mid] < u) lo = mid + 1; else hi = mid;
        }
        return zipfPerm[lo];
    }

    static void preload(Target target, int inflight) throws InterruptedException {
        Semaphore sem = new Semaphore(inflight);
        LongAdder errors = new LongAdder();
        Map<String, LongAdder> kinds = new ConcurrentHashMap<>();
        long t0 = System.nanoTime();
        for (int i = 0; i < keys.length; i++) {
            sem.acquireUninterruptibly();
            target.write(keys[i], values[i & 255], "ALL", (found, error) -> {
                if (error != null) {
                    errors.increment();
                    kinds.computeIfAbsent(error, x -> new LongAdder()).increment();
                }
                sem.release();
            });
        }
        sem.acquireUninterruptibly(inflight);
        double secs = (System.nanoTime() - t0) / 1e9;
        System.out.printf("PRELOAD keys=%d value_size=%d cl=ALL inflight=%d secs=%.1f ops_s=%.0f errors=%d%s%n",
                keys.length, values[0].length, inflight, secs, keys.length / secs, errors.sum(), kinds.isEmpty() ? "" : " " + kinds);
    }

    static final class Phase {
        final Target target;
        final String mode, cl, dist;
        final long param, warmupNs, durationNs;
        final List<Long> pids;
        final boolean zipf;
        final Histogram rh = new ConcurrentHistogram(1, 60_000_000L, 3), wh = new ConcurrentHistogram(1, 60_000_000L, 3);
        final LongAdder okInWindow = new LongAdder(), errors = new LongAdder(), notFound = new LongAdder();
        final Map<String, LongAdder> errorKinds = new ConcurrentHashMap<>();
        volatile long t0, measureStart, end;
        volatile long[] cpu0, cpu1, srv0, srv1;
        volatile long cli0, cli1;
        volatile boolean stragglers;

        Phase(Target target, String mode, long param, String cl, String dist, long warmupS, long durationS, List<Long> pids) {
            this.target = target;
            this.mode = mode;
            this.param = param;
            this.cl = cl;
            this.dist = dist;
            this.zipf = switch (dist) {
                case "uniform" -> false;
                case "zipf", "zipfian" -> true;
                default -> throw new IllegalArgumentException("distribution uniform|zipf, not " + dist);
            };
            this.warmupNs = TimeUnit.SECONDS.toNanos(warmupS);
            this.durationNs = TimeUnit.SECONDS.toNanos(durationS);
            this.pids = pids;
        }

        void run() throws Exception {
            t0 = System.nanoTime() + 20_000_000L;
            measureStart = t0 + warmupNs;
            end = measureStart + durationNs;
            Thread sampler = Thread.ofPlatform().daemon().start(() -> {
                sleepUntil(measureStart);
                cpu0 = machineCpu();
                srv0 = procTicks(pids);
                cli0 = ticks("/proc/self/stat");
                sleepUntil(end);
                cpu1 = machineCpu();
                srv1 = procTicks(pids);
                cli1 = ticks("/proc/self/stat");
            });
            switch (mode) {
                case "fixed" -> runFixed();
                case "max" -> runMax();
                default -> throw new IllegalArgumentException("mode fixed|max, not " + mode);
            }
            sampler.join();
        }

        static void sleepUntil(long t) {
            long d;
            while ((d = t - System.nanoTime()) > 0) LockSupport.parkNanos(d);
        }

        /** Sends one op whose latency counts from {@code startNs}; {@code after} runs once it completed. */
        void send(long startNs, Runnable after) {
            ThreadLocalRandom r = ThreadLocalRandom.current();
            String key = keys[nextKey(zipf, r)];
            boolean read = r.nextInt(100) < readPct;
            Callback cb = (found, error) -> {
                complete(read, startNs, found, error);
                after.run();
            };
            if (read) target.read(key, cl, cb);
            else target.write(key, values[r.nextInt(values.length)], cl, cb);
        }

        void complete(boolean read, long startNs, boolean found, String error) {
            long done = System.nanoTime();
            boolean measured = startNs >= measureStart && startNs < end;
            if (error != null) {
                if (measured) {
                    errors.increment();
                    errorKinds.computeIfAbsent(error, x -> new LongAdder()).increment();
                }
                return;
            }
            if (measured) {
                if (read && !found) notFound.increment();
                (read ? rh : wh).recordValue(Math.max(1, Math.min((done - startNs) / 1000, 60_000_000L)));
            }
            if (done >= measureStart && done < end) okInWindow.increment();
        }

        void runFixed() throws InterruptedException {
            double intervalNs = 1e9 / param;
            int max = 8192;
            Semaphore inflight = new Semaphore(max);
            for (long i = 0; ; i++) {
                long due = t0 + (long) (i * intervalNs);
                if (due >= end) break;
                sleepUntil(due);
                inflight.acquireUninterruptibly();
                send(due, inflight::release);
            }
            if (!inflight.tryAcquire(max, 60, TimeUnit.SECONDS)) {
                stragglers = true;
                System.out.println("WARN: requests still in flight 60 s after the phase");
            }
        }

        void runMax() throws InterruptedException {
            int conc = (int) param;
            CountDownLatch done = new CountDownLatch(conc);
            for (int c = 0; c < conc; c++) loop(done);
            if (!done.await(TimeUnit.NANOSECONDS.toSeconds(end - System.nanoTime()) + 60, TimeUnit.SECONDS)) {
                stragglers = true;
                System.out.println("WARN: closed loop did not finish 60 s after the phase");
            }
        }

        void loop(CountDownLatch done) {
            long start = System.nanoTime();
            if (start >= end) {
                done.countDown();
                return;
            }
            // the next op is sent from the completing thread; both targets complete asynchronously
            // (on their I/O threads), never inside send, so this does not recurse
            send(start, () -> loop(done));
        }

        String result(String label, int rep, int rf) {
            double win = durationNs / 1e9;
            StringBuilder sb = new StringBuilder("RESULT");
            sb.append(" label=").append(label).append(" rep=").append(rep).append(" rf=").append(rf)
                    .append(" mode=").append(mode).append(mode.equals("fixed") ? " target_ops_s=" : " inflight=").append(param)
                    .append(" cl=").append(cl).append(" dist=").append(dist).append(" window_s=").append((long) win)
                    .append(String.format(" ops_s=%.0f", okInWindow.sum() / win))
                    .append(" reads=").append(rh.getTotalCount()).append(" writes=").append(wh.getTotalCount());
            Histogram all = new Histogram(1, 60_000_000L, 3);
            all.add(rh);
            all.add(wh);
            for (Object[] h : new Object[][]{{"all", all}, {"r", rh}, {"w", wh}}) {
                Histogram x = (Histogram) h[1];
                String n = (String) h[0];
                sb.append(' ').append(n).append("_p50_us=").append(x.getValueAtPercentile(50))
                        .append(' ').append(n).append("_p99_us=").append(x.getValueAtPercentile(99))
                        .append(' ').append(n).append("_p999_us=").append(x.getValueAtPercentile(99.9))
                        .append(' ').append(n).append("_max_us=").append(x.getMaxValue());
            }
            sb.append(" errors=").append(errors.sum());
            if (!errorKinds.isEmpty()) sb.append(" error_kinds=").append(errorKinds.toString().replace(' ', '_'));
            sb.append(" notfound=").append(notFound.sum());
            if (stragglers) sb.append(" stragglers=1");
            if (cpu0 != null && cpu1 != null) {
                sb.append(String.format(" cpu_idle_pct=%.0f", 100.0 * (cpu1[1] - cpu0[1]) / Math.max(1, cpu1[0] - cpu0[0])));
                long srv = 0;
                for (int i = 0; i < pids.size(); i++) srv += srv1[i] - srv0[i];
                if (!pids.isEmpty()) sb.append(String.format(" srv_cores=%.2f", srv / 100.0 / win));
                sb.append(String.format(" cli_cores=%.2f", (cli1 - cli0) / 100.0 / win));
            }
            try { // the machine's load average at the end of the phase: other work on a shared machine shows here
                sb.append(" loadavg1=").append(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
            } catch (Exception ignored) {
            }
            if (!pids.isEmpty()) {
                StringBuilder r = new StringBuilder();
                for (long pid : pids) r.append(r.length() == 0 ? "" : "+").append(rssMb(pid));
                sb.append(" srv_rss_mb=").append(r);
            }
            return sb.toString();
        }
    }

    static long[] machineCpu() { // {total, idle + iowait} jiffies
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long total = 0;
            for (int i = 1; i < f.length && i <= 8; i++) total += Long.parseLong(f[i]);
            return new long[]{total, Long.parseLong(f[4]) + Long.parseLong(f[5])};
        } catch (Exception e) {
            return new long[]{0, 0};
        }
    }

    static long ticks(String statPath) { // utime + stime
        try {
            String st = Files.readString(Path.of(statPath));
            String[] f = st.substring(st.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]);
        } catch (Exception e) {
            return 0;
        }
    }

    static long[] procTicks(List<Long> pids) {
        long[] r = new long[pids.size()];
        for (int i = 0; i < r.length; i++) r[i] = ticks("/proc/" + pids.get(i) + "/stat");
        return r;
    }

    static String rssMb(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:")) return Long.toString(Long.parseLong(line.replaceAll("\\D", "")) / 1024);
            }
        } catch (Exception ignored) {
        }
        return "?";
    }
}
