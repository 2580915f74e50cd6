#!/usr/bin/env bash
# Side-by-side cluster benchmark: a 3-broker Apache Kafka 4.4.0 KRaft cluster and a 3-node Spate
# cluster on this machine, one after the other (never both at once), in one invocation, driven by
# Kafka's own load tools. Not a test: it prints figures and ratios.
#
#   spate-bench/bench-cluster.sh [--runs N]
#
# Every run starts each cluster afresh (alternating which system goes first), with each system's
# own defaults, and a topic of 6 partitions, RF 3, min.insync.replicas=2:
#   (a) ProducerPerformance acks=all, 100-byte records, batch.size=65536, linger.ms=5, unthrottled
#   (a') the same, transactional: --transactional-id, a commit every TXN_MS ms
#   (b) ProducerPerformance acks=all at a fixed rate (service latency p50/p99/p99.9),
#       EndToEndLatency (Kafka's tool, acks=all, whole ms) and E2eLatencyProbe (microseconds)
#   (c) FailoverGapProbe (the Kafka anchor's FailoverProbe, made to report a cluster that does not
#       recover): steady idempotent acks=all producer, kill -9 of a partition leader, ack gap,
#       restart of the victim, no acknowledged record lost
# Medians per metric and the ratios Spate/Kafka go to stdout and .bench/cluster-run-<time>/summary.md.
#
# Sizes (environment; defaults in brackets):
#   N_TPUT [1000000] records for (a)       N_LAT [200000] records for (b)     LAT_RATE [20000] rec/s for (b)
#   TXN_MS [100] --transaction-duration-ms for (a')
#   LAT_LINGER_MS [0] linger.ms for (b)    N_E2E [10000] ping-pongs           E2E_WARMUP [1000] probe warm-up rounds
#   FO_RUNS [=runs] runs that include (c)  FO_RATE [2000] rec/s               FO_PRE_MS [8000]  FO_POST_MS [30000]
#   FO_VICTIM [partition0|controller|non-controller]                          KAFKA_HEAP [1g] per Kafka node
#   FO_DELIVERY_TIMEOUT_MS [120000] the probe producer's delivery.timeout.ms   SYSTEMS ["kafka spate"]
#   SKIP_BUILD [0] 1: use the built jar and probe classes as they are       KEEP_DATA [0] 1: keep the clusters' data
#   FAILOVER_PROBE [spate-bench/src/main/java/io/spate/bench/FailoverGapProbe.java]; the anchor's
#                  /work/shared/anchors/kafka/FailoverProbe.java takes the same options
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/find-java.sh"
source "$ROOT/spate-bench/lib.sh"   # free_base_port, tool
spate_find_java || exit 1
spate_default_maven_opts

RUNS=3
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "usage: $0 [--runs N]" >&2; exit 2 ;;
  esac
done
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || { echo "bench-cluster: --runs must be a positive integer" >&2; exit 2; }
N_TPUT="${N_TPUT:-1000000}"; N_LAT="${N_LAT:-200000}"; LAT_RATE="${LAT_RATE:-20000}"; LAT_LINGER_MS="${LAT_LINGER_MS:-0}"
N_E2E="${N_E2E:-10000}"; E2E_WARMUP="${E2E_WARMUP:-1000}"; TXN_MS="${TXN_MS:-100}"
FO_RUNS="${FO_RUNS:-$RUNS}"; FO_RATE="${FO_RATE:-2000}"; FO_PRE_MS="${FO_PRE_MS:-8000}"; FO_POST_MS="${FO_POST_MS:-30000}"
FO_VICTIM="${FO_VICTIM:-partition0}"; KAFKA_HEAP="${KAFKA_HEAP:-1g}"; FO_DELIVERY_TIMEOUT_MS="${FO_DELIVERY_TIMEOUT_MS:-120000}"
read -r -a SYSTEMS <<<"${SYSTEMS:-kafka spate}"
for s in "${SYSTEMS[@]}"; do [[ "$s" == kafka || "$s" == spate ]] || { echo "bench-cluster: SYSTEMS holds kafka and/or spate, not '$s'" >&2; exit 2; }; done
FAILOVER_PROBE="${FAILOVER_PROBE:-$ROOT/spate-bench/src/main/java/io/spate/bench/FailoverGapProbe.java}"
[[ -f "$FAILOVER_PROBE" ]] || { echo "bench-cluster: failover probe not found at $FAILOVER_PROBE (set FAILOVER_PROBE)" >&2; exit 1; }

WORK="$ROOT/.bench/cluster-run-$(date -u +%Y%m%dT%H%M%SZ)"
LIB="$ROOT/.bench/kafka-lib"
mkdir -p "$WORK"
METRICS="$WORK/metrics.tsv"; : >"$METRICS"
LOG4J="$ROOT/spate-bench/kafka/log4j2.properties"
say() { echo "bench-cluster: $*"; }
warn() { echo "bench-cluster: WARNING: $*" >&2; echo "- $*" >>"$WORK/warnings.txt"; }

# ---- process bookkeeping: every process this script starts is either a foreground child run
# through `run` (CHILD) or a cluster node whose pid file lies under $WORK. The trap ends both.
CHILD=""
NODE_DIRS=()   # node directories with a pid file (Kafka: kafka.pid, Spate: pid)
descendants() { local p c; for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do descendants "$c"; echo "$c"; done; }
kill_tree() {   # pid signal
  local p; for p in $(descendants "$1") "$1"; do kill "-$2" "$p" 2>/dev/null || true; done
}
node_pid() {   # dir -> the pid recorded there if it still runs a node of that directory
  local d="$1" f pid
  for f in "$d/kafka.pid" "$d/pid"; do
    [[ -f "$f" ]] || continue
    pid="$(tr -dc 0-9 <"$f")"
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$d/" && { echo "$pid"; return 0; }
  done
  return 1
}
stop_nodes() {   # signal wait_s dir...: signal every live node, wait, then SIGKILL what is left
  local sig="$1" wait_s="$2" d pid i left; shift 2
  for d in "$@"; do pid="$(node_pid "$d")" && kill "-$sig" "$pid" 2>/dev/null || true; done
  for ((i = 0; i < wait_s * 4; i++)); do
    left=0; for d in "$@"; do node_pid "$d" >/dev/null && left=1; done
    (( left )) || return 0
    sleep 0.25
  done
  for d in "$@"; do pid="$(node_pid "$d")" && { say "node $d (pid $pid) still running ${wait_s} s after SIG$sig: SIGKILL"; kill -9 "$pid" 2>/dev/null || true; }; done
  sleep 0.5
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [[ -n "$CHILD" ]] && kill_tree "$CHILD" KILL
  if ((${#NODE_DIRS[@]})); then
    stop_nodes TERM 10 "${NODE_DIRS[@]}"
    sleep 1; stop_nodes KILL 5 "${NODE_DIRS[@]}"   # a node a killed restart command may have started late
  fi
  [[ -n "${DIST:-}" ]] && rm -rf "$DIST"   # the run's private copy of Spate (no node runs from it any more)
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

run() {   # logfile cmd... : runs in the background so the trap can end it; returns its exit code
  local log="$1" rc=0; shift
  "$@" >"$log" 2>&1 &
  CHILD=$!
  wait "$CHILD" || rc=$?
  CHILD=""
  return "$rc"
}
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$METRICS"; }   # run system metric value

# ---- inputs: Kafka's jars, Spate built and pinned for the whole run, the probes
if ! ls "$LIB"/kafka_2.13-4.4.0.jar "$LIB"/kafka-tools-4.4.0.jar >/dev/null 2>&1; then
  say "fetching Apache Kafka 4.4.0 and its tools from Maven Central into $LIB"
  (cd "$ROOT" && ./mvnw -q -B -f spate-bench/kafka/pom.xml dependency:copy-dependencies -DoutputDirectory="$LIB" -DincludeScope=runtime)
fi
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  say "building Spate and the probes"
  (cd "$ROOT" && ./mvnw -q -B -DskipTests install -pl spate-broker,spate-bench -am)
fi
[[ -f "$ROOT/spate-broker/target/spate.jar" && -f "$ROOT/spate-bench/target/classes/io/spate/bench/E2eLatencyProbe.class" ]] \
  || { echo "bench-cluster: spate.jar or the probe classes are missing; run without SKIP_BUILD=1" >&2; exit 1; }
# The nodes run from a private copy of the jar and its lib/, so a rebuild during the run cannot
# change the code under them (every node of a cluster, restarts included, runs the same build).
DIST="$WORK/spate-dist"
mkdir -p "$DIST"
cp -p "$ROOT/spate-broker/target/spate.jar" "$DIST/"
SPATE_BUILD="spate.jar built $(date -u -r "$DIST/spate.jar" +%FT%TZ), sha256 $(sha256sum "$DIST/spate.jar" | cut -c1-12); HEAD $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
[[ -n "$(git -C "$ROOT" status --porcelain -- pom.xml spate-broker spate-server spate-cluster spate-replication spate-log spate-record spate-time 2>/dev/null)" ]] && SPATE_BUILD+=" with uncommitted changes in the main modules"
cp -r "$ROOT/spate-broker/target/lib" "$DIST/lib"
cp -r "$ROOT/spate-bench/target/classes" "$WORK/probe-classes"
CP="$LIB/*:$WORK/probe-classes"
SPATE=("$JAVA" -jar "$DIST/spate.jar")
# The failover probe is compiled from its source now, before any cluster runs (javac must not
# compete with the brokers, and the probe must not depend on the state of the build).
mkdir -p "$WORK/failover-classes"
cp "$FAILOVER_PROBE" "$WORK/failover-classes/"
"$JAVA_HOME/bin/javac" -nowarn -cp "$LIB/*" -d "$WORK/failover-classes" "$WORK/failover-classes/$(basename "$FAILOVER_PROBE")"
FAILOVER_MAIN="$(sed -n 's/^package \([a-zA-Z0-9_.]*\);.*/\1./p' "$FAILOVER_PROBE" | head -1)$(basename "$FAILOVER_PROBE" .java)"

# ---- Apache Kafka 4.4: 3 combined broker+controller nodes, dynamic quorum (as the anchor's
# start-cluster3.sh), Kafka's JVM flags, default broker settings apart from RF3/min.isr 2.
kafka_uuid() { python3 -c 'import base64,os
while True:
    u = base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")
    if not u.startswith("-"): print(u); break'; }

kafka_up() {   # dir -> starts the cluster; sets BS, CLUSTER_START_S
  local dir="$1" base n d quorum="" init="" cid
  base="$(free_base_port)"
  for n in 1 2 3; do quorum+="${quorum:+,}127.0.0.1:$((base + 100 + n - 1))"; done
  cid="$(kafka_uuid)"
  for n in 1 2 3; do init+="${init:+,}$n@127.0.0.1:$((base + 100 + n - 1)):$(kafka_uuid)"; done
  cat >"$dir/log4j2.properties" <<'PROPS'
status = warn
appender.server.type = File
appender.server.name = SERVER
appender.server.fileName = ${sys:kafka.logs.dir}/server.log
appender.server.layout.type = PatternLayout
appender.server.layout.pattern = [%d] %p %m (%c)%n
appender.ctrl.type = File
appender.ctrl.name = CONTROLLER
appender.ctrl.fileName = ${sys:kafka.logs.dir}/controller.log
appender.ctrl.layout.type = PatternLayout
appender.ctrl.layout.pattern = [%d] %p %m (%c)%n
appender.state.type = File
appender.state.name = STATECHANGE
appender.state.fileName = ${sys:kafka.logs.dir}/state-change.log
appender.state.layout.type = PatternLayout
appender.state.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.server.ref = SERVER
logger.controller.name = org.apache.kafka.controller
logger.controller.level = INFO
logger.controller.additivity = false
logger.controller.appenderRef.ctrl.ref = CONTROLLER
logger.statechange.name = state.change.logger
logger.statechange.level = INFO
logger.statechange.additivity = false
logger.statechange.appenderRef.state.ref = STATECHANGE
logger.request.name = kafka.request.logger
logger.request.level = WARN
PROPS
  BS=""
  for n in 1 2 3; do
    d="$dir/node-$n"; mkdir -p "$d/data" "$d/logs"
    BS+="${BS:+,}127.0.0.1:$((base + n - 1))"
    cat >"$d/server.properties" <<PROPS
process.roles=broker,controller
node.id=$n
controller.quorum.bootstrap.servers=$quorum
listeners=PLAINTEXT://127.0.0.1:$((base + n - 1)),CONTROLLER://127.0.0.1:$((base + 100 + n - 1))
advertised.listeners=PLAINTEXT://127.0.0.1:$((base + n - 1)),CONTROLLER://127.0.0.1:$((base + 100 + n - 1))
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$d/data
default.replication.factor=3
min.insync.replicas=2
offsets.topic.replication.factor=3
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
share.coordinator.state.topic.replication.factor=3
share.coordinator.state.topic.min.isr=2
PROPS
    run "$d/format.log" tool kafka.tools.StorageTool format -t "$cid" -c "$d/server.properties" --initial-controllers "$init" \
      || { cat "$d/format.log" >&2; return 1; }
    # start.sh (re)starts this node on its data: used at start-up and as the failover probe's restart command
    cat >"$d/start.sh" <<SH
#!/usr/bin/env bash
# JVM flags of Kafka's bin/kafka-server-start.sh + kafka-run-class.sh
nohup $(printf '%q' "$JAVA") -Xmx$KAFKA_HEAP -Xms$KAFKA_HEAP -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \\
  -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true \\
  $(printf '%q' "-Xlog:gc*:file=$d/logs/gc.log:time,tags:filecount=3,filesize=20M") \\
  $(printf '%q' "-Dkafka.logs.dir=$d/logs") $(printf '%q' "-Dlog4j2.configurationFile=$dir/log4j2.properties") \\
  -cp $(printf '%q' "$LIB/*") kafka.Kafka $(printf '%q' "$d/server.properties") >>$(printf '%q' "$d/logs/stdout.log") 2>&1 </dev/null &
echo \$! >$(printf '%q' "$d/kafka.pid")
SH
    chmod +x "$d/start.sh"
    NODE_DIRS+=("$d")
  done
  local t0 i ok; t0="$(date +%s.%N)"
  for n in 1 2 3; do "$dir/node-$n/start.sh"; done
  for ((i = 0; i < 240; i++)); do
    ok=1
    for n in 1 2 3; do
      node_pid "$dir/node-$n" >/dev/null || { echo "bench-cluster: Kafka node $n died during start-up:" >&2; tail -20 "$dir/node-$n/logs/stdout.log" "$dir/node-$n/logs/server.log" >&2 2>/dev/null; return 1; }
      grep -q "Kafka Server started" "$dir/node-$n/logs/server.log" 2>/dev/null || ok=0
    done
    (( ok )) && break
    sleep 0.5
  done
  (( ok )) || { echo "bench-cluster: Kafka cluster not up after 120 s" >&2; return 1; }
  CLUSTER_START_S="$(python3 -c "import time; print(f'{time.time() - $t0:.1f}')")"
  KILL_CMD="kill -9 \$(cat $(printf '%q' "$dir")/node-%d/kafka.pid)"
  RESTART_CMD="$(printf '%q' "$dir")/node-%d/start.sh"
}

# (the last node of a stopping KRaft cluster keeps waiting for a quorum that is gone: it gets SIGKILL)
kafka_down() { stop_nodes TERM 20 "$1"/node-{1,2,3}; }

# ---- Spate: `spate cluster up` with its defaults (3 voters, Kafka ports P..P+2, controllers P+100..)
spate_up() {   # dir -> starts the cluster; sets BS, CLUSTER_START_S
  local dir="$1" base n t0 q
  base="$(free_base_port)"
  for n in 1 2 3; do NODE_DIRS+=("$dir/cluster/node-$n"); done
  q="$(printf '%q ' "${SPATE[@]}")"
  t0="$(date +%s.%N)"
  if ! run "$dir/cluster-up.log" "${SPATE[@]}" cluster up --nodes 3 --dir "$dir/cluster" --base-port "$base"; then
    cat "$dir/cluster-up.log" >&2; return 1
  fi
  CLUSTER_START_S="$(python3 -c "import time; print(f'{time.time() - $t0:.1f}')")"
  BS="$(sed -n 's/^bootstrap: //p' "$dir/cluster-up.log" | tail -1)"
  KILL_CMD="kill -9 \$(cat $(printf '%q' "$dir/cluster")/node-%d/pid)"
  # `cluster up` on a partly running cluster starts only its stopped nodes, on their data
  RESTART_CMD="$q cluster up --nodes 3 --dir $(printf '%q' "$dir/cluster") --base-port $base >>$(printf '%q' "$dir/cluster-restart.log") 2>&1"
}

spate_down() {
  run "$1/cluster-down.log" "${SPATE[@]}" cluster down --dir "$1/cluster" --timeout-s 60 || warn "spate cluster down failed: $(tail -3 "$1/cluster-down.log")"
  stop_nodes KILL 5 "$1"/cluster/node-{1,2,3}
}

# ---- figures from the tools' outputs
perf_line() {   # run system label file
  local line; line="$(grep -E 'records sent.*50th' "$4" | tail -1)"
  [[ -n "$line" ]] || { warn "no ProducerPerformance summary in $4"; return 0; }
  record "$1" "$2" "$3 records/s" "$(sed -E 's/.* ([0-9.]+) records\/sec.*/\1/' <<<"$line")"
  record "$1" "$2" "$3 p50 ms" "$(sed -E 's/.* ([0-9.]+) ms 50th.*/\1/' <<<"$line")"
  record "$1" "$2" "$3 p99 ms" "$(sed -E 's/.* ([0-9.]+) ms 99th.*/\1/' <<<"$line")"
  record "$1" "$2" "$3 p99.9 ms" "$(sed -E 's/.* ([0-9.]+) ms 99.9th.*/\1/' <<<"$line")"
}

failover_line() {   # run system file controller-id-or-empty
  python3 - "$@" "$WORK/warnings.txt" >>"$METRICS" <<'PY'
import re, sys
run, system, path, ctrl, warnings = sys.argv[1:6]
def warn(msg):
    sys.stderr.write(f"bench-cluster: WARNING: {msg}\n")
    open(warnings, "a").write(f"- {msg}\n")
text = open(path, errors="replace").read()
lines = [l for l in text.splitlines() if l.startswith("RESULT ")]
if not lines:
    warn(f"{system} run {run}: no RESULT line in {path}"); sys.exit(0)
r = lines[-1]
def num(pattern):
    m = re.search(pattern, r)
    if not m: return None
    v = m.group(1)
    return {"Infinity": "inf", "NaN": "nan"}.get(v, v)
def out(metric, value):
    if value is not None: print(f"{run}\t{system}\tfailover: {metric}\t{value}")
# a partition that never acknowledged a record sent after the kill did not recover within the
# watch window: its gap is only bounded below by the window, so it counts as infinite
unrecovered = num(r"partitionsWithoutPostKillAck=(\d+)")
first = num(r"firstAckOfPostKillRecord\(worst partition\)=\+?([0-9.]+|Infinity|NaN)ms")
never = (unrecovered is not None and unrecovered != "0") or first == "inf"
if never:
    warn(f"{system} run {run}: some partition acknowledged no record sent after the kill within the watch window "
         f"(ack gap at least {num(r'maxPartitionAckGap=([0-9.]+)ms')} ms); its gaps count as inf")
out("max partition ack gap ms", "inf" if never else num(r"maxPartitionAckGap=([0-9.]+|Infinity|NaN)ms"))
out("first ack of post-kill record ms", first)
out("ack stream max gap ms", "inf" if never else num(r"ackStreamMaxGap\(all partitions\)=([0-9.]+|Infinity|NaN)ms"))
out("partitions that never acked a post-kill record", unrecovered)
out("metadata shows new leader ms", num(r"metadataShowsNewLeader=\+?([0-9.]+|Infinity|NaN)ms"))
out("ack p99 before kill ms", num(r"ackLatencyBeforeKill p50=[0-9.]+ms p99=([0-9.]+)ms"))
out("send failures", num(r" failed=(\d+)"))
for i, part in enumerate(re.split(r"\| verify\d: ", r)[1:], 1):
    lost, dup, ooo = (re.search(p, part) for p in (r"lostAcked=(\d+)", r"duplicates=(\d+)", r"outOfOrder=(\d+)"))
    if lost:
        if "read timed out" in part:
            warn(f"{system} run {run}: verification {i} could not read the whole topic back; its 'lost' count is not reliable")
        out(f"lost acked (verify {i})", lost.group(1)); out(f"duplicates (verify {i})", dup.group(1)); out(f"out of order (verify {i})", ooo.group(1))
    else:
        warn(f"{system} run {run}: failover probe verification {i} did not run: {part.strip()[:200]}")
victim = num(r"victim=(\d+)")
was = num(r"victimWasController=(\w+)")
if ctrl:   # Spate answers no DescribeQuorum: the controller leader comes from 'spate cluster status'
    was = "true" if victim == ctrl else "false"
out("victim was active controller (1=yes)", "1" if was == "true" else "0")
parts = num(r"victimPartitions=(\[[^]]*\])")
print(f"{run}\t{system}\tfailover victim\tnode {victim} (leader of {parts})")
PY
}

count_fencings() {   # system dir -> how often a controller fenced a node for a missed session timeout so far
  if [[ "$1" == kafka ]]; then
    cat "$2"/node-*/logs/controller.log 2>/dev/null | grep -c "because its session has timed out" || true
  else
    cat "$2"/cluster/node-*/node.log 2>/dev/null | grep -c "missed its session timeout" || true
  fi
}

measure() {   # run system
  local run="$1" sys="$2" dir="$WORK/$2-run$1" t
  mkdir -p "$dir"
  say "run $run: $sys cluster starting"
  if [[ "$sys" == kafka ]]; then kafka_up "$dir"; else spate_up "$dir"; fi
  say "run $run: $sys cluster up in ${CLUSTER_START_S}s, bootstrap $BS"
  record "$run" "$sys" "cluster start-up s" "$CLUSTER_START_S"
  for t in perf:6 e2e:1; do
    run "$dir/topic-${t%%:*}.log" tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$BS" --create --topic "${t%%:*}" \
      --partitions "${t##*:}" --replication-factor 3 --config min.insync.replicas=2 || warn "$sys run $run: creating topic ${t%%:*} failed: $(tail -3 "$dir/topic-${t%%:*}.log")"
  done
  say "run $run: $sys (a) ProducerPerformance acks=all unthrottled, $N_TPUT records"
  run "$dir/tput.log" tool org.apache.kafka.tools.ProducerPerformance --bootstrap-server "$BS" --topic perf --num-records "$N_TPUT" \
    --record-size 100 --throughput -1 --command-property acks=all linger.ms=5 batch.size=65536 || warn "$sys run $run: ProducerPerformance (a) failed"
  perf_line "$run" "$sys" "(a) acks=all unthrottled:" "$dir/tput.log"
  say "run $run: $sys (a') ProducerPerformance transactional (${TXN_MS} ms transactions), $N_TPUT records"
  run "$dir/tput-txn.log" tool org.apache.kafka.tools.ProducerPerformance --bootstrap-server "$BS" --topic perf --num-records "$N_TPUT" \
    --record-size 100 --throughput -1 --transactional-id "bench-txn-$run" --transaction-duration-ms "$TXN_MS" \
    --command-property acks=all linger.ms=5 batch.size=65536 || warn "$sys run $run: ProducerPerformance (a') failed"
  perf_line "$run" "$sys" "(a') transactional, ${TXN_MS} ms transactions:" "$dir/tput-txn.log"
  say "run $run: $sys (b) ProducerPerformance acks=all at $LAT_RATE rec/s, $N_LAT records"
  run "$dir/lat.log" tool org.apache.kafka.tools.ProducerPerformance --bootstrap-server "$BS" --topic perf --num-records "$N_LAT" \
    --record-size 100 --throughput "$LAT_RATE" --command-property acks=all linger.ms="$LAT_LINGER_MS" batch.size=65536 || warn "$sys run $run: ProducerPerformance (b) failed"
  perf_line "$run" "$sys" "(b) acks=all at ${LAT_RATE}/s:" "$dir/lat.log"
  local got; got="$(grep -E 'records sent.*50th' "$dir/lat.log" | tail -1 | sed -E 's/.* ([0-9.]+) records\/sec.*/\1/' || true)"
  if [[ -n "$got" ]] && python3 -c "import sys; sys.exit(0 if float('$got') < 0.95 * $LAT_RATE else 1)"; then
    warn "$sys run $run: (b) sustained only ${got%.*} of $LAT_RATE rec/s, so its latencies include queueing"
  fi
  say "run $run: $sys (b) EndToEndLatency + E2eLatencyProbe, $N_E2E round trips"
  run "$dir/e2e-tool.log" tool org.apache.kafka.tools.EndToEndLatency --bootstrap-server "$BS" --topic e2e --num-records "$N_E2E" \
    --producer-acks all --record-size 100 || warn "$sys run $run: EndToEndLatency failed"
  local pct avg res p
  pct="$(grep -E '^Percentiles' "$dir/e2e-tool.log" | tail -1 || true)"; avg="$(grep -E '^Avg latency' "$dir/e2e-tool.log" | tail -1 || true)"
  if [[ -n "$pct" ]]; then
    record "$run" "$sys" "(b) EndToEndLatency avg ms" "$(sed -E 's/Avg latency: ([0-9.]+).*/\1/' <<<"$avg")"
    record "$run" "$sys" "(b) EndToEndLatency p50 ms (whole ms)" "$(sed -E 's/.*50th = ([0-9.]+).*/\1/' <<<"$pct")"
    record "$run" "$sys" "(b) EndToEndLatency p99 ms (whole ms)" "$(sed -E 's/.*99th = ([0-9.]+).*/\1/' <<<"$pct")"
    record "$run" "$sys" "(b) EndToEndLatency p99.9 ms (whole ms)" "$(sed -E 's/.*99\.9th = ([0-9.]+).*/\1/' <<<"$pct")"
  fi
  run "$dir/e2e-probe.log" tool io.spate.bench.E2eLatencyProbe "$BS" e2e "$N_E2E" all 100 "$E2E_WARMUP" || warn "$sys run $run: E2eLatencyProbe failed"
  res="$(grep RESULT "$dir/e2e-probe.log" | tail -1 || true)"
  if [[ -n "$res" ]]; then
    for p in p50 p99 p999; do record "$run" "$sys" "(b) e2e probe $p us" "$(sed -E "s/.*${p}_us=([0-9]+).*/\1/" <<<"$res")"; done
  fi
  local rss=0 n pid d
  for n in 1 2 3; do
    if [[ "$sys" == kafka ]]; then d="$dir/node-$n"; else d="$dir/cluster/node-$n"; fi
    pid="$(node_pid "$d")" && rss=$((rss + $(awk '/VmRSS/ {print $2}' "/proc/$pid/status")))
  done
  record "$run" "$sys" "RSS of the 3 nodes after load MB" "$((rss / 1024))"
  local fenced; fenced="$(count_fencings "$sys" "$dir")"
  record "$run" "$sys" "nodes fenced during start-up, (a) and (b), none killed" "$fenced"
  (( fenced == 0 )) || warn "$sys run $run: the controller fenced a live node $fenced time(s) for a missed session timeout before any kill (see the node logs)"
  if (( run <= FO_RUNS )); then
    local ctrl=""
    if [[ "$sys" == spate ]]; then
      run "$dir/status-before-kill.log" "${SPATE[@]}" cluster status --dir "$dir/cluster" || true
      ctrl="$(sed -n 's/^controller leader: node \([0-9]*\).*/\1/p' "$dir/status-before-kill.log")"
    fi
    say "run $run: $sys (c) $(basename "$FAILOVER_PROBE" .java): $FO_RATE rec/s, kill -9 after ${FO_PRE_MS} ms ($FO_VICTIM), watch ${FO_POST_MS} ms"
    run "$dir/failover.log" "$JAVA" -Xmx512m -Dlog4j2.configurationFile="$LOG4J" -cp "$LIB/*:$WORK/failover-classes" "$FAILOVER_MAIN" \
      --bootstrap "$BS" --topic "failover-r$run" --partitions 6 --rf 3 --min-isr 2 --rate "$FO_RATE" --pre-ms "$FO_PRE_MS" \
      --post-ms "$FO_POST_MS" --delivery-timeout-ms "$FO_DELIVERY_TIMEOUT_MS" --victim "$FO_VICTIM" --kill-cmd "$KILL_CMD" --restart-cmd "$RESTART_CMD" \
      --victim-file "$dir/failover.victim" || warn "$sys run $run: the failover probe exited with an error (see $dir/failover.log)"
    grep -E '^RESULT' "$dir/failover.log" | tail -1 | sed 's/^/  /' || true
    failover_line "$run" "$sys" "$dir/failover.log" "$ctrl" || warn "$sys run $run: could not read $dir/failover.log"
    record "$run" "$sys" "failover: nodes fenced (1 = the victim)" "$(( $(count_fencings "$sys" "$dir") - fenced ))"
  fi
  say "run $run: $sys cluster stopping"
  if [[ "$sys" == kafka ]]; then kafka_down "$dir"; else spate_down "$dir"; fi
  if [[ "${KEEP_DATA:-0}" != 1 ]]; then
    rm -rf "$dir"/node-{1,2,3}/data "$dir"/cluster/node-{1,2,3}/data
  fi
}

say "raw output in $WORK"
for ((run = 1; run <= RUNS; run++)); do
  order=("${SYSTEMS[@]}")
  (( run % 2 )) || order=("${order[@]:1}" "${order[0]}")   # alternate which system goes first
  for sys in "${order[@]}"; do measure "$run" "$sys"; done
done
rm -rf "$DIST"

{
  echo "# Cluster benchmark: Apache Kafka 4.4.0 vs Spate, 3 nodes, RF 3, min.insync.replicas=2"
  echo
  echo "- date: $(date -u +%FT%TZ); machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM; JDK: $("$JAVA" -version 2>&1 | head -1)"
  echo "- Spate: $SPATE_BUILD; \`spate cluster up --nodes 3\` defaults"
  echo "- Kafka: 3 combined broker+controller KRaft nodes, -Xmx$KAFKA_HEAP, default broker settings apart from RF3 / min.insync.replicas=2 for internal topics"
  echo "- (a) ProducerPerformance $N_TPUT x 100 B, acks=all, linger.ms=5, batch.size=65536, --throughput -1, topic 6 partitions RF3 min.insync=2"
  echo "- (a') as (a), with --transactional-id and --transaction-duration-ms $TXN_MS (a commit every $TXN_MS ms)"
  echo "- (b) ProducerPerformance $N_LAT x 100 B at $LAT_RATE rec/s, acks=all, linger.ms=$LAT_LINGER_MS; EndToEndLatency and E2eLatencyProbe $N_E2E round trips (probe: $E2E_WARMUP warm-up rounds dropped), 1 partition RF3"
  echo "- (c) $(basename "$FAILOVER_PROBE" .java): $FO_RATE rec/s idempotent acks=all, kill -9 of the leader ($FO_VICTIM) after $FO_PRE_MS ms, $FO_POST_MS ms watched, delivery.timeout.ms=$FO_DELIVERY_TIMEOUT_MS, victim restarted, everything read back; in runs 1..$FO_RUNS"
  echo
} >"$WORK/summary.md"
python3 - "$METRICS" <<'PY' | tee -a "$WORK/summary.md"
import sys, statistics, collections, math
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
num = collections.defaultdict(lambda: collections.defaultdict(list))   # metric -> system -> [values]
by_run = collections.defaultdict(dict)                                  # (run, system) -> metric -> raw value
order = []
for run, system, metric, value in rows:
    if metric not in order:
        order.append(metric)
    by_run[(int(run), system)][metric] = value
    try:
        num[metric][system].append(float(value))
    except ValueError:
        pass
def fmt(v):
    if v is None: return "-"
    if math.isinf(v) or math.isnan(v): return str(v)
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:g}"
COUNTS = ("lost acked", "duplicates", "out of order", "send failures", "victim was", "nodes fenced", "never acked")
print("| metric (median of the runs) | runs | Kafka 4.4 | Spate | Spate/Kafka | better |")
print("|---|---:|---:|---:|---:|---|")
for m in order:
    if not any(num[m].values()) or any(c in m for c in COUNTS):
        continue
    k, s = num[m].get("kafka"), num[m].get("spate")
    km = statistics.median(k) if k else None
    sm = statistics.median(s) if s else None
    ok = km is not None and sm is not None and km != 0 and math.isfinite(km) and math.isfinite(sm)
    ratio = f"{sm / km:.2f}" if ok else "-"
    better = "higher" if "records/s" in m else "lower"
    print(f"| {m} | {max(len(k or []), len(s or []))} | {fmt(km)} | {fmt(sm)} | {ratio} | {better} |")

def g(d, m):
    v = d.get(m)
    if v is None: return "-"
    try: return fmt(float(v))
    except ValueError: return v
runs = sorted(by_run)
print()
print("Per run:")
print()
print("| run | system | (a) records/s | (b) records/s achieved | (b) p99 ms | e2e probe p50 us | nodes fenced before any kill |")
print("|---:|---|---:|---:|---:|---:|---:|")
tput = next((m for m in order if m.startswith("(a)") and m.endswith("records/s")), "")
lrate = next((m for m in order if m.startswith("(b) acks=all at") and m.endswith("records/s")), "")
lp99 = next((m for m in order if m.startswith("(b) acks=all at") and m.endswith("p99 ms")), "")
for key in runs:
    d = by_run[key]
    print(f"| {key[0]} | {key[1]} | {g(d, tput)} | {g(d, lrate)} | {g(d, lp99)} | {g(d, '(b) e2e probe p50 us')} | {g(d, 'nodes fenced during start-up, (a) and (b), none killed')} |")
fo = [key for key in runs if "failover victim" in by_run[key]]
if fo:
    print()
    print("Failover (times from the return of `kill -9`, ms):")
    print()
    print("| run | system | victim | victim was active controller | max partition ack gap | first ack of post-kill record | ack stream gap | new leader in metadata | partitions never acking again | lost acked (verify 1/2) | duplicates (1/2) | out of order (1/2) | send failures | nodes fenced |")
    print("|---:|---|---|---|---:|---:|---:|---:|---:|---|---|---|---:|---:|")
    for key in fo:
        d = by_run[key]
        f = lambda m: g(d, "failover: " + m)
        print(f"| {key[0]} | {key[1]} | {d['failover victim']} | {'yes' if d.get('failover: victim was active controller (1=yes)') == '1' else 'no'} "
              f"| {f('max partition ack gap ms')} | {f('first ack of post-kill record ms')} | {f('ack stream max gap ms')} | {f('metadata shows new leader ms')} "
              f"| {f('partitions that never acked a post-kill record')} "
              f"| {f('lost acked (verify 1)')} / {f('lost acked (verify 2)')} | {f('duplicates (verify 1)')} / {f('duplicates (verify 2)')} "
              f"| {f('out of order (verify 1)')} / {f('out of order (verify 2)')} | {f('send failures')} | {f('nodes fenced (1 = the victim)')} |")
    lost = sum(v for m in order if m.startswith("failover: lost acked") for sysv in num[m].values() for v in sysv)
    print()
    print(f"Acknowledged records lost, all failover runs together: {fmt(lost)} (must be 0; '-' = that verification did not run).")
print()
print("ProducerPerformance and EndToEndLatency report whole milliseconds (a p50 of 0 means < 1 ms).")
print("Failover: 'max partition ack gap' is the longest silence between consecutive acks of one partition,")
print("'first ack of post-kill record' when the worst partition first acknowledged a record sent after the kill")
print("(inf: some partition never did; a gap still open when the watch window ended counts up to its end).")
print("On a shared 2-core machine a ratio within +-15% of 1 is a tie.")
PY
if [[ -s "$WORK/warnings.txt" ]]; then { echo; echo "Warnings:"; cat "$WORK/warnings.txt"; } | tee -a "$WORK/summary.md"; fi
say "summary in $WORK/summary.md; raw logs and metrics.tsv in $WORK"
