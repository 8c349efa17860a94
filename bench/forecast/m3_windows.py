#!/usr/bin/env python3
"""Writes the M3 yearly windows of shared/BENCHMARK.md as a test fixture: the
last 7 training points of each of the 645 series (every window k = 2, 3, 5,
7 is the last k of them), in the m3_yearly.csv format, without the test
part. tests/forecast/path_test.cc projects every window 6 years ahead and
checks that the paths are coherent.

Usage: bench/forecast/m3_windows.py SHARED/data/m3_yearly.csv \
           tests/forecast/data/m3_yearly_last7.csv
"""
import csv
import sys

rows = {}
order = []
with open(sys.argv[1], newline="") as f:
    for r in csv.DictReader(f):
        if r["split"] != "train":
            continue
        if r["series_id"] not in rows:
            rows[r["series_id"]] = []
            order.append(r["series_id"])
        rows[r["series_id"]].append(r)
with open(sys.argv[2], "w", newline="") as f:
    out = csv.writer(f, lineterminator="\n")
    out.writerow(["series_id", "split", "t", "year", "value"])
    for sid in order:
        series = sorted(rows[sid], key=lambda r: int(r["t"]))
        for r in series[-7:]:
            out.writerow([sid, "train", r["t"], r["year"], r["value"]])
