#!/usr/bin/env bash
# HTTP ingest benchmark: records into one Spate node over its HTTP API, driven by wrk (Debian's
# package, installed when missing), against the same records sent through Spate's Kafka protocol
# with Kafka's own ProducerPerformance, in one run. Not a test: it prints figures and ratios.
#
#   spate-bench/bench-http.sh [--runs N] [--quick]
#
# Per run, a fresh `spate start` (HTTP on) and a topic `ingest` of 6 partitions, then:
#   Kafka protocol, unthrottled: ProducerPerformance, 100-byte values, acks=all, linger.ms=5,
#       batch.size=65536 (as bench.sh): records/s.
#   HTTP NDJSON, unthrottled: wrk, $CONNS [8] keep-alive connections on 2 threads for $SECONDS_RUN
#       [15] s, each request $BATCH [100] records of 100-byte values as NDJSON (acks=all, the HTTP
#       default): records/s = requests/s x $BATCH.
#   HTTP single record, unthrottled: wrk as above, one record per request (raw body): records/s.
#   At a fixed rate of $RATE [10000] records/s: ProducerPerformance --throughput $RATE, linger.ms=0,
#       acks=all, steady state after --warmup-records; and wrk with single-record requests paced to
#       $RATE requests/s (http/single-paced.lua: a per-thread schedule, $PACED_CONNS [64]
#       connections so that a slow answer does not slow the schedule): p50 and p99.
# Every wrk step is preceded by a 5 s warm-up of the same load, not measured. After the run the
# topic must hold at least every record the tools counted as written (a 207 or a lost write would
# show here); a shortfall is reported, never hidden.
# Reports the median over runs and HTTP/Kafka-protocol; raw logs in .bench/http-run-<time>/.
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
CONNS="${CONNS:-8}"; PACED_CONNS="${PACED_CONNS:-64}"; BATCH="${BATCH:-100}"; RATE="${RATE:-10000}"
if (( QUICK )); then SECONDS_RUN=5; N_TPUT=300000; N_LAT=60000; N_WARM=20000
else SECONDS_RUN="${SECONDS_RUN:-15}"; N_TPUT=2000000; N_LAT=200000; N_WARM=50000; fi

if ! command -v wrk >/dev/null 2>&1; then
  echo "bench: wrk not found; installing Debian's wrk package"
  SUDO=""; [[ "$(id -u)" -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk >/dev/null
fi
command -v wrk >/dev/null || { echo "bench: wrk is required (apt-get install wrk)" >&2; exit 1; }

WORK="$ROOT/.bench/http-run-$(date -u +%Y%m%dT%H%M%SZ)"
LIB="$ROOT/.bench/kafka-lib"
mkdir -p "$WORK"
METRICS="$WORK/metrics.tsv"
: >"$METRICS"
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do [[ -n "$p" ]] && kill -9 "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# fetch_kafka_lib, tool, free_port, spate_command, start_broker, stop_broker
source "$ROOT/spate-bench/lib.sh"
fetch_kafka_lib
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  echo "bench: building Spate and the probes"
  (cd "$ROOT" && flock /tmp/spate-build.lock ./mvnw -q -B -DskipTests install -pl spate-broker,spate-bench -am)
fi
CP="$LIB/*:$ROOT/spate-bench/target/classes"
LOG4J="$ROOT/spate-bench/kafka/log4j2.properties"
HTTP_LUA="$ROOT/spate-bench/http"

record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$METRICS"; }   # run metric value

# ProducerPerformance's summary line -> metrics
perf_line() {   # run label file
  local line; line="$(grep -E 'records sent' "$3" | tail -1)"
  [[ -n "$line" ]] || { echo "bench: no summary in $3" >&2; return; }
  record "$1" "$2 records/s" "$(sed -E 's/.* ([0-9.]+) records\/sec.*/\1/' <<<"$line")"
  record "$1" "$2 p50 ms" "$(sed -E 's/.* ([0-9.]+) ms 50th.*/\1/' <<<"$line")"
  record "$1" "$2 p99 ms" "$(sed -E 's/.* ([0-9.]+) ms 99th.*/\1/' <<<"$line")"
}

# wrk's --latency output -> milliseconds for a percentile line ("  99%  1.23ms")
wrk_pct_ms() {   # file pct
  awk -v p="$2%" '$1 == p {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /m$/) {sub(/m$/,"",v); v*=60000} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; printf "%.2f", v}' "$1"
}
wrk_requests() { awk '/requests in/ {print $1}' "$1"; }
wrk_rate() { awk '/^Requests\/sec:/ {print $2}' "$1"; }
wrk_failed() {   # answers >= 400 plus socket errors
  local bad; bad="$(awk '/^NOT_200/ {print $2}' "$1")"
  local sock; sock="$(awk -F'[ ,]+' '/Socket errors/ {print $4+$6+$8+$10}' "$1")"
  echo $(( ${bad:-0} + ${sock:-0} ))
}

run_wrk() {   # file conns lua [env...] -> runs a 5 s warm-up then the measured run
  local file="$1" conns="$2" lua="$3"; shift 3
  env "$@" wrk -t2 -c"$conns" -d5s -s "$lua" "http://127.0.0.1:$HTTP_PORT" >"$file.warmup" 2>&1 || true
  env "$@" wrk -t2 -c"$conns" -d"${SECONDS_RUN}s" --latency --timeout 10s -s "$lua" "http://127.0.0.1:$HTTP_PORT" >"$file" 2>&1 || true
}

measure() {   # run
  local run="$1" dir="$WORK/run$1" port; port="$(free_port)"; mkdir -p "$dir"
  HTTP_PORT="$(free_port)"
  local bs="127.0.0.1:$port"
  echo "bench: run $run, spate on $bs, HTTP on $HTTP_PORT"
  SPATE_START_ARGS="--http-port $HTTP_PORT" start_broker spate "$dir" "$port"
  tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$bs" --create --topic ingest --partitions 6 --replication-factor 1 >/dev/null
  local expected=0

  tool org.apache.kafka.tools.ProducerPerformance --bootstrap-server "$bs" --topic ingest --num-records "$N_TPUT" --record-size 100 \
    --throughput -1 --command-property acks=all linger.ms=5 batch.size=65536 >"$dir/kafka-tput.log" 2>&1
  perf_line "$run" "Kafka protocol, unthrottled:" "$dir/kafka-tput.log"
  expected=$((expected + N_TPUT))

  run_wrk "$dir/http-ndjson.log" "$CONNS" "$HTTP_LUA/ndjson.lua" BATCH="$BATCH" TOPIC=ingest
  record "$run" "HTTP NDJSON (${BATCH}/request), unthrottled: records/s" "$(awk -v r="$(wrk_rate "$dir/http-ndjson.log")" -v b="$BATCH" 'BEGIN {printf "%.0f", r*b}')"
  record "$run" "HTTP NDJSON (${BATCH}/request), unthrottled: request p99 ms" "$(wrk_pct_ms "$dir/http-ndjson.log" 99)"
  record "$run" "HTTP NDJSON failed requests" "$(( $(wrk_failed "$dir/http-ndjson.log.warmup") + $(wrk_failed "$dir/http-ndjson.log") ))"
  expected=$((expected + BATCH * ( $(wrk_requests "$dir/http-ndjson.log.warmup") + $(wrk_requests "$dir/http-ndjson.log") ) ))

  run_wrk "$dir/http-single.log" "$CONNS" "$HTTP_LUA/single-paced.lua" RATE=100000000 THREADS=2 TOPIC=ingest
  record "$run" "HTTP single record, unthrottled: records/s" "$(wrk_rate "$dir/http-single.log" | awk '{printf "%.0f", $1}')"
  record "$run" "HTTP single record failed requests" "$(( $(wrk_failed "$dir/http-single.log.warmup") + $(wrk_failed "$dir/http-single.log") ))"
  expected=$((expected + $(wrk_requests "$dir/http-single.log.warmup") + $(wrk_requests "$dir/http-single.log") ))

  tool org.apache.kafka.tools.ProducerPerformance --bootstrap-server "$bs" --topic ingest --num-records "$N_LAT" --record-size 100 \
    --throughput "$RATE" --warmup-records "$N_WARM" --command-property acks=all linger.ms=0 >"$dir/kafka-rate.log" 2>&1
  perf_line "$run" "Kafka protocol at ${RATE}/s, steady state:" "$dir/kafka-rate.log"
  expected=$((expected + N_LAT))

  run_wrk "$dir/http-paced.log" "$PACED_CONNS" "$HTTP_LUA/single-paced.lua" RATE="$RATE" THREADS=2 TOPIC=ingest
  record "$run" "HTTP single record at ${RATE}/s: achieved requests/s" "$(wrk_rate "$dir/http-paced.log" | awk '{printf "%.0f", $1}')"
  record "$run" "HTTP single record at ${RATE}/s: p50 ms" "$(wrk_pct_ms "$dir/http-paced.log" 50)"
  record "$run" "HTTP single record at ${RATE}/s: p99 ms" "$(wrk_pct_ms "$dir/http-paced.log" 99)"
  record "$run" "HTTP single record at ${RATE}/s failed requests" "$(( $(wrk_failed "$dir/http-paced.log.warmup") + $(wrk_failed "$dir/http-paced.log") ))"
  expected=$((expected + $(wrk_requests "$dir/http-paced.log.warmup") + $(wrk_requests "$dir/http-paced.log") ))

  # Every record the tools counted as written is in the topic (wrk counts a request when its
  # answer came; a 200 means all of its records were appended).
  local held; held="$(tool org.apache.kafka.tools.GetOffsetShell --bootstrap-server "$bs" --topic ingest 2>/dev/null | awk -F: '{s+=$3} END {print s+0}')"
  record "$run" "records in the topic minus records counted written (>= 0 expected)" "$((held - expected))"
  stop_broker
}

# Spate's launcher creates its class-data archive on first start: do that once, untimed.
mkdir -p "$WORK/warmup"; start_broker spate "$WORK/warmup" "$(free_port)"; stop_broker; rm -rf "$WORK/warmup"

for ((run = 1; run <= RUNS; run++)); do measure "$run"; done

python3 - "$METRICS" "$RUNS" <<'PY' | tee "$WORK/report.md"
import sys, statistics, collections
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
values = collections.defaultdict(list)
order = []
for run, metric, value in rows:
    if metric not in order:
        order.append(metric)
    try:
        values[metric].append(float(value))
    except ValueError:
        pass
med = {m: statistics.median(v) for m, v in values.items() if v}
fmt = lambda v: "-" if v is None else (f"{v:,.0f}" if abs(v) >= 100 else f"{v:g}")
print(f"| metric (Spate, one node; median of {sys.argv[2]} run(s)) | value | all runs |")
print("|---|---:|---|")
for m in order:
    print(f"| {m} | {fmt(med.get(m))} | {', '.join(fmt(v) for v in values[m])} |")
def ratio(a, b):
    return f"{med[a] / med[b]:.2f}" if a in med and b in med and med[b] else "-"
kafka = "Kafka protocol, unthrottled: records/s"
print()
print("| ratio | value |")
print("|---|---:|")
for m in order:
    if m.startswith("HTTP") and m.endswith("unthrottled: records/s"):
        print(f"| {m.split(':')[0]} / Kafka protocol, records/s | {ratio(m, kafka)} |")
rate_p99 = [m for m in order if m.startswith("Kafka protocol at") and m.endswith("p99 ms")]
http_p99 = [m for m in order if m.startswith("HTTP single record at") and m.endswith("p99 ms")]
if rate_p99 and http_p99:
    print(f"| HTTP single record / Kafka protocol, p99 at the fixed rate | {ratio(http_p99[0], rate_p99[0])} |")
PY
