#!/usr/bin/env python3
"""Prints ours against the best R peer per k from score_forecasts.py output.

usage: compare.py SCORES.txt OURS.csv [OURS2.csv ...]

Each OURS file is one of our forecasters (e.g. the built-in calibration and
the set's own); every other file in SCORES.txt is a peer. Best peer: the
lowest value for sMAPE, MASE, MSIS, SQL and Brier; the coverage nearest its
nominal level. Targets are those of issue 12, the same at every k: coverage
0.77-0.83 (80%) and 0.93-0.97 (95%), MASE <= 1.00, SQL <= 0.95 and Brier <=
0.90 times the best peer. The last line counts the targets met per forecaster.
"""
import sys
from collections import defaultdict

COLS = ["sMAPE", "MASE", "cov80", "cov95", "MSIS", "SQL", "Brier"]
LIMITS = {"MASE": 1.00, "SQL": 0.95, "Brier": 0.90}
BANDS = {"cov80": (0.77, 0.83), "cov95": (0.93, 0.97)}


def label(name):
    return name[:-4] if name.endswith(".csv") else name


def main(path, ours_names):
    rows = defaultdict(dict)  # k -> name -> metrics
    with open(path) as f:
        next(f)
        for line in f:
            parts = line.split()
            if len(parts) != 11:
                continue
            name, k = parts[0], int(parts[1])
            vals = [None if v == "-" else float(v) for v in parts[2:9]]
            rows[k][name] = dict(zip(COLS, vals))
    heads = "".join(f" {label(n)[:10]:>10}" for n in ours_names)
    marks = "".join(f" {label(n)[:8]:>8}" for n in ours_names)
    ratios = "".join(f" {'ratio':>6}" for _ in ours_names)
    print(f"{'k':>2} {'metric':<6}{heads} {'best peer':>9} {'peer':<9}{ratios}  "
          f"{'target':<14}{marks}")
    met = defaultdict(int)
    total = 0
    for k in sorted(rows):
        peers = {n: m for n, m in rows[k].items() if n not in ours_names}
        if not peers or any(n not in rows[k] for n in ours_names):
            continue
        for col in COLS:
            cands = [(n, m[col]) for n, m in peers.items() if m[col] is not None]
            if col in BANDS:
                nominal = 0.80 if col == "cov80" else 0.95
                best = min(cands, key=lambda c: abs(c[1] - nominal))
                lo, hi = BANDS[col]
                target = f"{lo:.2f}-{hi:.2f}"
                check = lambda v: lo <= v <= hi
            else:
                best = min(cands, key=lambda c: c[1])
                limit = LIMITS.get(col)
                target = "" if limit is None else f"<= {limit:.2f} x best"
                check = None if limit is None else (
                    lambda v, limit=limit: v <= limit * best[1])
            if check is not None:
                total += 1
            values = "".join(f" {rows[k][n][col]:>10.4g}" for n in ours_names)
            rs = "".join(
                f" {rows[k][n][col] / best[1] if best[1] else float('nan'):>6.3f}"
                for n in ours_names)
            oks = ""
            for n in ours_names:
                if check is None:
                    oks += f" {'':>8}"
                else:
                    ok = check(rows[k][n][col])
                    met[n] += ok
                    oks += f" {'ok' if ok else 'MISS':>8}"
            print(f"{k:>2} {col:<6}{values} {best[1]:>9.4g} {label(best[0])[:9]:<9}"
                  f"{rs}  {target:<14}{oks}")
    print("targets met: " + ", ".join(
        f"{label(n)} {met[n]} of {total}" for n in ours_names))


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        sys.exit(2)
    main(sys.argv[1], sys.argv[2:])
