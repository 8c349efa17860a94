#!/usr/bin/env python3
"""Prints ours against the best R peer per k from score_forecasts.py output.

usage: compare.py SCORES.txt OUR_FILE_NAME

Best peer: the lowest value for sMAPE, MASE, MSIS, SQL and Brier; the
coverage nearest its nominal level. Targets are those of issue 5.
"""
import sys
from collections import defaultdict

COLS = ["sMAPE", "MASE", "cov80", "cov95", "MSIS", "SQL", "Brier"]


def main(path, ours_name):
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
    print(f"{'k':>2} {'metric':<6} {'ours':>8} {'best peer':>9} {'peer':<14} {'ratio':>6}  target")
    for k in sorted(rows):
        ours = rows[k][ours_name]
        peers = {n: m for n, m in rows[k].items() if n != ours_name}
        for col in COLS:
            cands = [(n, m[col]) for n, m in peers.items() if m[col] is not None]
            if col.startswith("cov"):
                nominal = 0.80 if col == "cov80" else 0.95
                best = min(cands, key=lambda c: abs(c[1] - nominal))
                if k == 2:
                    ok = abs(ours[col] - nominal) <= 0.03
                    target = f"{nominal - 0.03:.2f}-{nominal + 0.03:.2f}"
                else:
                    lo, hi = (0.77, 0.83) if col == "cov80" else (0.93, 0.97)
                    ok = lo <= ours[col] <= hi
                    target = f"{lo:.2f}-{hi:.2f}"
            else:
                best = min(cands, key=lambda c: c[1])
                limit = {"Brier": 1.0 if k == 2 else 0.90,
                         "SQL": None if k == 2 else 0.95,
                         "MASE": None if k == 2 else 1.0}.get(col)
                ok = None if limit is None else ours[col] <= limit * best[1]
                target = "" if limit is None else f"<= {limit:.2f} x best"
            ratio = ours[col] / best[1] if best[1] else float("nan")
            mark = "" if ok is None else ("  ok" if ok else "  MISS")
            print(f"{k:>2} {col:<6} {ours[col]:>8.4g} {best[1]:>9.4g} {best[0][:-4]:<14} "
                  f"{ratio:>6.3f}  {target}{mark}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
