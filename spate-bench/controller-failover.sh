#!/usr/bin/env bash
# How often killing the controller's node makes the surviving nodes give their roles up.
#
#   spate-bench/controller-failover.sh [RUNS]   (default 10)
#
# Per run: a fresh 3-node cluster (`spate cluster up`, loopback, base port $BASE_PORT [29092]),
# 4 s to settle (and until a node leads the controller quorum), then kill -9 of the node that leads the controller quorum; 5 s later, for each
# surviving node, how many times it gave every role up ("no longer leading any partition" in its
# node.log) and when the new controller was elected. Prints one line per run and the total.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
RUNS="${1:-10}"
BASE_PORT="${BASE_PORT:-29092}"
DIR="$(mktemp -d /tmp/spate-ctlkill.XXXXXX)"
trap '"$ROOT/spate" cluster down --dir "$DIR/c" >/dev/null 2>&1 || true; rm -rf "$DIR"' EXIT
fences=0; observed=0
for i in $(seq 1 "$RUNS"); do
  rm -rf "$DIR/c"
  "$ROOT/spate" cluster up --nodes 3 --dir "$DIR/c" --base-port "$BASE_PORT" >"$DIR/up.log" 2>&1
  sleep 4
  ctl=""
  for _ in $(seq 1 30); do
    status="$("$ROOT/spate" cluster status --dir "$DIR/c")"
    ctl="$(awk '$6 == "yes" {print $1}' <<<"$status")"
    [[ -n "$ctl" ]] && break
    sleep 1
  done
  [[ -n "$ctl" ]] || { echo "run $i: no controller leader after 34 s; skipped"; "$ROOT/spate" cluster down --dir "$DIR/c" >/dev/null 2>&1 || true; continue; }
  pid="$(awk -v c="$ctl" '$1 == c {print $4}' <<<"$status")"
  killed="$(date -u +%T.%3N)"
  kill -9 "$pid"
  sleep 5
  line="run $i: killed node $ctl (controller) at $killed ->"
  for n in 1 2 3; do
    [[ "$n" == "$ctl" ]] && continue
    log="$DIR/c/node-$n/node.log"
    f="$(grep -c "no longer leading any partition" "$log" || true)"
    elected="$(grep "now leads the controller quorum" "$log" | tail -1 | cut -c12-23 || true)"
    line="$line node $n gave its roles up ${f}x${elected:+, elected controller at $elected}"
    fences=$((fences + f)); observed=$((observed + 1))
  done
  echo "$line"
  "$ROOT/spate" cluster down --dir "$DIR/c" >/dev/null 2>&1 || true
done
echo "surviving nodes that gave their roles up: $fences of $observed"
