#!/usr/bin/env bash
# Side-by-side benchmark: Apache Kafka 4.4.0 and Spate on this machine, one after the other in
# one run, driven by Kafka's own load tools. Not a test: it prints figures and ratios.
#
#   spate-bench/bench.sh [--runs N] [--quick]
#
# Per broker and run: start-up (process spawn -> first acknowledged produce of a client warmed up
# on an earlier start, see FirstProduceProbe), idle RSS,
# ProducerPerformance throughput (unthrottled) and service time (fixed 20k rec/s) for acks=1 and
# acks=all, transactional ProducerPerformance (--transactional-id, a commit every TXN_MS [100] ms),
# EndToEndLatency (Kafka's tool, whole ms), a microsecond ping-pong probe and the produce-to-result
# latency of a Kafka Streams app with exactly_once_v2 at STREAMS_RATE [5000] events/s
# (StreamsLatencyBench); for
# Spate also the embedded start (SpateNode.start() in a fresh JVM, EmbeddedStartProbe).
# Reports the median of the runs per metric and the ratio Spate/Kafka.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/find-java.sh"
spate_find_java || exit 1
spate_default_maven_opts

RUNS=3; QUICK=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    --quick) QUICK=1; RUNS=1; shift ;;
    *) echo "usage: $0 [--runs N] [--quick]" >&2; exit 2 ;;
  esac
done
TXN_MS="${TXN_MS:-100}"; STREAMS_RATE="${STREAMS_RATE:-5000}"; STREAMS_COMMIT_MS="${STREAMS_COMMIT_MS:-100 10}"
# SECTIONS picks what runs in each broker's turn: any of produce, e2e, txn, streams (default: all).
SECTIONS="${SECTIONS:-produce e2e txn streams}"
want() { [[ " $SECTIONS " == *" $1 "* ]]; }
if (( QUICK )); then N_TPUT=300000; N_LAT=60000; N_WARM=20000; N_E2E=2000; STREAMS_WARMUP_S=5; STREAMS_MEASURE_S=15
else N_TPUT=2000000; N_LAT=300000; N_WARM=100000; N_E2E=10000; STREAMS_WARMUP_S=10; STREAMS_MEASURE_S=30; fi

WORK="$ROOT/.bench/run-$(date -u +%Y%m%dT%H%M%SZ)"
LIB="$ROOT/.bench/kafka-lib"
mkdir -p "$WORK"
METRICS="$WORK/metrics.tsv"
: >"$METRICS"
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do [[ -n "$p" ]] && kill -9 "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# fetch_kafka_lib, tool, free_port, kafka_command, spate_command, start_broker, stop_broker
source "$ROOT/spate-bench/lib.sh"
fetch_kafka_lib
echo "bench: building Spate and the probes"
(cd "$ROOT" && ./mvnw -q -B -DskipTests install -pl spate-broker,spate-bench -am)
CP="$LIB/*:$ROOT/spate-bench/target/classes"
LOG4J="$ROOT/spate-bench/kafka/log4j2.properties"

record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$METRICS"; }   # run broker metric value

# ProducerPerformance's summary line -> metrics
perf_line() {   # run broker label file
  local line; line="$(grep -E 'records sent' "$4" | tail -1)"
  [[ -n "$line" ]] || { echo "bench: no summary in $4" >&2; return; }
  record "$1" "$2" "$3 records/s" "$(sed -E 's/.* ([0-9.]+) records\/sec.*/\1/' <<<"$line")"
  record "$1" "$2" "$3 p50 ms" "$(sed -E 's/.* ([0-9.]+) ms 50th.*/\1/' <<<"$line")"
  record "$1" "$2" "$3 p99 ms" "$(sed -E 's/.* ([0-9.]+) ms 99th.*/\1/' <<<"$line")"
  record "$1" "$2" "$3 p99.9 ms" "$(sed -E 's/.* ([0-9.]+) ms 99.9th.*/\1/' <<<"$line")"
}

measure() {   # run broker
  local run="$1" broker="$2" dir="$WORK/$2-run$1" port; port="$(free_port)"; mkdir -p "$dir"
  local bs="127.0.0.1:$port"
  echo "bench: run $run, $broker on $bs"
  start_broker "$broker" "$dir" "$port"
  record "$run" "$broker" "start-up to first ack ms" "$STARTUP_MS"
  sleep 5  # let start-up work settle before reading idle memory
  record "$run" "$broker" "idle RSS MB" "$(awk '/VmRSS/ {printf "%.0f", $2/1024}' /proc/"$BROKER_PID"/status)"
  tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$bs" --create --topic perf --partitions 6 --replication-factor 1 >/dev/null
  tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$bs" --create --topic e2e --partitions 1 --replication-factor 1 >/dev/null
  for acks in 1 all; do
    local a="acks=$acks"; [[ "$acks" == all ]] && a="acks=all"
    if want produce; then
      tool org.apache.kafka.tools.ProducerPerformance --bootstrap-server "$bs" --topic perf --num-records "$N_TPUT" --record-size 100 \
      --throughput -1 --command-property acks="$acks" linger.ms=5 batch.size=65536 >"$dir/tput-$acks.log" 2>&1
    perf_line "$run" "$broker" "produce $a unthrottled:" "$dir/tput-$acks.log"
    # The first records of a ProducerPerformance run wait for the tool's own JVM to warm up (up to
    # 0.5 s on either broker) and would make the tail; its --warmup-records keeps them out of the
    # steady-state summary, which is the line perf_line reads.
    tool org.apache.kafka.tools.ProducerPerformance --bootstrap-server "$bs" --topic perf --num-records "$N_LAT" --record-size 100 \
      --throughput 20000 --warmup-records "$N_WARM" --command-property acks="$acks" linger.ms=0 >"$dir/lat-$acks.log" 2>&1
    perf_line "$run" "$broker" "produce $a at 20k/s, steady state:" "$dir/lat-$acks.log"
    fi
    want e2e || continue
    tool org.apache.kafka.tools.EndToEndLatency --bootstrap-server "$bs" --topic e2e --num-records "$N_E2E" \
      --producer-acks "$acks" --record-size 100 >"$dir/e2e-tool-$acks.log" 2>&1 || true
    local pct; pct="$(grep -E 'Percentiles' "$dir/e2e-tool-$acks.log" | tail -1)"
    [[ -n "$pct" ]] && record "$run" "$broker" "EndToEndLatency $a p99 ms (whole ms)" "$(sed -E 's/.*99th = ([0-9.]+).*/\1/' <<<"$pct")"
    tool io.spate.bench.E2eLatencyProbe "$bs" e2e "$N_E2E" "$acks" 100 1000 >"$dir/e2e-probe-$acks.log" 2>&1
    local res; res="$(grep RESULT "$dir/e2e-probe-$acks.log" | tail -1)"
    for p in p50 p99 p999; do
      record "$run" "$broker" "e2e probe $a $p us" "$(sed -E "s/.*${p}_us=([0-9]+).*/\1/" <<<"$res")"
    done
  done
  # Transactions (KIP-98): ProducerPerformance commits a transaction every TXN_MS ms.
  if want txn; then
    tool org.apache.kafka.tools.ProducerPerformance --bootstrap-server "$bs" --topic perf --num-records "$N_TPUT" --record-size 100 \
      --throughput -1 --transactional-id "bench-txn-$run" --transaction-duration-ms "$TXN_MS" \
      --command-property acks=all linger.ms=5 batch.size=65536 >"$dir/tput-txn.log" 2>&1
    perf_line "$run" "$broker" "produce transactional (${TXN_MS} ms transactions) unthrottled:" "$dir/tput-txn.log"
  fi
  # Event processing time of a Kafka Streams 4.4 app (windowed count behind a repartition) with
  # exactly_once_v2, once per commit interval in STREAMS_COMMIT_MS.
  if want streams; then
    for cms in $STREAMS_COMMIT_MS; do
      tool io.spate.bench.StreamsLatencyBench "$bs" eos "$STREAMS_RATE" "$STREAMS_WARMUP_S" "$STREAMS_MEASURE_S" 6 1 "$cms" >"$dir/streams-eos-$cms.log" 2>&1 || true
      local sres; sres="$(grep RESULT "$dir/streams-eos-$cms.log" | tail -1)"
      for p in p50 p99 p999; do
        record "$run" "$broker" "Streams exactly_once_v2 at ${STREAMS_RATE}/s, commit ${cms} ms, produce-to-result $p ms" \
          "$(sed -E "s/.*${p}_us=([0-9]+).*/\1/" <<<"$sres" | awk '{printf "%.1f", $1/1000}')"
      done
      record "$run" "$broker" "Streams exactly_once_v2, commit ${cms} ms, results missing" "$(sed -E 's/.*missing=([0-9]+).*/\1/' <<<"$sres")"
    done
  fi
  stop_broker
  if [[ "$broker" == spate ]]; then
    # The embedded node as a user's test meets it: a fresh JVM with no class-data archive of ours.
    "$JAVA" -cp "$ROOT/spate-broker/target/spate.jar:$ROOT/spate-bench/target/classes" io.spate.bench.EmbeddedStartProbe >"$dir/embedded.log" 2>&1 || true
    record "$run" spate "embedded: SpateNode.start() in a fresh JVM ms" "$(awk '/EMBEDDED_START_MS/ {print $2}' "$dir/embedded.log")"
    record "$run" spate "embedded: start + first ack of a fresh producer ms" "$(awk '/EMBEDDED_FIRST_ACK_MS/ {print $2}' "$dir/embedded.log")"
  fi
}

# Spate's launcher creates its class-data archive on first start: do that once, untimed.
mkdir -p "$WORK/warmup"; start_broker spate "$WORK/warmup" "$(free_port)"; stop_broker; rm -rf "$WORK/warmup"

for ((run = 1; run <= RUNS; run++)); do
  if (( run % 2 )); then order=(kafka spate); else order=(spate kafka); fi
  for broker in "${order[@]}"; do measure "$run" "$broker"; done
done

python3 - "$METRICS" "$RUNS" <<'PY' | tee "$WORK/report.md"
import sys, statistics, collections
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
values = collections.defaultdict(lambda: collections.defaultdict(list))
order = []
for run, broker, metric, value in rows:
    if metric not in order:
        order.append(metric)
    try:
        values[metric][broker].append(float(value))
    except ValueError:
        pass
print(f"| metric (median of {sys.argv[2]} run(s)) | Kafka 4.4 | Spate | Spate/Kafka |")
print("|---|---:|---:|---:|")
for m in order:
    k, s = values[m].get("kafka"), values[m].get("spate")
    km = statistics.median(k) if k else None
    sm = statistics.median(s) if s else None
    ratio = f"{sm / km:.2f}" if km and sm is not None and km != 0 else "-"
    fmt = lambda v: "-" if v is None else (f"{v:,.0f}" if v >= 100 else f"{v:g}")
    print(f"| {m} | {fmt(km)} | {fmt(sm)} | {ratio} |")
print()
print("Records/s: higher is better; latencies, start-up and RSS: lower is better. On this shared")
print("2-core machine a ratio within ±15% of 1 is a tie.")
PY
echo "bench: raw logs and metrics.tsv in $WORK"
