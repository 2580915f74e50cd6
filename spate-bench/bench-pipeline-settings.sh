#!/usr/bin/env bash
# What a pipeline's runtime settings cost: Spate's pipelines alone, one setting varied at a time, as
# fixed-rate steps of bench-pipelines.sh (same generator, latency consumer and pass rules, so the
# figures compare with its report). Answers "what do commit.interval.ms and batch.max.records do to
# latency and throughput" with medians over runs.
#
#   spate-bench/bench-pipeline-settings.sh [--runs N]
#
# Per run one Spate node (`spate start`'s JVM line), then every case on fresh topics and a fresh
# deploy; a first step at Spate's defaults warms the JVM up and is not reported. $CASES: one case per
# line, "MODE RATE [k=v,...]"; the default covers the exactly-once commit interval (topology A,
# 10k/s), the at-least-once commit interval (B, 10k/s) and the micro-batch limit under heavy load (B
# at-least-once, 150k/s). $WARMUP_S [10], $MEASURE_S [20], $DRAIN_S [10]. Holds
# /tmp/spate-build.lock (through bench-pipelines.sh). Raw logs and report.md in
# .bench/settings-run-<time>/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    *) echo "usage: $0 [--runs N]" >&2; exit 2 ;;
  esac
done
CASES="${CASES:-a-eos 10000 commit.interval.ms=10
a-eos 10000 commit.interval.ms=20
a-eos 10000 commit.interval.ms=50
a-eos 10000 commit.interval.ms=100
b-alos 10000 commit.interval.ms=100
b-alos 10000 commit.interval.ms=1000
b-alos 150000 batch.max.records=100
b-alos 150000 batch.max.records=1000
b-alos 150000 batch.max.records=10000}"
modes="b-alos"   # the warm-up step
while read -r mode rate settings; do
  [[ -n "$mode" ]] || continue
  token="$mode@$rate"
  [[ -n "${settings:-}" ]] && token="$token+${settings//,/+}"
  modes="$modes $token"
done <<<"$CASES"
WORK="$ROOT/.bench/settings-run-$(date -u +%Y%m%dT%H%M%SZ)"
PIPELINE_BENCH_WORK="$WORK" SYSTEMS=spate FIXED_MODES="$modes" CAP_MODES="" \
  WARMUP_S="${WARMUP_S:-10}" MEASURE_S="${MEASURE_S:-20}" DRAIN_S="${DRAIN_S:-10}" MAX_MINUTES="${MAX_MINUTES:-60}" \
  "$ROOT/spate-bench/bench-pipelines.sh" --runs "$RUNS" >"$WORK.log" 2>&1 || { echo "bench-pipeline-settings: bench-pipelines.sh failed:"; tail -30 "$WORK.log"; exit 1; }
mv "$WORK.log" "$WORK/bench-pipelines.log"
{ echo "## Pipeline settings on Spate, 1 node ($(date -u +%F), $(nproc) cores, $RUNS run(s), $(head -1 "$WORK/source-state.txt"))"; echo
  python3 - "$WORK/steps.tsv" <<'PY'
import statistics, sys
rows, order = {}, []
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    if len(f) < 8 or f[2] != "fixed" or "@" not in f[3]:
        continue
    spec, status, result = f[3], f[5], f[7]
    if spec not in rows:
        rows[spec] = []; order.append(spec)
    rows[spec].append(dict(x.split("=", 1) for x in result.split()[1:] if "=" in x) if status == "ok" else None)
def med(vals, name):
    xs = [float(v[name]) for v in vals if v and name in v]
    return statistics.median(xs) if xs else None
def fmt(x, digits=1):
    return "-" if x is None else (f"{x:,.0f}" if x >= 100 else f"{x:.{digits}f}")
print("| topology, guarantee | rate/s | setting | p50 ms | p99 ms | p99.9 ms | outputs/s | missing | CPU node, % of a core | machine idle % | runs ok |")
print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for spec in order:
    vals = rows[spec]; ok = [v for v in vals if v]
    mode, rest = spec.split("@", 1)
    rate, _, settings = rest.partition("+")
    topo, guarantee = mode.split("-")
    print(f"| {topo.upper()} {guarantee} | {int(rate):,} | {settings.replace('+', ', ') or 'defaults'} | {fmt(med(ok, 'p50_ms'), 2)} | "
          f"{fmt(med(ok, 'p99_ms'), 2)} | {fmt(med(ok, 'p999_ms'), 2)} | {fmt(med(ok, 'out_rate_by_recv'))} | {fmt(med(ok, 'missing'), 0)} | "
          f"{fmt(med(ok, 'cpu_broker'), 0)} | {fmt(med(ok, 'machine_idle'), 0)} | {len(ok)}/{len(vals)} |")
PY
  echo; echo "Medians over runs; per run one node, each case on fresh topics and a fresh deploy after a warm-up step;"
  echo "the other settings are Spate's defaults. Latency: produce-to-result as bench-pipelines.sh measures it."; } | tee "$WORK/report.md"
echo "bench-pipeline-settings: raw logs, steps.tsv and report.md in $WORK"
