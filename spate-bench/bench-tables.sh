#!/usr/bin/env bash
# Tables against Apache Cassandra 5.0 (issue 14): the same key-value workload against Cassandra
# 5.0.6 and Spate tables, one node (RF 1) and three nodes (RF 3) on loopback, one system at a time,
# in one invocation. Not a test: it prints figures and ratios.
#
#   spate-bench/bench-tables.sh [--runs N] [--quick]
#
# Cassandra: org.apache.cassandra:cassandra-all:5.0.6 from Maven Central (spate-bench/cassandra/pom.xml,
#   jars cached in .bench/cassandra-lib), CassandraDaemon on JDK 17 with the JVM flags of its
#   jvm-server.options/jvm17-server.options, -Xmx$CASS_HEAP; nodes on 127.0.0.1 (single) or
#   127.0.0.1/.2/.3 (cluster3, seed .1), commitlog_sync periodic 10 s (its default: acknowledged before
#   any fsync). Table kvbench.kv (k text PRIMARY KEY, v blob), NetworkTopologyStrategy RF 1 or 3.
# Spate: `spate cluster up --nodes 1|3` (its default node JVM: -Xmx1g, G1), a table kvbench with
#   replication factor 1 or 3 and durability $SPATE_DURABILITY (none: acknowledged before any fsync,
#   as Cassandra's periodic commit log).
# Load: io.spate.bench.TableKvBench (spate-bench), the same phases for both: --target=cql (DataStax /
#   Apache Cassandra Java driver 4.19.2, prepared statements, token-aware) or, for Spate, --target=native
#   (the tables' native protocol on the nodes' tables ports, spate-tables' NativeTablesClient: one
#   connection per node, requests pipelined, round robin over the nodes; SPATE_CLIENT=native) or
#   --target=http (Netty HTTP/1.1, keep-alive connections to every node, round robin; SPATE_CLIENT=http).
#   1 KB random values, 50 % reads / 50 % writes, $KEYS keys preloaded at ALL; per topology, for
#   keys uniform and zipfian (theta 0.99), at ONE and QUORUM:
#     fixed:RATE  open loop at RATE ops/s, latency from the intended send time (HdrHistogram)
#     max:$INFLIGHT closed loop, $INFLIGHT requests outstanding: ops/s
#   each phase $WARMUP_S s unrecorded, then $DURATION_S s recorded.
# Medians over the runs and Spate/Cassandra ratios go to stdout and .bench/tables-run-<time>/summary.md.
#
# Environment (defaults in brackets): KEYS [100000]  WARMUP_S [5]  DURATION_S [15]  INFLIGHT [64]
#   RATE_SINGLE [2000] and RATE_CLUSTER [1000] ops/s of the fixed phases   DISTS ["uniform zipf"]
#   CLS ["ONE QUORUM"]  TOPOLOGIES ["single cluster3"]  SYSTEMS ["cassandra spate"]  CASS_HEAP [1G]
#   SPATE_DURABILITY [none]  SPATE_CLIENT [native] or http  CONNS [32] HTTP connections per Spate node  WARM_S [10] unrecorded closed-loop
#   load after the preload  CASS_JAVA [JDK 17]  SKIP_BUILD [0]  KEEP_DATA [0]
# --quick: KEYS=20000 WARMUP_S=2 DURATION_S=5 WARM_S=3, uniform keys only (a smoke run).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/find-java.sh"
source "$ROOT/spate-bench/lib.sh"   # free_base_port
spate_find_java || exit 1
spate_default_maven_opts

RUNS=1; QUICK=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    --quick) QUICK=1; shift ;;
    -h|--help) sed -n '2,33p' "$0"; exit 0 ;;
    *) echo "usage: $0 [--runs N] [--quick]" >&2; exit 2 ;;
  esac
done
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || { echo "bench-tables: --runs must be a positive integer" >&2; exit 2; }
if (( QUICK )); then
  KEYS="${KEYS:-20000}"; WARMUP_S="${WARMUP_S:-2}"; DURATION_S="${DURATION_S:-5}"; WARM_S="${WARM_S:-3}"; DISTS="${DISTS:-uniform}"
fi
KEYS="${KEYS:-100000}"; WARMUP_S="${WARMUP_S:-5}"; DURATION_S="${DURATION_S:-15}"; INFLIGHT="${INFLIGHT:-64}"
RATE_SINGLE="${RATE_SINGLE:-2000}"; RATE_CLUSTER="${RATE_CLUSTER:-1000}"; WARM_S="${WARM_S:-10}"
CASS_HEAP="${CASS_HEAP:-1G}"; SPATE_DURABILITY="${SPATE_DURABILITY:-none}"; CONNS="${CONNS:-32}"; SPATE_CLIENT="${SPATE_CLIENT:-native}"
[[ "$SPATE_CLIENT" == native || "$SPATE_CLIENT" == http ]] || { echo "bench-tables: SPATE_CLIENT must be native or http" >&2; exit 2; }
read -r -a DIST_LIST <<<"${DISTS:-uniform zipf}"
read -r -a CL_LIST <<<"${CLS:-ONE QUORUM}"
read -r -a TOPOS <<<"${TOPOLOGIES:-single cluster3}"
read -r -a SYSTEMS <<<"${SYSTEMS:-cassandra spate}"
CASS_JAVA="${CASS_JAVA:-}"
if [[ -z "$CASS_JAVA" ]]; then
  for c in /usr/lib/jvm/java-17-openjdk-amd64/bin/java /usr/lib/jvm/openjdk-17/bin/java /usr/lib/jvm/java-17*/bin/java; do
    [[ -x "$c" ]] && { CASS_JAVA="$c"; break; }
  done
fi
[[ -x "$CASS_JAVA" ]] || { echo "bench-tables: Cassandra 5.0 needs a JDK 17 (set CASS_JAVA)" >&2; exit 1; }

WORK="$ROOT/.bench/tables-run-$(date -u +%Y%m%dT%H%M%SZ)"
CLIB="$ROOT/.bench/cassandra-lib"
mkdir -p "$WORK"
say() { echo "bench-tables: $*"; }
warn() { echo "bench-tables: WARNING: $*" >&2; echo "- $*" >>"$WORK/warnings.txt"; }

# ---- process bookkeeping: every server this script starts leaves its pid in a file under $WORK;
# the trap ends them (SIGTERM, then SIGKILL), and the foreground child of `run`.
CHILD=""
PID_FILES=()
pid_alive() {   # pidfile -> pid if it still runs a process whose command line names $WORK
  local pid
  [[ -f "$1" ]] || return 1
  pid="$(tr -dc 0-9 <"$1")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$WORK/" && echo "$pid"
}
stop_all() {   # wait_s pidfile...
  local w="$1" f pid i left; shift
  for f in "$@"; do pid="$(pid_alive "$f")" && kill -TERM "$pid" 2>/dev/null || true; done
  for ((i = 0; i < w * 4; i++)); do
    left=0; for f in "$@"; do pid_alive "$f" >/dev/null && left=1; done
    (( left )) || return 0
    sleep 0.25
  done
  for f in "$@"; do pid="$(pid_alive "$f")" && { say "pid $pid still running after ${w} s: SIGKILL"; kill -9 "$pid" 2>/dev/null || true; }; done
  return 0
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [[ -n "$CHILD" ]] && kill -9 "$CHILD" 2>/dev/null
  ((${#PID_FILES[@]})) && stop_all 30 "${PID_FILES[@]}"
  [[ -n "${DIST:-}" ]] && rm -rf "$DIST"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
run() {   # logfile cmd... : in the background so the trap can end it
  local log="$1" rc=0; shift
  "$@" >"$log" 2>&1 &
  CHILD=$!
  wait "$CHILD" || rc=$?
  CHILD=""
  return "$rc"
}
now_ms() { date +%s%3N; }

# ---- inputs: Cassandra's jars, Spate pinned for the run, the load tool
if ! ls "$CLIB"/cassandra-all-5.0.6.jar "$CLIB"/java-driver-core-4.19.2.jar >/dev/null 2>&1; then
  say "fetching Apache Cassandra 5.0.6 and the Java driver from Maven Central into $CLIB"
  (cd "$ROOT" && ./mvnw -q -B -f spate-bench/cassandra/pom.xml dependency:copy-dependencies -DoutputDirectory="$CLIB" -DincludeScope=runtime)
fi
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  say "building spate-bench (TableKvBench)"
  (cd "$ROOT" && flock /tmp/spate-build.lock ./mvnw -B -o -q install -DskipTests -pl spate-bench)
fi
[[ -f "$ROOT/spate-broker/target/spate.jar" && -f "$ROOT/spate-bench/target/classes/io/spate/bench/TableKvBench.class" ]] \
  || { echo "bench-tables: spate.jar or TableKvBench is missing (build spate-broker and spate-bench)" >&2; exit 1; }
DIST="$WORK/spate-dist"
mkdir -p "$DIST"
cp -p "$ROOT/spate-broker/target/spate.jar" "$DIST/"
cp -r "$ROOT/spate-broker/target/lib" "$DIST/lib"
cp -r "$ROOT/spate-bench/target/classes" "$WORK/bench-classes"
SPATE_BUILD="spate.jar built $(date -u -r "$DIST/spate.jar" +%FT%TZ), sha256 $(sha256sum "$DIST/spate.jar" | cut -c1-12); HEAD $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
SPATE=("$JAVA" -jar "$DIST/spate.jar")

# ---- Apache Cassandra 5.0.6 from its jars
cass_yaml() {   # dir addr seeds
  local dir="$1" addr="$2"
  mkdir -p "$dir"/data/{data,commitlog,saved_caches,hints,cdc_raw} "$dir/logs"
  cat >"$dir/cassandra.yaml" <<YAML
cluster_name: 'spate-bench-tables'
num_tokens: 16
allocate_tokens_for_local_replication_factor: 3
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "$3"
listen_address: $addr
rpc_address: $addr
storage_port: 7000
native_transport_port: 9042
start_native_transport: true
auto_bootstrap: false
commitlog_sync: periodic
commitlog_sync_period: 10000ms
commitlog_segment_size: 32MiB
data_file_directories:
  - $dir/data/data
commitlog_directory: $dir/data/commitlog
saved_caches_directory: $dir/data/saved_caches
hints_directory: $dir/data/hints
cdc_raw_directory: $dir/data/cdc_raw
YAML
}
cass_start() {   # dir addr jmx -> starts one node and waits for its CQL port
  local dir="$1" addr="$2" jmx="$3" t0 i pid
  local -a flags=(
    -Xms"$CASS_HEAP" -Xmx"$CASS_HEAP" -ea -da:net.openhft... -XX:+UseThreadPriorities -Xss256k -XX:+AlwaysPreTouch
    -XX:+UseTLAB -XX:+ResizeTLAB -XX:+UseNUMA -XX:+PerfDisableSharedMem -Djava.net.preferIPv4Stack=true
    -XX:+UseG1GC -XX:+ParallelRefProcEnabled -XX:MaxTenuringThreshold=1 -XX:G1HeapRegionSize=16m
    -XX:G1RSetUpdatingPauseTimePercent=5 -XX:MaxGCPauseMillis=300 -XX:InitiatingHeapOccupancyPercent=70
    -Djdk.attach.allowAttachSelf=true
    --add-exports java.base/jdk.internal.misc=ALL-UNNAMED --add-exports java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED
    --add-exports java.rmi/sun.rmi.registry=ALL-UNNAMED --add-exports java.rmi/sun.rmi.server=ALL-UNNAMED
    --add-exports java.sql/java.sql=ALL-UNNAMED --add-exports java.base/java.lang.ref=ALL-UNNAMED
    --add-exports jdk.unsupported/sun.misc=ALL-UNNAMED --add-exports jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
    --add-exports jdk.attach/sun.tools.attach=ALL-UNNAMED
    --add-opens java.base/java.lang.module=ALL-UNNAMED --add-opens java.base/jdk.internal.loader=ALL-UNNAMED
    --add-opens java.base/jdk.internal.ref=ALL-UNNAMED --add-opens java.base/jdk.internal.reflect=ALL-UNNAMED
    --add-opens java.base/jdk.internal.math=ALL-UNNAMED --add-opens java.base/jdk.internal.module=ALL-UNNAMED
    --add-opens java.base/jdk.internal.util.jar=ALL-UNNAMED --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED
    --add-opens java.base/sun.nio.ch=ALL-UNNAMED --add-opens java.base/java.io=ALL-UNNAMED
    --add-opens java.base/java.lang.reflect=ALL-UNNAMED --add-opens jdk.compiler/com.sun.tools.javac=ALL-UNNAMED
    --add-opens java.base/java.lang=ALL-UNNAMED --add-opens java.base/java.util=ALL-UNNAMED
    -Dio.netty.tryReflectionSetAccessible=true -Dio.netty.allocator.useCacheForAllThreads=true -Dio.netty.allocator.maxOrder=11
    "-Xlog:gc*:file=$dir/logs/gc.log:time,uptime:filecount=3,filesize=10M"
    -javaagent:"$(ls "$CLIB"/jamm-*.jar | head -1)"
    -Dcassandra.jmx.local.port="$jmx" -Dcassandra.config="file://$dir/cassandra.yaml" -Dcassandra.storagedir="$dir/data"
    -Dcassandra.logdir="$dir/logs" -Dlogback.configurationFile="$ROOT/spate-bench/cassandra/logback.xml" -Dcassandra-foreground=yes
    # a fresh loopback cluster: 5 s instead of 30 s of RING_DELAY before the token allocation
    -Dcassandra.ring_delay_ms=5000 -Dcassandra.skip_wait_for_gossip_to_settle=0
  )
  t0="$(now_ms)"
  "$CASS_JAVA" "${flags[@]}" -cp "$CLIB/*" org.apache.cassandra.service.CassandraDaemon >"$dir/logs/stdout.log" 2>&1 &
  echo $! >"$dir/pid"; PID_FILES+=("$dir/pid")
  pid="$(cat "$dir/pid")"
  for ((i = 0; i < 3600; i++)); do
    if (exec 3<>"/dev/tcp/$addr/9042") 2>/dev/null; then
      say "cassandra $addr up in $(( $(now_ms) - t0 )) ms (pid $pid)"; echo "$(( $(now_ms) - t0 ))" >"$dir/startup_ms"; return 0
    fi
    kill -0 "$pid" 2>/dev/null || { echo "bench-tables: Cassandra $addr died during start-up:" >&2; tail -20 "$dir/logs/system.log" "$dir/logs/stdout.log" >&2; return 1; }
    sleep 0.1
  done
  echo "bench-tables: Cassandra $addr not up after 360 s" >&2; return 1
}
cassandra_up() {   # dir topo -> HOSTS, PIDFILES
  local dir="$1" n nodes=1; [[ "$2" == cluster3 ]] && nodes=3
  HOSTS=""; PIDFILES=""
  for ((n = 1; n <= nodes; n++)); do
    cass_yaml "$dir/node-$n" "127.0.0.$n" 127.0.0.1:7000
    cass_start "$dir/node-$n" "127.0.0.$n" "$((7198 + n))"
    HOSTS+="${HOSTS:+,}127.0.0.$n"; PIDFILES+="${PIDFILES:+,}$dir/node-$n/pid"
  done
}
spate_up() {   # dir topo -> HOSTS, PIDFILES
  local dir="$1" n nodes=1 base; [[ "$2" == cluster3 ]] && nodes=3
  base="$(free_base_port 3)"
  for ((n = 1; n <= nodes; n++)); do PID_FILES+=("$dir/cluster/node-$n/pid"); done
  run "$dir/cluster-up.log" "${SPATE[@]}" cluster up --nodes "$nodes" --dir "$dir/cluster" --base-port "$base" --timeout-s 120 \
    || { cat "$dir/cluster-up.log" >&2; return 1; }
  HOSTS="$(sed -n 's/^http: //p' "$dir/cluster-up.log" | tail -1)"
  [[ -n "$HOSTS" ]] || { echo "bench-tables: no 'http:' line from spate cluster up" >&2; cat "$dir/cluster-up.log" >&2; return 1; }
  PIDFILES=""; for ((n = 1; n <= nodes; n++)); do PIDFILES+="${PIDFILES:+,}$dir/cluster/node-$n/pid"; done
  say "spate $2 up: $HOSTS"
}
spate_down() { run "$1/cluster-down.log" "${SPATE[@]}" cluster down --dir "$1/cluster" --timeout-s 60 || warn "spate cluster down failed"; }

plan_for() {   # topo -> the phases
  local rate="$RATE_SINGLE" p="" d c; [[ "$1" == cluster3 ]] && rate="$RATE_CLUSTER"
  for d in "${DIST_LIST[@]}"; do for c in "${CL_LIST[@]}"; do
    p+="${p:+,}fixed:$rate:$c:$d,max:$INFLIGHT:$c:$d"
  done; done
  echo "$p"
}

measure() {   # run system topo
  local run="$1" sys="$2" topo="$3" dir="$WORK/run$1/$2-$3" rf=1 rc=0
  [[ "$topo" == cluster3 ]] && rf=3
  mkdir -p "$dir"
  say "run $run: $sys $topo starting"
  if [[ "$sys" == cassandra ]]; then cassandra_up "$dir" "$topo"; else spate_up "$dir" "$topo"; fi
  local -a cp_args
  if [[ "$sys" == cassandra ]]; then
    cp_args=(-Dlogback.configurationFile="$ROOT/spate-bench/cassandra/logback-client.xml" -cp "$CLIB/*:$WORK/bench-classes" io.spate.bench.TableKvBench --target=cql)
  else
    cp_args=(-cp "$DIST/lib/*:$WORK/bench-classes" io.spate.bench.TableKvBench --target="$SPATE_CLIENT" --connections="$CONNS" --durability="$SPATE_DURABILITY")
  fi
  vmstat 1 >"$dir/vmstat.log" 2>&1 & local vm=$!
  say "run $run: $sys $topo load: $(plan_for "$topo")"
  run "$dir/bench.log" "$JAVA" -Xms512m -Xmx2g -XX:+UseG1GC "${cp_args[@]}" --hosts="$HOSTS" --rf="$rf" --keys="$KEYS" \
    --label="$sys-$topo" --plan="$(plan_for "$topo")" --warmup-s="$WARMUP_S" --duration-s="$DURATION_S" --warm-s="$WARM_S" \
    --pid-files="$PIDFILES" || rc=$?
  kill "$vm" 2>/dev/null || true
  grep -E '^(target|PRELOAD|WARMUP|WARN|RESULT)' "$dir/bench.log" | sed 's/^/  /' || true
  (( rc == 0 )) || warn "run $run: $sys $topo: the load tool exited with $rc (see $dir/bench.log)"
  grep '^RESULT' "$dir/bench.log" | sed "s|^RESULT|RESULT run=$run system=$sys topo=$topo|" >>"$WORK/results.txt" || true
  if [[ "$sys" == cassandra ]]; then
    local f; for f in "$dir"/node-*/pid; do stop_all 60 "$f"; done
    for f in "$dir"/node-*/logs/system.log; do grep -E '^(WARN|ERROR)' "$f" >"$(dirname "$f")/warn-error.log" || true; done
  else
    spate_down "$dir"; stop_all 10 "$dir"/cluster/node-*/pid
  fi
  [[ "${KEEP_DATA:-0}" == 1 ]] || rm -rf "$dir"/node-*/data "$dir"/cluster/node-*/data
}

say "raw output in $WORK"
{
  echo "- date: $(date -u +%FT%TZ); machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- Spate: $SPATE_BUILD; \`spate cluster up\` node JVM defaults (-Xmx1g, G1); table durability $SPATE_DURABILITY; client: $SPATE_CLIENT; client JDK $("$JAVA" -version 2>&1 | head -1)"
  echo "- Cassandra 5.0.6 (cassandra-all from Maven Central) on $("$CASS_JAVA" -version 2>&1 | head -1), -Xmx$CASS_HEAP, commitlog periodic 10 s, num_tokens 16"
  echo "- workload: $KEYS keys preloaded at ALL, 1024-byte random values, 50 % reads / 50 % writes; keys ${DIST_LIST[*]} (zipf = theta 0.99, ranks permuted over the keys); CL ${CL_LIST[*]}"
  echo "- phases: fixed $RATE_SINGLE ops/s (single) / $RATE_CLUSTER ops/s (cluster3), latency from the intended send time; max = closed loop, $INFLIGHT in flight; ${WARMUP_S} s unrecorded + ${DURATION_S} s recorded each; ${WARM_S} s closed-loop warm-up after the preload; $RUNS run(s)"
} >"$WORK/settings.md"
for ((run = 1; run <= RUNS; run++)); do
  for topo in "${TOPOS[@]}"; do
    order=("${SYSTEMS[@]}")
    (( run % 2 )) || order=("${order[@]:1}" "${order[0]}")   # alternate which system goes first
    for sys in "${order[@]}"; do measure "$run" "$sys" "$topo" || warn "run $run: $sys $topo failed"; done
  done
done
rm -rf "$DIST"

{ echo "# Tables: Spate vs Apache Cassandra 5.0.6"; echo; cat "$WORK/settings.md"; echo; } >"$WORK/summary.md"
python3 "$ROOT/spate-bench/tables-report.py" "$WORK/results.txt" | tee -a "$WORK/summary.md"
if [[ -s "$WORK/warnings.txt" ]]; then { echo; echo "Warnings:"; cat "$WORK/warnings.txt"; } | tee -a "$WORK/summary.md"; fi
say "summary in $WORK/summary.md; RESULT lines in $WORK/results.txt"
