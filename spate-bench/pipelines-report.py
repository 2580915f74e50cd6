#!/usr/bin/env python3
"""Report of bench-pipelines.sh: reads its steps.tsv and prints Markdown tables.

steps.tsv: run, system, kind (fixed|cap|broker|prime|restore), mode (a-alos...), rate, status, step dir, RESULT line.
Usage: pipelines-report.py STEPS_TSV RUNS RATE [SHAPE]   (SHAPE e.g. "3 nodes, RF 3"; default "1 node, RF 1")
"""
import collections
import glob
import os
import re
import statistics
import sys

steps_file, runs, fixed_rate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
shape = sys.argv[4] if len(sys.argv) > 4 else "1 node, RF 1"
NAMES = {"kafka": "Kafka 4.4 + Streams", "spate": "Spate"}
BAD_COUNTERS = ("dups", "unexpected", "wrong", "count_breaks", "errors")


def parse(line):
    return dict(x.split("=", 1) for x in line.split()[1:] if "=" in x) if line else {}


def mode_name(mode):
    topo, guar = mode.split("-", 1)
    return f"{topo.upper()} {guar}"


steps = []
for raw in open(steps_file):
    f = raw.rstrip("\n").split("\t")
    if len(f) < 7:
        continue
    f += [""] * (8 - len(f))
    run, system, kind, mode, rate, status, d, result = f[:8]
    steps.append(dict(run=int(run), system=system, kind=kind, mode=mode, rate=int(rate) if rate.isdigit() else 0,
                      status=status, dir=d, r=parse(result)))


def passed(s):
    r = s["r"]
    return (s["status"] == "ok" and float(r.get("p99_ms", 1e9)) < 1000 and int(r.get("missing", 1)) == 0
            and int(r.get("errors", 1)) == 0 and float(r.get("max_sched_lag_ms", 1e9)) < 1000)


def why_failed(s):
    if s["status"] != "ok":
        return s["status"]
    r, why = s["r"], []
    if float(r.get("p99_ms", 1e9)) >= 1000:
        why.append(f"p99 {float(r['p99_ms']):,.0f} ms")
    if int(r.get("missing", 1)) != 0:
        why.append(f"{r.get('missing')} missing")
    if int(r.get("errors", 1)) != 0:
        why.append(f"{r.get('errors')} send errors")
    if float(r.get("max_sched_lag_ms", 1e9)) >= 1000:
        why.append(f"generator {float(r['max_sched_lag_ms']):,.0f} ms behind")
    return ", ".join(why)


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:g}"


def median(xs):
    return statistics.median(xs) if xs else None


def ratio(k, s):
    return f"{s / k:.2f}" if k and s is not None else "-"


def cpu_app(r, system):
    b = float(r.get("cpu_broker", "nan"))
    a = float(r.get("cpu_streams", "0")) if system == "kafka" else 0.0
    return b + a


# ---- fixed rate
modes = []
for s in steps:
    if s["kind"] == "fixed" and s["mode"] not in modes:
        modes.append(s["mode"])
print(f"### Fixed rate: {fixed_rate:,} events/s ({shape})")
print()
print(f"| metric (median of {runs} run(s)) | {NAMES['kafka']} | {NAMES['spate']} | Spate/Kafka |")
print("|---|---:|---:|---:|")
for mode in modes:
    rows = [("p50 ms", "p50_ms"), ("p99 ms", "p99_ms"), ("p99.9 ms", "p999_ms"), ("max ms", "max_ms"),
            ("missing", "missing"), ("duplicates", "dups"), ("wrong or unexpected outputs, broken counts", None),
            ("CPU broker + streams app, % of a core", "cpu"), ("outputs/s", "out_rate_by_recv")]
    for label, key in rows:
        vals = {}
        for sysname in ("kafka", "spate"):
            xs = []
            for s in steps:
                if s["kind"] != "fixed" or s["mode"] != mode or s["system"] != sysname:
                    continue
                if s["status"] != "ok" or not s["r"]:
                    continue
                r = s["r"]
                if key is None:
                    xs.append(float(r.get("wrong", 0)) + float(r.get("unexpected", 0)) + float(r.get("count_breaks", 0)))
                elif key == "cpu":
                    xs.append(cpu_app(r, sysname))
                else:
                    xs.append(float(r.get(key, "nan")))
            failed = [s["status"] for s in steps if s["kind"] == "fixed" and s["mode"] == mode and s["system"] == sysname
                      and s["status"] != "ok"]
            vals[sysname] = median(xs) if xs else (failed[0] if failed else None)
        k, sp = vals["kafka"], vals["spate"]
        rt = ratio(k, sp) if isinstance(k, float) and isinstance(sp, float) and (label.endswith("ms") or label.startswith("CPU")) else "-"
        print(f"| {mode_name(mode)}: {label} | {fmt(k)} | {fmt(sp)} | {rt} |")
print()

# ---- capacity
# $CAP_MODES (from bench-pipelines.sh) also names the modes whose ladder stopped at the fixed-rate step
cap_modes = [m for m in os.environ.get("CAP_MODES", "").split() if any(s["mode"] == m for s in steps)]
for s in steps:
    if s["kind"] == "cap" and s["mode"] not in cap_modes:
        cap_modes.append(s["mode"])
if cap_modes:
    print(f"### Capacity ({shape}): the highest rate with p99 < 1 s (and nothing missing)")
    print()
    print(f"| mode (median of {runs} run(s)) | {NAMES['kafka']} | {NAMES['spate']} | Spate/Kafka | first failing rung (Kafka / Spate) |")
    print("|---|---:|---:|---:|---|")
    for mode in cap_modes:
        best, first_fail, open_top, below = {}, {}, {}, {}
        for sysname in ("kafka", "spate"):
            caps, fails, opens, lows = [], [], [], []
            for run in range(1, runs + 1):
                ladder = [s for s in steps if s["run"] == run and s["system"] == sysname and s["mode"] == mode
                          and (s["kind"] == "cap" or (s["kind"] == "fixed" and s["rate"] == fixed_rate))]
                if not ladder:
                    continue
                ladder.sort(key=lambda s: s["rate"])
                top, fail = 0, None
                for s in ladder:
                    if s["status"].startswith("skipped"):
                        fail = f"{s['rate'] // 1000}k skipped (time budget)"
                        break
                    if passed(s):
                        top = max(top, s["rate"])
                    else:
                        fail = f"{s['rate'] // 1000}k: {why_failed(s)}"
                        break
                caps.append(top)
                fails.append(fail or "none (top rung passed)")
                opens.append(fail is None or "skipped" in fail)
                lows.append(ladder[0]["rate"])
            best[sysname] = median(caps) if caps else None
            first_fail[sysname] = "; ".join(fails) if fails else "-"
            open_top[sysname] = any(opens)
            # no rung passed, not even the lowest: the capacity is below it
            below[sysname] = min(lows) if caps and max(caps) == 0 and not any(opens) else None
        show = {k: ("< " + fmt(below[k]) if below[k] else ("≥ " if open_top[k] else "") + fmt(v) if v is not None else "-")
                for k, v in best.items()}
        print(f"| {mode_name(mode)} events/s | {show['kafka']} | {show['spate']} | {ratio(best['kafka'], best['spate'])} "
              f"| {first_fail['kafka']} / {first_fail['spate']} |")
    print()
    print(f"Every rung (fresh topics and app each; CPU in % of one core, the machine has {os.cpu_count() * 100} %"
      + ("; broker = the 3 nodes together" if shape.startswith("3") else "") + "):")
    print()
    print("| run | system | mode | rate/s | p50 ms | p99 ms | p99.9 ms | missing | out/s | CPU broker / app / bench | idle | verdict |")
    print("|---:|---|---|---:|---:|---:|---:|---:|---:|---|---:|---|")
    for s in steps:
        if not (s["kind"] == "cap" or (s["kind"] == "fixed" and s["mode"] in cap_modes)):
            continue
        r = s["r"]
        g = lambda k: fmt(float(r[k])) if k in r else "-"
        cpu = f"{r.get('cpu_broker', '-')} / {r.get('cpu_streams', 'in broker' if s['system'] == 'spate' else '-')} / {r.get('cpu_bench', '-')}"
        verdict = "skipped" if s["status"].startswith("skipped") else ("pass" if passed(s) else "fail: " + why_failed(s))
        print(f"| {s['run']} | {s['system']} | {mode_name(s['mode'])} | {s['rate']:,} | {g('p50_ms')} | {g('p99_ms')} | {g('p999_ms')} "
              f"| {r.get('missing', '-')} | {g('out_rate_by_recv')} | {cpu} | {r.get('machine_idle', '-')} | {verdict} |")
    print()

# ---- restore after a kill -9 (Spate, one node)
restores = [s for s in steps if s["kind"] == "restore"]
if restores:
    print(f"### Restore after kill -9 (Spate, {shape})")
    print()
    print("| mode | changelog records restored | slowest task's restore ms | node start to every task RUNNING, ms | runs ok |")
    print("|---|---:|---:|---:|---:|")
    specs = []
    for s in restores:
        if s["mode"] not in specs:
            specs.append(s["mode"])
    for spec in specs:
        ok = [s["r"] for s in restores if s["mode"] == spec and s["status"] == "ok" and s["r"]]
        def med(key):
            xs = [float(r[key]) for r in ok if key in r]
            return fmt(statistics.median(xs)) if xs else "-"
        total = sum(1 for s in restores if s["mode"] == spec)
        print(f"| {mode_name(spec)} | {med('restored_records')} | {med('restore_ms_max')} | {med('start_to_running_ms')} | {len(ok)}/{total} |")
    print()

# ---- correctness
problems = []
for s in steps:
    r = s["r"]
    bad = {k: r[k] for k in BAD_COUNTERS if k in r and r[k] not in ("0", "")}
    if s["kind"] == "fixed" and r and r.get("missing", "0") != "0":
        bad["missing"] = r["missing"]
    if s["status"] not in ("ok",) and not s["status"].startswith("skipped"):
        bad["status"] = s["status"]
    if bad:
        problems.append((s, bad))
print("### Correctness")
print()
if not problems:
    print(f"No step lost, repeated or garbled an output: missing = 0 at {fixed_rate:,}/s, and no duplicates, wrong or "
          "unexpected outputs or broken per-window counts on any step (missing outputs on a capacity rung that failed "
          "are overload, shown in the rung table).")
for s, bad in problems:
    print(f"- **{s['system']} {mode_name(s['mode']) if s['mode'] != '-' else ''} {s['kind']} @ {s['rate']:,}/s, run {s['run']}**: "
          + ", ".join(f"{k}={v}" for k, v in bad.items()) + f"  (logs: `{s['dir']}`)")
    d = s["dir"]
    excerpts = []
    for name, pattern, limit in (("bench.log", r"^(MISSING|WRONG|SEND_ERROR|SLICES)", 14), ("deploy.log", r".", 15),
                                 ("describe-before.log", r".", 20), ("describe-after.log", r".", 20), ("app.log", r"(ERROR|Exception)", 10),
                                 ("setup.log", r"(Exception|error)", 5), ("delete.log", r".", 5)):
        path = os.path.join(d, name)
        if not os.path.exists(path):
            continue
        if name in ("deploy.log", "describe-before.log") and "status" not in bad:
            continue
        lines = [l.rstrip() for l in open(path, errors="replace") if re.search(pattern, l)]
        if lines:
            excerpts.append(f"    {name}:")
            excerpts += ["      " + l[:300] for l in lines[:limit]]
    broker_dir = os.path.join(os.path.dirname(d), "broker")
    node_logs = [os.path.join(broker_dir, "broker.log")] + sorted(glob.glob(os.path.join(broker_dir, "cluster", "node-*", "node.log")))
    for broker_log in node_logs:
        if s["system"] != "spate" or not os.path.exists(broker_log):
            continue
        lines = [l.rstrip() for l in open(broker_log, errors="replace") if re.search(r"\b(WARN|ERROR)\b", l)]
        if lines:
            excerpts.append(f"    {os.path.relpath(broker_log, broker_dir)} (WARN/ERROR, {len(lines)} lines, first 10):")
            excerpts += ["      " + l[:300] for l in lines[:10]]
    if excerpts:
        print("\n".join(excerpts))
print()
print("Latencies: lower is better; on this shared 2-core machine a ratio within ±15% of 1 is a tie. Every step starts a")
print("fresh Kafka Streams JVM (as the anchor does), while Spate's pipelines run in a broker JVM that earlier steps have")
print("warmed up; the generator and latency consumer (one JVM) share the two cores with both.")
