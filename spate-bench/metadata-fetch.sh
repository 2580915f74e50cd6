#!/usr/bin/env bash
# What the nodes that are not controller voters fetch of the metadata, on a 6-node local cluster
# (3 voters, nodes 4-6 not): the counters of their /metrics after the start, after TOPICS topics
# of 12 partitions (RF 3), after CHANGES config changes of one topic, and after a kill -9 and
# restart of node 6.
#
#   spate-bench/metadata-fetch.sh [TOPICS [CHANGES]]   (default 100 50)
#
# Loopback, base port $BASE_PORT [24000] (HTTP on BASE_PORT+200...).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TOPICS="${1:-100}"
CHANGES="${2:-50}"
BASE_PORT="${BASE_PORT:-24000}"
DIR="$(mktemp -d /tmp/spate-mdfetch.XXXXXX)"
trap '"$ROOT/spate" cluster down --dir "$DIR/c" >/dev/null 2>&1 || true; rm -rf "$DIR"' EXIT
BOOTSTRAP="127.0.0.1:$BASE_PORT"

counters() {
  echo "$1:"
  for node in 4 5 6; do
    printf '  node %s: ' "$node"
    curl -s "http://127.0.0.1:$((BASE_PORT + 200 + node - 1))/metrics" \
      | grep -E '^spate_metadata_fetch' | sed 's/spate_metadata_//; s/_total//' | tr '\n' ' '
    echo
  done
}

"$ROOT/spate" cluster up --nodes 6 --dir "$DIR/c" --base-port "$BASE_PORT" >"$DIR/up.log"
sleep 3
counters "after the start"
"$ROOT/spate" topic create --bootstrap-server "$BOOTSTRAP" -p 12 -r 3 --timeout 60000 $(seq -f "md-%03g" 1 "$TOPICS") >/dev/null
sleep 3
counters "after $TOPICS topics of 12 partitions, RF 3"
for i in $(seq 1 "$CHANGES"); do
  "$ROOT/spate" topic alter-config --bootstrap-server "$BOOTSTRAP" md-001 --set "retention.ms=$((i * 1000))" >/dev/null
done
sleep 3
counters "after $CHANGES config changes"
kill -9 "$(pgrep -f "$DIR/c/node-6" | head -1)"
sleep 1
"$ROOT/spate" cluster up --nodes 6 --dir "$DIR/c" --base-port "$BASE_PORT" >"$DIR/up2.log"
sleep 5
counters "after a kill -9 and restart of node 6"
