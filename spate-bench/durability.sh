#!/usr/bin/env bash
# What each durability choice costs on Spate: the same load against a topic per flush policy on
# one node, with Kafka's ProducerPerformance (acks=1, 100-byte records, 6 partitions) and the
# microsecond ping-pong probe. Medians of --runs runs (default 3), policies alternating.
#
#   spate-bench/durability.sh [--runs N]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/find-java.sh"
spate_find_java || exit 1
RUNS=3
[[ "${1:-}" == --runs ]] && RUNS="$2"
LIB="$ROOT/.bench/kafka-lib"
ls "$LIB"/kafka-tools-4.4.0.jar >/dev/null 2>&1 || { echo "run spate-bench/bench.sh once first (it fetches Kafka's tools)" >&2; exit 1; }
CP="$LIB/*:$ROOT/spate-bench/target/classes"
LOG4J="$ROOT/spate-bench/kafka/log4j2.properties"
tool() { "$JAVA" -Xmx512m -Dlog4j2.configurationFile="$LOG4J" -cp "$CP" "$@"; }
WORK="$ROOT/.bench/durability-$(date -u +%Y%m%dT%H%M%SZ)"; mkdir -p "$WORK"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
BS="127.0.0.1:$PORT"
"$ROOT/spate" start --data-dir "$WORK/data" --port "$PORT" >"$WORK/node.log" 2>&1 &
NODE=$!
trap 'kill -TERM $NODE 2>/dev/null || true' EXIT
until grep -q "serving Kafka" "$WORK/node.log"; do sleep 0.2; done
declare -A POLICY=([os]="" [flush-every-1s]="--config flush.ms=1000" [fsync-every-ack]="--config flush.messages=1")
for name in os flush-every-1s fsync-every-ack; do
  # shellcheck disable=SC2086
  tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$BS" --create --topic "$name" --partitions 6 --replication-factor 1 ${POLICY[$name]} >/dev/null
  tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$BS" --create --topic "$name-e2e" --partitions 1 --replication-factor 1 ${POLICY[$name]} >/dev/null
done
: >"$WORK/metrics.tsv"
for ((run = 1; run <= RUNS; run++)); do
  for name in os flush-every-1s fsync-every-ack; do
    tool org.apache.kafka.tools.ProducerPerformance --bootstrap-server "$BS" --topic "$name" --num-records 1000000 --record-size 100 \
      --throughput -1 --command-property acks=1 linger.ms=5 batch.size=65536 >"$WORK/$name-tput-$run.log" 2>&1
    tool org.apache.kafka.tools.ProducerPerformance --bootstrap-server "$BS" --topic "$name" --num-records 100000 --record-size 100 \
      --throughput 10000 --command-property acks=1 linger.ms=0 >"$WORK/$name-lat-$run.log" 2>&1
    tool io.spate.bench.E2eLatencyProbe "$BS" "$name-e2e" 3000 1 100 500 >"$WORK/$name-e2e-$run.log" 2>&1
    t="$(grep 'records sent' "$WORK/$name-tput-$run.log" | tail -1 | sed -E 's/.* ([0-9.]+) records\/sec.*/\1/')"
    l="$(grep 'records sent' "$WORK/$name-lat-$run.log" | tail -1)"
    e="$(grep RESULT "$WORK/$name-e2e-$run.log" | tail -1)"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$t" "$(sed -E 's/.* ([0-9.]+) ms 50th.*/\1/' <<<"$l")" \
      "$(sed -E 's/.* ([0-9.]+) ms 99th.*/\1/' <<<"$l")" "$(sed -E 's/.*p50_us=([0-9]+).*/\1/' <<<"$e")" \
      "$(sed -E 's/.*p99_us=([0-9]+).*/\1/' <<<"$e")" "$(sed -E 's/.*p999_us=([0-9]+).*/\1/' <<<"$e")" >>"$WORK/metrics.tsv"
  done
done
python3 - "$WORK/metrics.tsv" "$RUNS" <<'PY'
import sys, statistics, collections
cols = ["records/s unthrottled", "p50 ms at 10k/s", "p99 ms at 10k/s", "e2e p50 µs", "e2e p99 µs", "e2e p99.9 µs"]
data = collections.defaultdict(lambda: [[] for _ in cols])
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    for i, v in enumerate(f[1:]):
        data[f[0]][i].append(float(v))
print(f"| topic policy (median of {sys.argv[2]}) | " + " | ".join(cols) + " |")
print("|---|" + "---:|" * len(cols))
for name, vals in data.items():
    print(f"| {name} | " + " | ".join(f"{statistics.median(v):,.0f}" if statistics.median(v) >= 100 else f"{statistics.median(v):g}" for v in vals) + " |")
PY
echo "raw logs in $WORK"
