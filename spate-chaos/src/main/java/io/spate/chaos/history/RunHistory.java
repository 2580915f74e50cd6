package io.spate.chaos.history;

import java.util.List;
import java.util.Map;

/**
 * Everything a run observed, for the checker and the report.
 *
 * @param seed          the schedule's seed (a failing run is replayed with it)
 * @param nodes         node ids
 * @param voters        the controller quorum's voters
 * @param replicas      each partition's replicas, as assigned when the topic was created
 * @param faults        injected faults with their windows
 * @param writes        every produce attempt
 * @param reads         every record group consumers received
 * @param commits       every offset commit attempt
 * @param assignments   partitions given to and taken from group consumers
 * @param statuses      the cluster's account of each partition (leader, in-sync set, ELR) whenever it changed
 * @param finalLog      each partition's whole log after healing, offset by offset ({@code values.get(i)}
 *                      is at {@code logStart + i}; offsets a partition lacks hold null)
 * @param logStart      each partition's first offset when it was read at the end
 * @param finalCommitted the group's committed offset per partition at the end (absent: none)
 * @param bounds        the availability limits that apply to this run
 * @param workloadStartUs when writes began
 * @param healedUs      when the last fault was healed (every node up, every cut removed)
 * @param endUs         when writes stopped
 * @param metadataLogs  every controller voter's Raft log entries at the end (empty in histories
 *                      written before they were kept)
 * @param voterProgress the last index of each voter's Raft log at every read through the run (empty
 *                      in histories written before it was kept)
 * @param txn           the exactly-once pipeline's transactions and output ({@link TxnHistory#NONE}
 *                      when the run did not have it)
 * @param mirror        the mirror pipelines deployed at the data ({@link MirrorHistory#NONE} when
 *                      the run did not have them)
 */
public record RunHistory(long seed, List<Integer> nodes, List<Integer> voters, Map<Integer, List<Integer>> replicas,
                         List<NodeFault> faults, List<Write> writes, List<Read> reads, List<Commit> commits,
                         List<Assignment> assignments, List<ReplicaStatus> statuses, Map<Integer, List<String>> finalLog, Map<Integer, Long> logStart,
                         Map<Integer, Long> finalCommitted, Bounds bounds, long workloadStartUs, long healedUs, long endUs,
                         List<MetadataLogEntry> metadataLogs, List<VoterProgress> voterProgress, TxnHistory txn,
                         MirrorHistory mirror) {

    /** A history without the mirror pipelines. */
    public RunHistory(long seed, List<Integer> nodes, List<Integer> voters, Map<Integer, List<Integer>> replicas,
                      List<NodeFault> faults, List<Write> writes, List<Read> reads, List<Commit> commits,
                      List<Assignment> assignments, List<ReplicaStatus> statuses, Map<Integer, List<String>> finalLog, Map<Integer, Long> logStart,
                      Map<Integer, Long> finalCommitted, Bounds bounds, long workloadStartUs, long healedUs, long endUs,
                      List<MetadataLogEntry> metadataLogs, List<VoterProgress> voterProgress, TxnHistory txn) {
        this(seed, nodes, voters, replicas, faults, writes, reads, commits, assignments, statuses, finalLog, logStart,
                finalCommitted, bounds, workloadStartUs, healedUs, endUs, metadataLogs, voterProgress, txn, MirrorHistory.NONE);
    }

    /** A history without the exactly-once pipeline. */
    public RunHistory(long seed, List<Integer> nodes, List<Integer> voters, Map<Integer, List<Integer>> replicas,
                      List<NodeFault> faults, List<Write> writes, List<Read> reads, List<Commit> commits,
                      List<Assignment> assignments, List<ReplicaStatus> statuses, Map<Integer, List<String>> finalLog, Map<Integer, Long> logStart,
                      Map<Integer, Long> finalCommitted, Bounds bounds, long workloadStartUs, long healedUs, long endUs,
                      List<MetadataLogEntry> metadataLogs, List<VoterProgress> voterProgress) {
        this(seed, nodes, voters, replicas, faults, writes, reads, commits, assignments, statuses, finalLog, logStart,
                finalCommitted, bounds, workloadStartUs, healedUs, endUs, metadataLogs, voterProgress, TxnHistory.NONE);
    }

    /** A history without the voters' progress. */
    public RunHistory(long seed, List<Integer> nodes, List<Integer> voters, Map<Integer, List<Integer>> replicas,
                      List<NodeFault> faults, List<Write> writes, List<Read> reads, List<Commit> commits,
                      List<Assignment> assignments, List<ReplicaStatus> statuses, Map<Integer, List<String>> finalLog, Map<Integer, Long> logStart,
                      Map<Integer, Long> finalCommitted, Bounds bounds, long workloadStartUs, long healedUs, long endUs,
                      List<MetadataLogEntry> metadataLogs) {
        this(seed, nodes, voters, replicas, faults, writes, reads, commits, assignments, statuses, finalLog, logStart,
                finalCommitted, bounds, workloadStartUs, healedUs, endUs, metadataLogs, List.of());
    }

    /** A history without the voters' logs. */
    public RunHistory(long seed, List<Integer> nodes, List<Integer> voters, Map<Integer, List<Integer>> replicas,
                      List<NodeFault> faults, List<Write> writes, List<Read> reads, List<Commit> commits,
                      List<Assignment> assignments, List<ReplicaStatus> statuses, Map<Integer, List<String>> finalLog, Map<Integer, Long> logStart,
                      Map<Integer, Long> finalCommitted, Bounds bounds, long workloadStartUs, long healedUs, long endUs) {
        this(seed, nodes, voters, replicas, faults, writes, reads, commits, assignments, statuses, finalLog, logStart,
                finalCommitted, bounds, workloadStartUs, healedUs, endUs, List.of(), List.of());
    }

    /**
     * @param maxStallUs    the longest a partition may accept no write while a quorum of its
     *                      replicas and of the voters is up and connected, with a replica among
     *                      them that may lead (failure detection + election + 2 s)
     * @param maxRecoveryUs the longest every partition may take to accept writes after the last fault healed
     */
    public record Bounds(long maxStallUs, long maxRecoveryUs) {
    }
}
