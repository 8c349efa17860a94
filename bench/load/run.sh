#!/usr/bin/env bash
# The service load benchmarks (unary, batch, memory), then one summary table
# of the ratios, each measured in this run. Usage: bench/load/run.sh
# BUILD_DIR. Takes about 5 minutes on 2 cores; see bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
cmake --build "$build" -j 2 --target kpi_server kpictl kpi_gen_series \
  kpi_project_path \
  kpi_engine_rate kpi_stream_probe >/dev/null
export LOAD_RESULTS
LOAD_RESULTS=$(mktemp)
trap 'rm -f "$LOAD_RESULTS"' EXIT

echo "-- unary: ProjectKpi against the no-op Health/Check"
bench/load/unary.sh "$build"
echo "-- batch: kpictl batch against the engine in process and R's thetaf"
bench/load/batch.sh "$build"
echo "-- memory: server RSS while streaming jobs"
bench/load/memory.sh "$build"

python3 - "$LOAD_RESULTS" <<'PY'
import sys
r = {}
for line in open(sys.argv[1]):
    k, _, v = line.strip().partition(" ")
    r[k] = float(v) if v else None

rows = []
def row(what, measured, reference, ratio, target, ok):
    rows.append((what, measured, reference, ratio, target,
                 "-" if ok is None else ("met" if ok else "NOT met")))

for mode in ("cached", "uncached"):
    p, n = r.get(f"project_{mode}_rps"), r.get(f"noop_{mode}_rps")
    if p and n:
        row(f"ProjectKpi ({mode}) calls/s",
            f"{p:,.0f} (p50 {r[f'project_{mode}_p50_ms']:.2f} ms, p99 {r[f'project_{mode}_p99_ms']:.2f} ms)",
            f"Health/Check {n:,.0f} (p50 {r[f'noop_{mode}_p50_ms']:.2f} ms, p99 {r[f'noop_{mode}_p99_ms']:.2f} ms)",
            f"{p / n:.2f}", ">= 0.70", p / n >= 0.70)
s, n = r.get("sync_read_rps"), r.get("noop_cached_rps")
if s and n:
    row("GetStrategy (sync, 1 store read) calls/s",
        f"{s:,.0f} (p50 {r['sync_read_p50_ms']:.2f} ms, p99 {r['sync_read_p99_ms']:.2f} ms)",
        f"Health/Check {n:,.0f}", f"{s / n:.2f}", "reference", None)
pc, pu = r.get("project_cached_rps"), r.get("project_uncached_rps")
if pc and pu:
    row("projection cache", f"cached {pc:,.0f} calls/s", f"uncached {pu:,.0f} calls/s",
        f"{pc / pu:.2f}", "> 1", pc / pu > 1)
b, e, t = r.get("batch_rps"), r.get("engine_rps"), r.get("thetaf_rps")
if b and e:
    row(f"kpictl batch series/s ({int(r['batch_series']):,} series)", f"{b:,.0f}",
        f"engine in process {e:,.0f}", f"{b / e:.2f}", ">= 0.50", b / e >= 0.5)
ea = r.get("engine_all_cores_rps")
if b and ea:
    row(f"kpictl batch series/s", f"{b:,.0f}",
        f"engine in process on {int(r['cores'])} threads {ea:,.0f}",
        f"{b / ea:.2f}", "reference", None)
sr = r.get("stream_rps")
if sr and e:
    row("StreamProjectSeries alone (no CSV) series/s", f"{sr:,.0f}",
        f"engine in process {e:,.0f}", f"{sr / e:.2f}", "reference", None)
if b and t:
    row("kpictl batch vs R thetaf", f"{b:,.0f}", f"thetaf {t:,.1f}",
        f"{b / t:,.0f}", ">= 1000", b / t >= 1000)
if b is not None and t is None:
    row("kpictl batch vs R thetaf", f"{b:,.0f}", "R unavailable", "-", ">= 1000", None)
idle = r.get("mem_idle_kb")
jobs = sorted(int(k.split("_")[2]) for k in r if k.startswith("mem_peak_"))
for n in jobs:
    peak = r[f"mem_peak_{n}_kb"]
    row(f"server peak RSS, {n:,}-series stream",
        f"{peak / 1024:.1f} MiB ({r[f'mem_seconds_{n}']:.0f} s)",
        f"idle {idle / 1024:.1f} MiB", f"{peak / idle:.2f}", "bounded", None)
if len(jobs) >= 2:
    small, large = r[f"mem_peak_{jobs[0]}_kb"], r[f"mem_peak_{jobs[-1]}_kb"]
    row(f"peak RSS, {jobs[-1]:,} vs {jobs[0]:,} series",
        f"{large / 1024:.1f} MiB", f"{small / 1024:.1f} MiB",
        f"{large / small:.2f}", "-", None)
if jobs:
    n = jobs[-1]
    a, b = r[f"mem_first_half_{n}_kb"], r[f"mem_second_half_{n}_kb"]
    row(f"RSS growth within the {n:,}-series job",
        f"2nd half max {b / 1024:.1f} MiB", f"1st half max {a / 1024:.1f} MiB",
        f"{b / a:.2f}", "<= 1.05 (bounded)", b / a <= 1.05)
clients = [(n, r.get(f"mem_client_{n}_kb")) for n in jobs]
if all(c for _, c in clients) and len(clients) >= 2:
    (n0, c0), (n1, c1) = clients[0], clients[-1]
    row(f"kpictl peak RSS, {n1:,} vs {n0:,} series", f"{c1 / 1024:.1f} MiB",
        f"{c0 / 1024:.1f} MiB", f"{c1 / c0:.2f}", "-", None)
if r.get("mem_stall_ahead"):
    row("stalled client: series the server took",
        f"{r['mem_stall_ahead']:,.0f} of 200,000",
        f"RSS <= {r['mem_stall_peak_kb'] / 1024:.1f} MiB", "-", "stops", None)

head = ("benchmark", "measured", "against", "ratio", "target", "")
widths = [max(len(str(x[i])) for x in rows + [head]) for i in range(6)]
line = lambda x: "| " + " | ".join(str(v).ljust(w) for v, w in zip(x, widths)) + " |"
print()
print(line(head))
print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
for x in rows:
    print(line(x))
PY
