#!/usr/bin/env bash
# Side-by-side pipeline benchmark: Kafka Streams 4.4 on Apache Kafka 4.4 against Spate's pipelines
# running at the data, on this machine, in one run. Topologies A (stateless filter+map) and B
# (windowed count behind a repartition) of the shared Kafka Streams anchor, timed by the same load
# generator and latency consumer (io.spate.bench.PipelineLoad) on both systems.
#
#   spate-bench/bench-pipelines.sh [--runs N] [--quick] [--nodes 1|3]
#
# Per system and run: one broker (Kafka: single KRaft node as bench.sh; Spate: `spate start`'s JVM
# line on a snapshot of the jar built at the start), then for each step fresh topics events/out-a/
# out-b (6 partitions, RF 1) and a fresh processing app:
#   Kafka: io.spate.bench.PipelineStreamsApp (its own JVM, -Xmx1g, one stream thread, caches off,
#          commit.interval.ms=$KS_COMMIT_MS [100] for at_least_once and exactly_once_v2 alike)
#   Spate: spate pipeline deploy --example bench-a|bench-b --set processing.guarantee=... (Spate's
#          own defaults otherwise; $SPATE_SETTINGS adds --set k=v), deleted after the step.
# --nodes 3: a 3-node cluster per system instead, on loopback, as bench-cluster.sh starts them (Kafka:
# 3 combined broker+controller KRaft nodes, RF 3 / min.insync 2 for its internal topics; Spate:
# `spate cluster up --nodes 3` from the snapshot, node JVMs as `spate start`); events, out-a, out-b
# with 6 partitions RF 3 and min.insync.replicas=2 (Spate: the pipeline creates its outputs, co-
# located, with the inputs' RF; the script then sets min.insync.replicas=2 on them); Kafka Streams
# with replication.factor=3 for its internal topics, Spate's internal topics take the inputs' RF.
# The CPU figures sum the three nodes. Same steps and pass rules as one node.
#  1. fixed rate $RATE [10000] events/s for every mode in $FIXED_MODES, warm-up then a window (a mode
#     may name its own rate and Spate settings: a-eos@20000+commit.interval.ms=10);
#  2. capacity: for $CAP_MODES [B alos, B eos] the rates of $CAP_RATES in order, a shorter window,
#     stopping at the first rate that fails (p99 >= 1 s, or outputs missing, or send errors, or the
#     generator more than 1 s behind); the capacity is the highest rate passed (the fixed-rate
#     step counts as the first rung).
#  3. restore (Spate, one node, $RESTORE_MODES [none]): a stateful pipeline filled at $RESTORE_RATE
#     [50000]/s for $RESTORE_FILL_S [20] s, its node killed with kill -9 and started again; the
#     tasks' restore times and changelog records restored, from `spate pipeline describe`.
#     With --nodes 3 ($FAILOVER_MODES [none], e.g. "b-alos b-alos+num.standby.replicas=1"): filled
#     the same way, then the node running most of the tasks is killed with kill -9 and the tasks
#     move to the new leaders; the time from the kill to every task RUNNING again, and the moved
#     tasks' restore times and changelog records (read, and taken over from a standby); the node
#     is then started again (`spate cluster up` on the cluster's directory).
# $PRIME_S [0; 180 with --nodes 3]: before its first step, each system's cluster runs topologies A and
# B at-least-once at $RATE for $PRIME_S s each ($PRIME_MODES [a-alos b-alos]), unmeasured (recorded as kind "prime"). Three JVMs
# sharing two cores are still compiling minutes into a load: a 3-node Spate cluster's C2 compiler
# took ~0.4 of a core after 40 s, its p99 at 10k/s falling from ~150 ms to ~15 ms over the first
# two minutes; Kafka's brokers get the same priming (a Kafka Streams app is a fresh JVM per step
# either way, with the step's warm-up).
# Correctness is checked on every step: missing / duplicate / wrong / unexpected outputs and B's
# per-window counts. A Spate failure (deploy, tasks not RUNNING, a lost or repeated result) is
# reported with its logs, never hidden.
# Reports the median over runs and Spate/Kafka; raw logs in .bench/pipelines-run-<time>/.
# Holds /tmp/spate-build.lock for the whole run (the build included): it re-executes itself under
# flock. $MAX_MINUTES [24, quick 10] bounds the run: capacity rungs that would start later are
# skipped and marked so. SKIP_BUILD=1 uses what is built (SPATE_BIN=DIR: the spate.jar and lib/ in DIR instead); PIPELINE_BENCH_WORK names the run's directory
# (bench-pipeline-settings.sh sets both).
# $LOAD_PPROPS [none]: space-separated k=v settings for the load tool's producer on both systems, for
# diagnosis only (e.g. "linger.ms=0"); the shared contract's figures keep the Kafka 4.4 client defaults.
# $LOAD_JVM_OPTS [none]: JVM options added to the load tool's (the contract's -Xms2g -Xmx2g, G1), for
# diagnosis only (e.g. "-Xlog:gc:file=/tmp/load-gc.log" to see its own pauses).
# $SPATE_NODE_OVERRIDES [none]: space-separated k=v node settings for a 3-node Spate cluster
# (`spate cluster up -o k=v`), e.g. "num.io.threads=1".
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCK=/tmp/spate-build.lock
if [[ -z "${SPATE_PIPELINE_BENCH_LOCKED:-}" ]]; then
  export SPATE_PIPELINE_BENCH_LOCKED=1 SPATE_PIPELINE_BENCH_CALLED="$(date +%s)"
  echo "bench-pipelines: waiting for $LOCK (held by builds and benchmarks of others)"
  exec flock "$LOCK" "$0" "$@"
fi
LOCK_WAIT_S=$(( $(date +%s) - ${SPATE_PIPELINE_BENCH_CALLED:-$(date +%s)} ))
BENCH_START="$(date +%s)"

source "$ROOT/scripts/find-java.sh"
spate_find_java || exit 1
spate_default_maven_opts

RUNS=1; QUICK=0; NODES=1
LOAD_PPROP_ARGS=()
for kv in ${LOAD_PPROPS:-}; do LOAD_PPROP_ARGS+=(--pprop "$kv"); done
NODE_OVERRIDE_ARGS=()
for kv in ${SPATE_NODE_OVERRIDES:-}; do NODE_OVERRIDE_ARGS+=(-o "$kv"); done
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    --quick) QUICK=1; RUNS=1; shift ;;
    --nodes) NODES="$2"; shift 2 ;;
    *) echo "usage: $0 [--runs N] [--quick] [--nodes 1|3]" >&2; exit 2 ;;
  esac
done
[[ "$NODES" == 1 || "$NODES" == 3 ]] || { echo "bench-pipelines: --nodes takes 1 or 3" >&2; exit 2; }
if (( NODES == 3 )); then
  TOPIC_ARGS=(--rf 3 --config min.insync.replicas=2); KS_ARGS=(--prop replication.factor=3); SHAPE="3 nodes, RF 3"
else
  TOPIC_ARGS=(); KS_ARGS=(); SHAPE="1 node, RF 1"
fi
RATE="${RATE:-10000}"
KS_COMMIT_MS="${KS_COMMIT_MS:-100}"
SPATE_SETTINGS="${SPATE_SETTINGS:-}"          # e.g. "commit.interval.ms=100 batch.max.records=5000"
SYSTEMS="${SYSTEMS:-kafka spate}"
RESTORE_MODES="${RESTORE_MODES:-}"            # e.g. "b-alos b-alos+state.store=rocksdb" (Spate, one node)
RESTORE_RATE="${RESTORE_RATE:-50000}"; RESTORE_FILL_S="${RESTORE_FILL_S:-20}"
FAILOVER_MODES="${FAILOVER_MODES:-}"          # e.g. "b-alos b-alos+num.standby.replicas=1" (Spate, 3 nodes)
if (( QUICK )); then
  FIXED_MODES="${FIXED_MODES:-a-alos b-alos b-eos}"; CAP_MODES="${CAP_MODES-b-alos b-eos}"
  CAP_RATES="${CAP_RATES:-25000 50000 100000}"
  WARMUP_S="${WARMUP_S:-10}"; MEASURE_S="${MEASURE_S:-10}"; DRAIN_S="${DRAIN_S:-10}"
  CAP_WARMUP_S="${CAP_WARMUP_S:-10}"; CAP_MEASURE_S="${CAP_MEASURE_S:-10}"; CAP_DRAIN_S="${CAP_DRAIN_S:-5}"
  MAX_MINUTES="${MAX_MINUTES:-10}"
else
  FIXED_MODES="${FIXED_MODES:-a-alos a-eos b-alos b-eos}"; CAP_MODES="${CAP_MODES-b-alos b-eos}"
  CAP_RATES="${CAP_RATES:-25000 50000 75000 100000 150000 200000 250000 300000}"
  WARMUP_S="${WARMUP_S:-10}"; MEASURE_S="${MEASURE_S:-30}"; DRAIN_S="${DRAIN_S:-20}"
  CAP_WARMUP_S="${CAP_WARMUP_S:-20}"; CAP_MEASURE_S="${CAP_MEASURE_S:-10}"; CAP_DRAIN_S="${CAP_DRAIN_S:-10}"
  MAX_MINUTES="${MAX_MINUTES:-24}"
fi
PRIME_S="${PRIME_S:-$( (( NODES == 3 )) && echo 180 || echo 0)}"
DEADLINE=$(( BENCH_START + MAX_MINUTES * 60 ))

WORK="${PIPELINE_BENCH_WORK:-$ROOT/.bench/pipelines-run-$(date -u +%Y%m%dT%H%M%SZ)$( (( NODES == 3 )) && echo -3nodes || true)}"
LIB="$ROOT/.bench/kafka-lib"
CP="$LIB/*:$ROOT/spate-bench/target/classes"
LOG4J="$ROOT/spate-bench/kafka/log4j2.properties"
mkdir -p "$WORK"
STEPS="$WORK/steps.tsv"      # run system kind mode rate status RESULT-line
: >"$STEPS"
PIDS=(); APP_PID=""; SNAP="$WORK/spate-bin"; BROKER_PIDS=(); SPATE_CLUSTER_DIR=""
cleanup() {
  [[ -n "$APP_PID" ]] && kill -9 "$APP_PID" 2>/dev/null || true
  for p in "${PIDS[@]:-}"; do [[ -n "$p" ]] && kill -9 "$p" 2>/dev/null || true; done
  spate_cluster_pids_kill
  rm -rf "$SNAP" "$WORK/ks-state"
}
trap cleanup EXIT
# fetch_kafka_lib, tool, free_port, kafka_command, stop_broker (start_broker and spate_command are not used)
source "$ROOT/spate-bench/lib.sh"
log() { echo "bench-pipelines $(date -u +%T): $*" | tee -a "$WORK/progress.log"; }

fetch_kafka_lib
{ git -C "$ROOT" rev-parse HEAD; git -C "$ROOT" status --short; } >"$WORK/source-state.txt" 2>&1 || true
if [[ "${SKIP_BUILD:-0}" == 1 ]]; then
  log "SKIP_BUILD=1: using the spate.jar and classes already built"
elif log "building spate-broker and spate-bench (offline; build.log)"
  ! (cd "$ROOT" && ./mvnw -B -o -q install -DskipTests -pl spate-broker,spate-bench -am) >"$WORK/build.log" 2>&1; then
  echo "bench-pipelines: the build failed:"; tail -40 "$WORK/build.log"; exit 1
fi
# The node and the CLI run from a copy of the jar just built: sources edited by others during the
# run must not make `spate` rebuild (or change) the code under test halfway.
# SPATE_BIN names another directory holding a spate.jar and its lib/ (another build, to compare two).
BIN_FROM="${SPATE_BIN:-$ROOT/spate-broker/target}"
mkdir -p "$SNAP" && cp -r "$BIN_FROM/spate.jar" "$BIN_FROM/lib" "$SNAP/"
[[ -n "${SPATE_BIN:-}" ]] && log "spate.jar and lib/ from $SPATE_BIN"
SPATE_JVM=(${SPATE_JVM_OPTS:--Xms128m -Xmx1g -XX:+UseG1GC -XX:MaxGCPauseMillis=10})
spate_cli() { "$JAVA" "${SPATE_JVM[@]}" -jar "$SNAP/spate.jar" "$@"; }
spate_command() {   # dir port -> sets CMD: the JVM line of `./spate start` (class-data archive included)
  CMD=("$JAVA" "${SPATE_JVM[@]}" -XX:+AutoCreateSharedArchive -XX:SharedArchiveFile="$SNAP/spate.jsa" -Xlog:cds=off
    -Xlog:cds+dynamic=off -jar "$SNAP/spate.jar" start --data-dir "$1/data" --port "$2")
}
# the nodes of a Spate cluster are started by `spate cluster up` (detached): their pid files, checked
# against the command line so that only this run's nodes are ever signalled
spate_cluster_pids() {
  local f pid
  [[ -n "$SPATE_CLUSTER_DIR" ]] || return 0
  for f in "$SPATE_CLUSTER_DIR"/node-*/pid; do
    [[ -f "$f" ]] || continue
    pid="$(tr -dc 0-9 <"$f")"
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$SPATE_CLUSTER_DIR/" && echo "$pid"
  done
  return 0
}
spate_cluster_pids_kill() { local p; for p in $(spate_cluster_pids); do kill -9 "$p" 2>/dev/null || true; done; }
LOAD_JVM=(${LOAD_JVM_OPTS:-})
load() { "$JAVA" -Xms2g -Xmx2g "${LOAD_JVM[@]}" -Dlog4j2.configurationFile="$LOG4J" -cp "$CP" io.spate.bench.PipelineLoad "$@"; }
SPATE_DEFAULTS="$(grep -ho 'commitDefault = [^;]*' "$ROOT/spate-processing/src/main/java/io/spate/processing/PipelineSettings.java" 2>/dev/null || true)"
{
  echo "java: $("$JAVA" -version 2>&1 | head -1) ($JAVA)"
  if (( NODES == 3 )); then
    echo "shape: 3 nodes, RF 3 (per system a 3-node cluster on loopback; only one system runs at a time)"
    echo "kafka: Apache Kafka 4.4.0, 3 combined broker+controller KRaft nodes, Kafka's JVM flags (-Xmx1g each), default.replication.factor=3, min.insync.replicas=2, offsets/transaction state RF 3 (txn min.isr 2), group.initial.rebalance.delay.ms=0"
    echo "kafka streams: 4.4.0, -Xmx1g, num.stream.threads=1, statestore.cache.max.bytes=0, commit.interval.ms=$KS_COMMIT_MS (alos and eos), exactly_once_v2 for eos, replication.factor=3 (internal topics)"
    echo "spate: $(head -1 "$WORK/source-state.txt"), \`spate cluster up --nodes 3\`, node JVMs: ${SPATE_JVM[*]}; pipelines: --example bench-a|bench-b, processing.guarantee=at_least_once|exactly_once${SPATE_SETTINGS:+, $SPATE_SETTINGS}; other settings Spate's defaults (PipelineSettings: $SPATE_DEFAULTS); outputs and internal topics created by the pipeline with the inputs' RF (3), then min.insync.replicas=2 set on the output"
    echo "load: 1000 users, ~100 B CSV events, events/out-a/out-b 6 partitions RF 3 min.insync.replicas=2, read_committed latency consumer, fetch.max.wait.ms=100; CPU 'broker' = the 3 nodes together"
  else
  echo "kafka: Apache Kafka 4.4.0 single KRaft node, Kafka's JVM flags (-Xmx1g), group.initial.rebalance.delay.ms=0"
  echo "kafka streams: 4.4.0, -Xmx1g, num.stream.threads=1, statestore.cache.max.bytes=0, commit.interval.ms=$KS_COMMIT_MS (alos and eos), exactly_once_v2 for eos"
  echo "spate: $(head -1 "$WORK/source-state.txt"), \`spate start\` JVM: ${SPATE_JVM[*]}; pipelines: --example bench-a|bench-b, processing.guarantee=at_least_once|exactly_once${SPATE_SETTINGS:+, $SPATE_SETTINGS}; other settings Spate's defaults (PipelineSettings: $SPATE_DEFAULTS)"
  echo "load: 1000 users, ~100 B CSV events, 6 partitions RF 1, read_committed latency consumer, fetch.max.wait.ms=100"
  fi
  echo "fixed rate: $RATE/s, modes: $FIXED_MODES; warm-up ${WARMUP_S} s, window ${MEASURE_S} s, drain <= ${DRAIN_S} s"
  (( PRIME_S > 0 )) && echo "priming: each system's cluster first runs A and B at-least-once at $RATE/s for $PRIME_S s each, unmeasured"
  echo "capacity: modes $CAP_MODES; rates $CAP_RATES; warm-up ${CAP_WARMUP_S} s, window ${CAP_MEASURE_S} s, drain <= ${CAP_DRAIN_S} s; pass = p99 < 1 s, missing 0, no send errors, generator lag < 1 s"
} >"$WORK/settings.txt"
cat "$WORK/settings.txt"

launch_broker() {   # system dir -> BROKER_PID, BS
  local system="$1" dir="$2" port; port="$(free_port)"; mkdir -p "$dir"
  if [[ "$system" == kafka ]]; then KAFKA_EXTRA_PROPS="group.initial.rebalance.delay.ms=0" kafka_command "$dir" "$port"
  else spate_command "$dir" "$port"; fi
  ( exec "${CMD[@]}" ) >"$dir/broker.log" 2>&1 &
  BROKER_PID=$!; PIDS+=("$BROKER_PID"); BROKER_PIDS=("$BROKER_PID"); BS="127.0.0.1:$port"
  if ! load ready --bootstrap "$BS" --timeout-s 120 >"$dir/ready.log" 2>&1; then
    echo "bench-pipelines: $system did not come up on $BS:"; tail -30 "$dir/broker.log"; return 1
  fi
  log "$system up on $BS (pid $BROKER_PID, $(awk '/READY_MS/ {print $2}' "$dir/ready.log") ms after the probe started)"
}

# ---- 3-node clusters (--nodes 3), as bench-cluster.sh starts them
kafka_uuid() { python3 -c 'import base64,os
while True:
    u = base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")
    if not u.startswith("-"): print(u); break'; }

launch_cluster() {   # system dir -> BROKER_PIDS, BROKER_PID (node 1), BS
  local system="$1" dir="$2" base n d quorum="" init="" cid t0
  mkdir -p "$dir"; base="$(free_base_port)"; t0="$(date +%s)"
  BROKER_PIDS=(); BS=""
  if [[ "$system" == kafka ]]; then
    for n in 1 2 3; do quorum+="${quorum:+,}127.0.0.1:$((base + 100 + n - 1))"; done
    cid="$(kafka_uuid)"
    for n in 1 2 3; do init+="${init:+,}$n@127.0.0.1:$((base + 100 + n - 1)):$(kafka_uuid)"; done
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
group.initial.rebalance.delay.ms=0
PROPS
      tool kafka.tools.StorageTool format -t "$cid" -c "$d/server.properties" --initial-controllers "$init" >"$d/format.log" 2>&1 \
        || { echo "bench-pipelines: formatting Kafka node $n failed:"; tail -20 "$d/format.log"; return 1; }
    done
    for n in 1 2 3; do
      d="$dir/node-$n"
      # JVM flags of kafka-server-start.sh / kafka-run-class.sh (as kafka_command in lib.sh)
      ( exec "$JAVA" -Xmx1g -Xms1g -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
          -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true -Dkafka.logs.dir="$d/logs" \
          -Dlog4j2.configurationFile="$LOG4J" -cp "$CP" kafka.Kafka "$d/server.properties" ) >"$d/broker.log" 2>&1 &
      BROKER_PIDS+=($!); PIDS+=($!)
    done
  else
    SPATE_CLUSTER_DIR="$dir/cluster"
    if ! SPATE_JVM_OPTS="${SPATE_JVM[*]}" spate_cli cluster up --nodes 3 --dir "$dir/cluster" --base-port "$base" "${NODE_OVERRIDE_ARGS[@]}" >"$dir/cluster-up.log" 2>&1; then
      echo "bench-pipelines: spate cluster up failed:"; tail -30 "$dir/cluster-up.log"; return 1
    fi
    BS="$(sed -n 's/^bootstrap: //p' "$dir/cluster-up.log" | tail -1)"
    for n in 1 2 3; do
      d="$dir/cluster/node-$n"
      local pid; pid="$(tr -dc 0-9 <"$d/pid" 2>/dev/null || true)"
      [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || { echo "bench-pipelines: Spate node $n is not running after cluster up"; tail -20 "$d/node.log" 2>/dev/null; return 1; }
      BROKER_PIDS+=("$pid"); PIDS+=("$pid")
    done
    [[ -n "$BS" ]] || { echo "bench-pipelines: no bootstrap line in $dir/cluster-up.log"; return 1; }
  fi
  BROKER_PID="${BROKER_PIDS[0]}"
  if ! load ready --bootstrap "$BS" --nodes 3 --timeout-s 120 >"$dir/ready.log" 2>&1; then
    echo "bench-pipelines: the $system cluster did not come up on $BS:"; tail -30 "$dir/ready.log"; return 1
  fi
  log "$system 3-node cluster up on $BS (pids ${BROKER_PIDS[*]}, $(( $(date +%s) - t0 )) s)"
}

stop_system() {   # system dir
  if (( NODES == 1 )); then stop_broker; return 0; fi
  local p i left
  if [[ "$1" == spate ]]; then
    spate_cli cluster down --dir "$2/cluster" --timeout-s 60 >"$2/cluster-down.log" 2>&1 || log "spate cluster down failed: $(tail -3 "$2/cluster-down.log")"
  else
    for p in "${BROKER_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  fi
  # (the last node of a stopping KRaft cluster keeps waiting for a quorum that is gone: SIGKILL after 20 s)
  for ((i = 0; i < 200; i++)); do
    left=0; for p in "${BROKER_PIDS[@]}"; do kill -0 "$p" 2>/dev/null && left=1; done
    (( left )) || break
    sleep 0.1
  done
  for p in "${BROKER_PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  spate_cluster_pids_kill; SPATE_CLUSTER_DIR=""
}

brokers_alive() { local p; for p in "${BROKER_PIDS[@]}"; do kill -0 "$p" 2>/dev/null || return 1; done; }

stop_app() {
  [[ -n "$APP_PID" ]] || return 0
  kill -TERM "$APP_PID" 2>/dev/null || true
  for _ in $(seq 1 300); do kill -0 "$APP_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$APP_PID" 2>/dev/null || true
  APP_PID=""
}

# One step: fresh topics and app, one load run. Appends a line to steps.tsv and sets STEP_RESULT
# (the RESULT line, empty on failure) and STEP_STATUS.
# A step's spec: mode[@rate][+key=value...], e.g. a-eos@20000+commit.interval.ms=10+batch.max.records=100.
# Sets SPEC_MODE, SPEC_TOPO (a|b), SPEC_GUAR (alos|eos), SPEC_RATE (empty without @rate) and SPEC_SETS,
# the --set arguments of a Spate deploy (the guarantee, then SPATE_SETTINGS, then the spec's own).
parse_spec() {
  local spec="$1" extra kv step_sets=()
  SPEC_MODE="${spec%%[@+]*}"; extra="${spec#"$SPEC_MODE"}"; SPEC_RATE=""
  if [[ "$extra" =~ ^@([0-9]+) ]]; then SPEC_RATE="${BASH_REMATCH[1]}"; extra="${extra#@"$SPEC_RATE"}"; fi
  [[ -n "$extra" ]] && IFS=+ read -ra step_sets <<<"${extra#+}"
  SPEC_TOPO="${SPEC_MODE%%-*}"; SPEC_GUAR="${SPEC_MODE#*-}"
  SPEC_SETS=(--set "processing.guarantee=$([[ $SPEC_GUAR == eos ]] && echo exactly_once || echo at_least_once)")
  for kv in $SPATE_SETTINGS "${step_sets[@]}"; do [[ -n "$kv" ]] && SPEC_SETS+=(--set "$kv"); done
  return 0
}

STEP_NO=0
step() {   # run system kind mode rate warmup measure drain
  # A mode may carry its own rate and Spate settings (parse_spec)
  local run="$1" system="$2" kind="$3" spec="$4" rate="$5" warm="$6" meas="$7" drain="$8"
  parse_spec "$spec"
  local mode="$SPEC_MODE" sets=("${SPEC_SETS[@]}")
  rate="${SPEC_RATE:-$rate}"
  STEP_NO=$((STEP_NO + 1))
  local topo="$SPEC_TOPO" guar="$SPEC_GUAR" label="$system-$mode-r$rate-$kind-$run"
  [[ "$spec" == "$mode" ]] || label="$label-v$STEP_NO"
  local d="$WORK/$system-run$run/$label"; mkdir -p "$d"
  local out="out-$topo" cpu="broker=$(IFS=+; echo "${BROKER_PIDS[*]}")"
  STEP_RESULT=""; STEP_STATUS=ok
  if [[ "$system" == kafka ]]; then
    load setup --bootstrap "$BS" --delete events,out-a,out-b --delete-prefix psbench- --create events,out-a,out-b "${TOPIC_ARGS[@]}" >"$d/setup.log" 2>&1 \
      || { STEP_STATUS=setup-failed; }
    if [[ "$STEP_STATUS" == ok ]]; then
      ( exec "$JAVA" -Xms1g -Xmx1g --enable-native-access=ALL-UNNAMED -Dlog4j2.configurationFile="$LOG4J" -cp "$CP" \
          io.spate.bench.PipelineStreamsApp --bootstrap "$BS" --topology "$topo" --guarantee "$guar" --commit-ms "$KS_COMMIT_MS" \
          --app-id "psbench-$label" --state-dir "$WORK/ks-state/$label" "${KS_ARGS[@]}" ) >"$d/app.log" 2>&1 &
      APP_PID=$!
      for _ in $(seq 1 240); do
        grep -q "STATE RUNNING" "$d/app.log" && break
        kill -0 "$APP_PID" 2>/dev/null || break
        sleep 0.25
      done
      grep -q "STATE RUNNING" "$d/app.log" || STEP_STATUS=app-not-running
      cpu="$cpu,streams=$APP_PID"
    fi
  else
    local name="pb-$topo-$guar-r$rate-$kind-$run${label##*-r$rate-$kind-$run}" tasks=6
    [[ "$topo" == b ]] && tasks=12
    load setup --bootstrap "$BS" --delete events,out-a,out-b --create events "${TOPIC_ARGS[@]}" >"$d/setup.log" 2>&1 || STEP_STATUS=setup-failed
    if [[ "$STEP_STATUS" == ok ]]; then
      if ! spate_cli pipeline deploy --name "$name" --example "bench-$topo" "${sets[@]}" --bootstrap-server "$BS" >"$d/deploy.log" 2>&1; then
        STEP_STATUS=deploy-failed
      else
        local running=0
        for _ in $(seq 1 60); do
          spate_cli pipeline describe "$name" --bootstrap-server "$BS" >"$d/describe-before.log" 2>&1 || true
          running="$(awk '$1 ~ /^[0-9]+\/[0-9]+$/ && $3 == "RUNNING"' "$d/describe-before.log" | wc -l)"
          (( running >= tasks )) && break
          sleep 1
        done
        (( running >= tasks )) || STEP_STATUS=tasks-not-running
        # 3 nodes: the pipeline created its output with the inputs' RF; it gets min.insync.replicas=2 as Kafka's
        if [[ "$STEP_STATUS" == ok ]] && (( NODES == 3 )); then
          load setup --bootstrap "$BS" --alter "$out" --config min.insync.replicas=2 >"$d/setup-out.log" 2>&1 || STEP_STATUS=setup-out-failed
        fi
      fi
    fi
  fi
  if [[ "$STEP_STATUS" == ok ]]; then
    load run --bootstrap "$BS" --out "$out" --expect "$topo" --rate "$rate" --warmup-s "$warm" --measure-s "$meas" \
      --drain-s "$drain" --label "$label" --cpu-pids "$cpu" "${LOAD_PPROP_ARGS[@]}" >"$d/bench.log" 2>&1 || STEP_STATUS=load-failed
    STEP_RESULT="$(grep '^RESULT' "$d/bench.log" || true)"
    [[ -n "$STEP_RESULT" ]] || STEP_STATUS=load-failed
  fi
  if [[ "$system" == kafka ]]; then
    stop_app; rm -rf "$WORK/ks-state/$label"
  elif [[ -n "${name:-}" ]]; then
    spate_cli pipeline describe "$name" --bootstrap-server "$BS" >"$d/describe-after.log" 2>&1 || true
    spate_cli pipeline delete "$name" --bootstrap-server "$BS" >"$d/delete.log" 2>&1 || echo "pipeline delete failed: $(tail -3 "$d/delete.log")" >>"$d/notes.log"
  fi
  brokers_alive || STEP_STATUS="$STEP_STATUS,broker-died"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$system" "$kind" "$spec" "$rate" "$STEP_STATUS" "$d" "$STEP_RESULT" >>"$STEPS"
  local brief; brief="$(sed -E 's/.*(missing=[0-9-]+ dups=[0-9]+).*(p50_ms=[0-9.]+ p90_ms=[0-9.]+ p99_ms=[0-9.]+ p999_ms=[0-9.]+).*/\1 \2/' <<<"$STEP_RESULT")"
  log "  $label: $STEP_STATUS ${brief}"
}

# Restore: Spate's tasks of a stateful mode after a kill -9 of their node (one node). Fills the state
# at $RESTORE_RATE for $RESTORE_FILL_S s, kills the node, starts it on the same data and port, and
# reads from `describe` the tasks' restore times and changelog records restored, and the wall time
# from the start of the node to every task RUNNING.
restore_step() {   # run mode
  local run="$1" spec="$2"
  parse_spec "$spec"
  STEP_NO=$((STEP_NO + 1))
  local mode="$SPEC_MODE" topo="$SPEC_TOPO" guar="$SPEC_GUAR" sets=("${SPEC_SETS[@]}")
  local label="spate-$mode-restore-$run-v$STEP_NO" tasks=12
  local d="$WORK/spate-run$run/$label" name="pr-$topo-$guar-$run-v$STEP_NO" port="${BS##*:}" running t0 t1
  mkdir -p "$d"; STEP_STATUS=ok; STEP_RESULT=""
  load setup --bootstrap "$BS" --delete events,out-a,out-b --create events >"$d/setup.log" 2>&1 || STEP_STATUS=setup-failed
  [[ "$STEP_STATUS" == ok ]] && { spate_cli pipeline deploy --name "$name" --example "bench-$topo" "${sets[@]}" --bootstrap-server "$BS" \
    >"$d/deploy.log" 2>&1 || STEP_STATUS=deploy-failed; }
  [[ "$STEP_STATUS" == ok ]] && { load run --bootstrap "$BS" --out "out-$topo" --expect "$topo" --rate "$RESTORE_RATE" --warmup-s 0 \
    --measure-s "$RESTORE_FILL_S" --drain-s 10 --label "$label-fill" >"$d/fill.log" 2>&1 || STEP_STATUS=fill-failed; }
  if [[ "$STEP_STATUS" == ok ]]; then
    kill -9 "$BROKER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$BROKER_PID" 2>/dev/null || break; sleep 0.1; done
    sleep 2   # the reports from before the kill are then older than anything since the start
    spate_command "$WORK/spate-run$run/broker" "$port"
    t0="$(date +%s%3N)"
    ( exec "${CMD[@]}" ) >>"$WORK/spate-run$run/broker/broker.log" 2>&1 &
    BROKER_PID=$!; PIDS+=("$BROKER_PID"); BROKER_PIDS=("$BROKER_PID")
    running=0
    for _ in $(seq 1 600); do
      spate_cli pipeline describe "$name" --bootstrap-server "$BS" >"$d/describe.log" 2>&1 || true
      running="$(awk '$1 ~ /^[0-9]+\/[0-9]+$/ && $3 == "RUNNING"' "$d/describe.log" | wc -l)"
      (( running >= tasks )) && python3 - "$d/describe.log" "$(( $(date +%s%3N) - t0 ))" <<'PY' && break
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.split() and "/" in l.split()[0]]
head = next(l.split() for l in open(sys.argv[1]) if l.startswith("TASK"))
restores, age = head.index("RESTORES"), head.index("AGE-MS")
fresh = all(int(r[age]) <= int(sys.argv[2]) for r in rows)   # reported since the node started again
sys.exit(0 if rows and fresh and sum(1 for r in rows if int(r[restores]) >= 1) >= 6 else 1)   # B's six stateful tasks
PY
      sleep 0.2
    done
    t1="$(date +%s%3N)"
    (( running >= tasks )) || STEP_STATUS=tasks-not-running
    STEP_RESULT="$(python3 - "$d/describe.log" "$label" "$((t1 - t0))" <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines()
head = next(l.split() for l in lines if l.startswith("TASK"))
rows = [l.split() for l in lines if l.split() and "/" in l.split()[0]]
ms = [int(r[head.index("RESTORE-MS")]) for r in rows if r[head.index("RESTORE-MS")] != "-"]
recs = [int(r[head.index("RESTORED")]) for r in rows]
print(f"RESULT label={sys.argv[2]} tasks={len(rows)} restored_records={sum(recs)} restore_ms_max={max(ms) if ms else -1} "
      f"restore_ms_sum={sum(ms)} start_to_running_ms={sys.argv[3]}")
PY
)"
  fi
  spate_cli pipeline delete "$name" --bootstrap-server "$BS" >"$d/delete.log" 2>&1 || true
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$run" spate restore "$spec" "$RESTORE_RATE" "$STEP_STATUS" "$d" "$STEP_RESULT" >>"$STEPS"
  log "  $label: $STEP_STATUS ${STEP_RESULT#RESULT }"
}

# Failover: Spate's tasks of a stateful mode after a kill -9 of the node running most of them (3
# nodes). Fills the state as restore_step does, kills that node, and times from the kill to every
# task RUNNING elsewhere; reads from `describe` the moved tasks' restore times and changelog records
# (RESTORED: read by the task; FROM-STANDBY: held by a standby on its new node). Then starts the
# node again on its data.
failover_step() {   # run spec
  local run="$1" spec="$2"
  parse_spec "$spec"
  STEP_NO=$((STEP_NO + 1))
  local mode="$SPEC_MODE" topo="$SPEC_TOPO" guar="$SPEC_GUAR" sets=("${SPEC_SETS[@]}")
  local label="spate-$mode-failover-$run-v$STEP_NO" tasks=12
  local d="$WORK/spate-run$run/$label" name="pf-$topo-$guar-$run-v$STEP_NO" victim pid t0 t1 ok=0
  mkdir -p "$d"; STEP_STATUS=ok; STEP_RESULT=""
  load setup --bootstrap "$BS" --delete events,out-a,out-b --create events "${TOPIC_ARGS[@]}" >"$d/setup.log" 2>&1 || STEP_STATUS=setup-failed
  [[ "$STEP_STATUS" == ok ]] && { spate_cli pipeline deploy --name "$name" --example "bench-$topo" "${sets[@]}" --bootstrap-server "$BS" \
    >"$d/deploy.log" 2>&1 || STEP_STATUS=deploy-failed; }
  [[ "$STEP_STATUS" == ok ]] && { load run --bootstrap "$BS" --out "out-$topo" --expect "$topo" --rate "$RESTORE_RATE" --warmup-s 0 \
    --measure-s "$RESTORE_FILL_S" --drain-s 10 --label "$label-fill" >"$d/fill.log" 2>&1 || STEP_STATUS=fill-failed; }
  if [[ "$STEP_STATUS" == ok ]]; then
    spate_cli pipeline describe "$name" --bootstrap-server "$BS" >"$d/before.log" 2>&1 || true
    victim="$(awk '/^TASK/ {t = 1; next} t && NF == 0 {t = 0} t && $1 ~ /^[0-9]+\/[0-9]+$/ {n[$2]++}
      END {for (k in n) if (n[k] > best) {best = n[k]; v = k}; print v}' "$d/before.log")"
    pid="${BROKER_PIDS[$((victim - 1))]:-}"
    [[ -n "$victim" && -n "$pid" ]] || STEP_STATUS=no-victim
  fi
  if [[ "$STEP_STATUS" == ok ]]; then
    t0="$(date +%s%3N)"
    kill -9 "$pid" 2>/dev/null || true
    for _ in $(seq 1 600); do
      spate_cli pipeline describe "$name" --bootstrap-server "$BS" >"$d/describe.log" 2>&1 || true
      python3 - "$d/before.log" "$d/describe.log" "$victim" "$(( $(date +%s%3N) - t0 ))" "$tasks" <<'PY' && { ok=1; break; }
import sys
def rows(path):
    lines = open(path).read().splitlines()
    start = next((i for i, l in enumerate(lines) if l.startswith("TASK")), None)
    if start is None: return None, {}
    table = {}
    for l in lines[start + 1:]:
        if not l.split(): break   # the standbys' table follows the tasks'
        table[l.split()[0]] = l.split()
    return lines[start].split(), table
_, before = rows(sys.argv[1]); head, now = rows(sys.argv[2])
victim, since_kill, tasks = sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
if head is None or len(now) < tasks: sys.exit(1)
node, state, age = head.index("NODE"), head.index("STATE"), head.index("AGE-MS")
moved = [t for t, r in before.items() if r[node] == victim]
ok = all(r[state] == "RUNNING" and r[node] != victim for r in now.values()) \
    and all(int(now[t][age]) <= since_kill for t in moved)   # reported by the new instance, after the kill
sys.exit(0 if ok else 1)
PY
      sleep 0.2
    done
    t1="$(date +%s%3N)"
    (( ok )) || STEP_STATUS=tasks-not-running
    STEP_RESULT="$(python3 - "$d/before.log" "$d/describe.log" "$victim" "$label" "$((t1 - t0))" <<'PY'
import sys
def rows(path):
    lines = open(path).read().splitlines()
    start = next((i for i, l in enumerate(lines) if l.startswith("TASK")), None)
    if start is None: return [], {}
    table = {}
    for l in lines[start + 1:]:
        if not l.split(): break   # the standbys' table follows the tasks'
        table[l.split()[0]] = l.split()
    return lines[start].split(), table
_, before = rows(sys.argv[1]); head, now = rows(sys.argv[2])
col = lambda name: head.index(name)
moved = [now[t] for t, r in before.items() if r[col("NODE")] == sys.argv[3] and t in now]
stateful = [r for r in moved if r[col("RESTORE-MS")] != "-" and (int(r[col("RESTORED")]) + int(r[col("FROM-STANDBY")])) > 0]
ms = [int(r[col("RESTORE-MS")]) for r in stateful]
print(f"RESULT label={sys.argv[4]} victim={sys.argv[3]} moved={len(moved)} moved_stateful={len(stateful)} "
      f"restored_records={sum(int(r[col('RESTORED')]) for r in moved)} from_standby={sum(int(r[col('FROM-STANDBY')]) for r in moved)} "
      f"restore_ms_max={max(ms) if ms else -1} kill_to_running_ms={sys.argv[5]}")
PY
)"
    SPATE_JVM_OPTS="${SPATE_JVM[*]}" spate_cli cluster up --nodes 3 --dir "$SPATE_CLUSTER_DIR" "${NODE_OVERRIDE_ARGS[@]}" >"$d/restart.log" 2>&1 \
      || STEP_STATUS="$STEP_STATUS,restart-failed"
    local again; again="$(tr -dc 0-9 <"$SPATE_CLUSTER_DIR/node-$victim/pid" 2>/dev/null || true)"
    [[ -n "$again" ]] && { BROKER_PIDS[$((victim - 1))]="$again"; PIDS+=("$again"); }
    load ready --bootstrap "$BS" --nodes 3 --timeout-s 120 >"$d/ready.log" 2>&1 || STEP_STATUS="$STEP_STATUS,not-ready"
  fi
  spate_cli pipeline delete "$name" --bootstrap-server "$BS" >"$d/delete.log" 2>&1 || true
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$run" spate failover "$spec" "$RESTORE_RATE" "$STEP_STATUS" "$d" "$STEP_RESULT" >>"$STEPS"
  log "  $label: $STEP_STATUS ${STEP_RESULT#RESULT }"
}

passes() {   # RESULT line -> exit 0 when the rung is sustained
  python3 - "$1" <<'PY'
import sys
kv = dict(x.split("=", 1) for x in sys.argv[1].split()[1:] if "=" in x)
ok = (float(kv.get("p99_ms", "1e9")) < 1000 and int(kv.get("missing", "1")) == 0 and int(kv.get("errors", "1")) == 0
      and float(kv.get("max_sched_lag_ms", "1e9")) < 1000)
sys.exit(0 if ok else 1)
PY
}

measure_system() {   # run system
  local run="$1" system="$2" dir="$WORK/$2-run$1"
  log "run $run: $system"
  if (( NODES == 3 )); then launch=launch_cluster; else launch=launch_broker; fi
  $launch "$system" "$dir/broker" || { stop_system "$system" "$dir/broker" 2>/dev/null || true; printf '%s\t%s\tbroker\t-\t-\tbroker-failed\t%s\t\n' "$run" "$system" "$dir" >>"$STEPS"; return 0; }
  local mode
  declare -A FIXED_OK=()
  if (( PRIME_S > 0 )); then
    for mode in ${PRIME_MODES:-a-alos b-alos}; do step "$run" "$system" prime "$mode" "$RATE" "$PRIME_S" 5 5; done
  fi
  for mode in $FIXED_MODES; do
    step "$run" "$system" fixed "$mode" "$RATE" "$WARMUP_S" "$MEASURE_S" "$DRAIN_S"
    [[ "$STEP_STATUS" == ok ]] && passes "$STEP_RESULT" && FIXED_OK[$mode]=1
  done
  for mode in $CAP_MODES; do
    # The fixed-rate step is the first rung when it ran; else the ladder starts at $RATE.
    local rates="$CAP_RATES"
    if [[ " $FIXED_MODES " != *" $mode "* ]]; then rates="$RATE $CAP_RATES"
    elif [[ -z "${FIXED_OK[$mode]:-}" ]]; then log "  $system $mode: capacity < $RATE/s (the fixed-rate step failed)"; continue; fi
    local r
    for r in $rates; do
      (( r > RATE || r == RATE )) || continue
      if (( $(date +%s) + CAP_WARMUP_S + CAP_MEASURE_S + 30 > DEADLINE )); then
        printf '%s\t%s\tcap\t%s\t%s\tskipped-time-budget\t-\t\n' "$run" "$system" "$mode" "$r" >>"$STEPS"
        log "  $system $mode @ $r/s: skipped (MAX_MINUTES=$MAX_MINUTES)"; break
      fi
      step "$run" "$system" cap "$mode" "$r" "$CAP_WARMUP_S" "$CAP_MEASURE_S" "$CAP_DRAIN_S"
      [[ "$STEP_STATUS" == ok ]] && passes "$STEP_RESULT" || break
    done
  done
  if [[ "$system" == spate ]] && (( NODES == 1 )); then
    for mode in $RESTORE_MODES; do restore_step "$run" "$mode"; done
  fi
  if [[ "$system" == spate ]] && (( NODES == 3 )); then
    for mode in $FAILOVER_MODES; do failover_step "$run" "$mode"; done
  fi
  stop_system "$system" "$dir/broker"
  [[ "${KEEP_DATA:-0}" == 1 ]] || rm -rf "$dir/broker/data" "$dir"/broker/node-{1,2,3}/data "$dir"/broker/cluster/node-{1,2,3}/data   # gigabytes after the high rungs
}

for ((run = 1; run <= RUNS; run++)); do
  if (( run % 2 )); then order=($SYSTEMS); else order=($(tr ' ' '\n' <<<"$SYSTEMS" | tac)); fi
  for system in "${order[@]}"; do measure_system "$run" "$system"; done
done

{ echo "## Pipelines: Kafka Streams 4.4 on Kafka 4.4 vs Spate, $SHAPE ($(date -u +%F), $(nproc) cores)"; echo
  sed 's/^/    /' "$WORK/settings.txt"; echo
  CAP_MODES="$CAP_MODES" python3 "$ROOT/spate-bench/pipelines-report.py" "$STEPS" "$RUNS" "$RATE" "$SHAPE"; } | tee "$WORK/report.md"
BENCH_S=$(( $(date +%s) - BENCH_START ))
printf '\nwall time: %d min %02d s (plus %d s waiting for %s)\n' $((BENCH_S / 60)) $((BENCH_S % 60)) "$LOCK_WAIT_S" "$LOCK" | tee -a "$WORK/report.md"
echo "bench-pipelines: raw logs, steps.tsv and report.md in $WORK"
