#!/usr/bin/env python3
"""RESULT lines of bench-tables.sh -> markdown: medians per phase, Spate/Cassandra ratios, targets."""
import collections
import statistics
import sys

rows = []
for line in open(sys.argv[1]):
    if not line.startswith("RESULT"):
        continue
    d = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
    rows.append(d)

def key(d):
    load = f"fixed {d['target_ops_s']}/s" if d["mode"] == "fixed" else f"max, {d['inflight']} in flight"
    return (d["topo"], d["dist"], d["cl"], d["mode"], load)

groups = collections.OrderedDict()
for d in rows:
    groups.setdefault(key(d), collections.defaultdict(list))[d["system"]].append(d)

def med(ds, f, scale=1.0):
    vals = [float(x[f]) / scale for x in ds if f in x]
    return statistics.median(vals) if vals else None

def fmt(v):
    if v is None:
        return "-"
    return f"{v:,.0f}" if v >= 100 else (f"{v:.1f}" if v >= 10 else f"{v:.2f}")

def ratio(s, c):
    return f"{s / c:.2f}" if s is not None and c not in (None, 0) else "-"

print("Latencies in ms (reads and writes together), from the intended send time in the fixed phases; medians over the runs.")
print()
print("| topology | keys | CL | load | runs | Cassandra ops/s | Spate ops/s | ops/s S/C | Cassandra p50 / p99 / p99.9 | Spate p50 / p99 / p99.9 | p99 S/C | errors C / S | client cores C / S | server cores C / S | idle % C / S | load avg C / S |")
print("|---|---|---|---|---:|---:|---:|---:|---|---|---:|---|---|---|---|---|")
verdict = []
for k, by in groups.items():
    topo, dist, cl, mode, load = k
    c, s = by.get("cassandra", []), by.get("spate", [])
    co, so = med(c, "ops_s"), med(s, "ops_s")
    lat = lambda ds: " / ".join(fmt(med(ds, f"all_{p}_us", 1000.0)) for p in ("p50", "p99", "p999"))
    cp99, sp99 = med(c, "all_p99_us", 1000.0), med(s, "all_p99_us", 1000.0)
    err = lambda ds: fmt(med(ds, "errors"))
    pair = lambda f: f"{fmt(med(c, f))} / {fmt(med(s, f))}"
    print(f"| {topo} | {dist} | {cl} | {load} | {max(len(c), len(s))} | {fmt(co)} | {fmt(so)} | {ratio(so, co)} | {lat(c)} | {lat(s)} "
          f"| {ratio(sp99, cp99)} | {err(c)} / {err(s)} | {pair('cli_cores')} | {pair('srv_cores')} | {pair('cpu_idle_pct')} | {pair('loadavg1')} |")
    if mode == "max" and co and so:
        verdict.append(f"- {topo} {dist} {cl} throughput (closed loop): Spate/Cassandra {so / co:.2f} -> {'met' if so >= co else 'NOT met'} (target >= 1)")
    if mode == "fixed" and cp99 and sp99:
        verdict.append(f"- {topo} {dist} {cl} p99 at {load}: Spate/Cassandra {sp99 / cp99:.2f} -> {'met' if sp99 <= cp99 / 2 else 'NOT met'} (target <= 0.5)")
print()
print("Targets of issue 14 (throughput at least Cassandra's, p99 at most half of Cassandra's):")
print()
print("\n".join(verdict) if verdict else "- no complete pair of results")
print()
print("Reads and writes apart (medians, ms, p50 / p99 / p99.9):")
print()
print("| topology | keys | CL | load | Cassandra read | Cassandra write | Spate read | Spate write | not found C / S |")
print("|---|---|---|---|---|---|---|---|---|")
for k, by in groups.items():
    topo, dist, cl, mode, load = k
    c, s = by.get("cassandra", []), by.get("spate", [])
    lat = lambda ds, x: " / ".join(fmt(med(ds, f"{x}_{p}_us", 1000.0)) for p in ("p50", "p99", "p999"))
    print(f"| {topo} | {dist} | {cl} | {load} | {lat(c, 'r')} | {lat(c, 'w')} | {lat(s, 'r')} | {lat(s, 'w')} | {fmt(med(c, 'notfound'))} / {fmt(med(s, 'notfound'))} |")
print()
print("CPU per operation in the closed-loop phases (CPU-seconds over the window / operations; server = all nodes):")
print()
print("| topology | keys | CL | Cassandra server µs/op | Spate server µs/op | S/C | Cassandra client µs/op | Spate client µs/op |")
print("|---|---|---|---:|---:|---:|---:|---:|")
def per_op(ds, f):
    vals = [float(x[f]) * 1e6 / float(x["ops_s"]) for x in ds if f in x and float(x.get("ops_s", 0)) > 0]
    return statistics.median(vals) if vals else None
for k, by in groups.items():
    topo, dist, cl, mode, load = k
    if mode != "max":
        continue
    c, s = by.get("cassandra", []), by.get("spate", [])
    cs, ss = per_op(c, "srv_cores"), per_op(s, "srv_cores")
    print(f"| {topo} | {dist} | {cl} | {fmt(cs)} | {fmt(ss)} | {ratio(ss, cs)} | {fmt(per_op(c, 'cli_cores'))} | {fmt(per_op(s, 'cli_cores'))} |")
print()
print("On a shared 2-core machine (servers and client on the same cores) a ratio within +-15% of 1 is a tie.")
