package io.spate.testkit.sim;


/**
 * {@code ./spate simulate [--seeds N] [--seed S]}: runs N seeds of the replication simulation
 * from S, prints one line per failing seed (with the trace that led there) and a summary; exits
 * 1 when any seed failed. A failing seed replays exactly with {@code --seeds 1 --seed S} (and the
 * same {@code --faulty-ms}).
 */
public final class SimulateCommand {
    private SimulateCommand() {
    }

    public static void main(String[] args) throws Exception {
        long first = 1;
        int seeds = 100;
        long faultyMs = ReplicationSimulation.defaults(0).faultyMs();
        boolean bitFlips = false;
        int moveNodes = 0;
        boolean deleteRecords = false;
        boolean compaction = false;
        boolean retention = false;
        boolean policySwitches = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--seed" -> first = Long.parseLong(value(args, ++i));
                case "--seeds" -> seeds = Integer.parseInt(value(args, ++i));
                case "--faulty-ms" -> faultyMs = Long.parseLong(value(args, ++i));
                case "--bit-flips" -> bitFlips = true;
                case "--moves" -> moveNodes = Integer.parseInt(value(args, ++i));
                case "--deletes" -> deleteRecords = true;
                case "--compaction" -> compaction = true;
                case "--retention" -> retention = true;
                case "--policy-switches" -> policySwitches = true;
                case "-h", "--help" -> {
                    System.out.println("usage: ./spate simulate [--seeds N] [--seed FIRST] [--faulty-ms MS] [--bit-flips] [--moves NODES] [--deletes]\n"
                            + "                        [--compaction] [--retention] [--policy-switches]\n"
                            + "Runs N seeded schedules of crashes, pauses and network cuts against three nodes' real partition,\n"
                            + "log, follower-fetch, metadata and controller code in simulated time; checks every acknowledged\n"
                            + "write survives. --faulty-ms: how long each schedule injects faults (simulated ms, default 20000).\n"
                            + "--bit-flips: disks that read back a wrong bit now and then, and bits of segments that rot on the platter\n"
                            + "  (the node is then killed and meets the damage at its restart), join the faults (CI runs 200 such seeds).\n"
                            + "--moves NODES: NODES nodes (at least 4), partitions also move between them and nodes apply every\n"
                            + "metadata image in order (CI runs 200 such seeds with --moves 4).\n"
                            + "--deletes: an admin client also deletes records (DeleteRecords) now and then; replicas left behind\n"
                            + "the leader's log start start over there (CI runs 150 such seeds, a third with --moves 4).\n"
                            + "--compaction: the topics are compacted (keyed writes, small segments) and each node's cleaner runs\n"
                            + "every 300 ms: every acknowledged write is at its offset or has a later record of its key.\n"
                            + "--retention: size retention (6 KiB per replica) applied by every node every 300 ms; with\n"
                            + "--compaction, cleanup.policy=compact,delete.\n"
                            + "--policy-switches: with --compaction, the topics' cleanup.policy switches to delete and back every\n"
                            + "1.5-3 s on every node, so that followers copy a compacted leader's gaps under either policy.");
                    return;
                }
                default -> {
                    System.err.println("unknown argument " + args[i] + " (try --help)");
                    System.exit(2);
                }
            }
        }
        if (seeds < 1 || faultyMs < 1) {
            System.err.println("--seeds and --faulty-ms must be at least 1");
            System.exit(2);
        }
        if (deleteRecords && compaction) {
            System.err.println("--deletes and --compaction do not go together: DeleteRecords is refused on a compacted topic, as in Kafka");
            System.exit(2);
        }
        if (policySwitches && !compaction) {
            System.err.println("--policy-switches needs --compaction (a policy to switch from)");
            System.exit(2);
        }
        if (moveNodes != 0 && moveNodes < 4) {
            System.err.println("--moves needs at least 4 nodes (partitions have 3 replicas)");
            System.exit(2);
        }
        int failed = 0;
        long acked = 0;
        long retries = 0;
        long writes = 0;
        long commits = 0;
        long offsetFetches = 0;
        long events = 0;
        long powerLosses = 0;
        long filesThatLostWrites = 0;
        long wrongReads = 0;
        long moves = 0;
        long deletes = 0;
        long started = System.nanoTime();
        for (long seed = first; seed < first + seeds; seed++) {
            ReplicationSimulation.Options options = ReplicationSimulation.defaults(seed).withFaultyMs(faultyMs).withBitFlips(bitFlips)
                    .withDeletes(deleteRecords).withCompaction(compaction)
                    .withRetention(retention).withPolicySwitches(policySwitches);
            ReplicationSimulation.Result r = ReplicationSimulation.run(moveNodes == 0 ? options : options.withMoves(moveNodes));
            acked += r.acked();
            retries += r.retries();
            writes += r.writes();
            commits += r.commitsAcked();
            offsetFetches += r.offsetFetches();
            events += r.events();
            powerLosses += r.powerLosses();
            filesThatLostWrites += r.filesThatLostWrites();
            wrongReads += r.wrongReads();
            moves += r.moves();
            deletes += r.deletes();
            if (!r.passed()) {
                failed++;
                System.out.println("FAIL seed " + seed + " (--faulty-ms " + faultyMs + (bitFlips ? " --bit-flips" : "")
                        + (moveNodes == 0 ? "" : " --moves " + moveNodes) + (deleteRecords ? " --deletes" : "") + (compaction ? " --compaction" : "") + (retention ? " --retention" : "") + (policySwitches ? " --policy-switches" : "") + "): " + r.violations());
                r.traceTail().forEach(line -> System.out.println("    " + line));
            }
        }
        System.out.printf("%d seed(s) from %d: %d passed, %d failed; %d events, %d writes, %d acknowledged, %d retried; "
                        + "%d group commits acknowledged, %d committed-offset fetches checked; "
                        + "%d power losses, %d files lost unsynced writes, %d wrong reads, %d moves, %d deletes; %.1f s%n",
                seeds, first, seeds - failed, failed, events, writes, acked, retries, commits, offsetFetches, powerLosses, filesThatLostWrites, wrongReads, moves, deletes,
                (System.nanoTime() - started) / 1e9);
        System.exit(failed == 0 ? 0 : 1);
    }

    private static String value(String[] args, int i) {
        if (i >= args.length) {
            System.err.println(args[i - 1] + " needs a value");
            System.exit(2);
        }
        return args[i];
    }
}
