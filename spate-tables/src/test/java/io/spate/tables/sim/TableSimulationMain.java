package io.spate.tables.sim;

/**
 * Runs many seeds of {@link TableSimulation} with the longer schedule, prints a line per seed and
 * each failing seed's violations; exits 1 if any failed. Arguments: {@code --seeds N} (default 200),
 * {@code --seed S} (the first seed, default 1), {@code --faulty-ms MS}, {@code --ci} (the CI schedule).
 */
public final class TableSimulationMain {
    private TableSimulationMain() {
    }

    public static void main(String[] args) {
        int seeds = 200;
        long first = 1;
        TableSimulation.Options options = TableSimulation.Options.longRun();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--seeds" -> seeds = Integer.parseInt(args[++i]);
                case "--seed" -> {
                    first = Long.parseLong(args[++i]);
                    if (seeds == 200) {
                        seeds = 1;
                    }
                }
                case "--faulty-ms" -> {
                    long ms = Long.parseLong(args[++i]);
                    options = new TableSimulation.Options(ms, options.settleMs(), options.clients(),
                            options.keysPerClient(), options.maxSkewMs(), options.graceMs());
                }
                case "--ci" -> options = TableSimulation.Options.ci();
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        int failed = 0;
        long start = System.nanoTime();
        for (long seed = first; seed < first + seeds; seed++) {
            TableSimulation.Result r = TableSimulation.run(seed, options);
            System.out.println((r.ok() ? "ok   " : "FAIL ") + r.summary());
            if (!r.ok()) {
                failed++;
                r.violations().forEach(v -> System.out.println("    " + v));
                System.out.println("    replay: --seed " + seed + (options.equals(TableSimulation.Options.ci()) ? " --ci" : ""));
            }
        }
        System.out.printf("%d seeds, %d failed, %.1f s%n", seeds, failed, (System.nanoTime() - start) / 1e9);
        System.exit(failed == 0 ? 0 : 1);
    }
}
