#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/corpus/ from the shipped Asahikawa
dataset and the unit tests' inputs. Run from anywhere; it rewrites only the
seed-*. files, never the crash-* regression inputs added by hand.

  python3 tests/fuzz/make_seeds.py
"""

import base64
import csv
import hashlib
import hmac
import io
import json
import pathlib
import struct

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DATASET = json.loads(
    (ROOT / "lib/dataset/data/asahikawa-fy2021.json").read_text("utf-8"))


def write(target, seeds):
    out = HERE / "corpus" / target
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("seed-*"):
        old.unlink()
    for data in seeds:
        if isinstance(data, str):
            data = data.encode("utf-8")
        name = "seed-" + hashlib.sha1(data).hexdigest()[:16]
        (out / name).write_bytes(data)


# ---- fiscal_period_fuzzer: era labels ----------------------------------------
LABELS = [
    "令和3年度", "R3", "H31", "令和元年度", "平成28-30年度", "H28-H30", "2016-2018",
    "FY2021", "2021年度", "ＦＹ２０２１", "Ｒ３", "R2～R6年度", "平成30-令和2年度",
    "昭和64年度", "S64", "h31", "令和2-6年度", "2021", " 令和 3 年度 ", "R2〜R6",
    "H32", "H30-R2", "FY2016-FY2018", "2016年度～2018年度", "R2–R6", "R2－R6",
    "令和元-6年度", "令和３年度", "s50", "令和0年度", "R99999", "H28-30",
    "2200", "1900", "令和6-2年度", "R3.5", "令和\u3000", "\xff",
]
write("fiscal_period_fuzzer", LABELS)

# ---- filter_fuzzer: one byte for the collection, then the filter -------------
# The byte indexes filter_fuzzer.cc's kCollections.
KPI, OBSERVATION, MEASURE, EVALUATION, STRATEGY = 0, 1, 2, 3, 4
FILTERS = [
    (OBSERVATION, "fiscal_year>=2020 AND fiscal_year <= 2024 AND "
                  "status != OBSERVATION_STATUS_PROVISIONAL"),
    (KPI, 'goal = "strategies/asahikawa-2020/goals/g1"'),
    (KPI, "goal = 'strategies/s/goals/g1'"),
    (KPI, "measure=strategies/asahikawa-2020/measures/g1-a AND "
          "kind = KPI_KIND_LEVEL"),
    (KPI, "kind = KPI_KIND_PERIOD_SUM"),
    (EVALUATION, "rating = RATING_REVISE AND fiscal_year = 2021"),
    (MEASURE, 'parent = "strategies/asahikawa-2020/measures/g1-a"'),
    (MEASURE, "goal = strategies/asahikawa-2020/goals/g2"),
    (KPI, "unit = \"%\""),
    (KPI, "kind < KPI_KIND_LEVEL"),
    (KPI, "(kind = KPI_KIND_LEVEL)"),
    (KPI, "kind = KPI_KIND_LEVEL OR kind = KPI_KIND_RUNNING_TOTAL"),
    (KPI, 'goal = "strategies/s'),
    (OBSERVATION, "fiscal_year = twenty"),
    (OBSERVATION, 'status = "OBSERVATION_STATUS_FINAL" AND fiscal_year != 2020'),
    (STRATEGY, 'name = "x"'),
    (KPI, 'goal = "strategies/s/goals/a\\"b"'),
]
write("filter_fuzzer", [bytes([c]) + f.encode("utf-8") for c, f in FILTERS])


# ---- page_token_fuzzer -------------------------------------------------------
# Even first byte: a token for the fixed call of page_token_fuzzer.cc; odd:
# "parent\nfilter\nlast_name" to round-trip. The valid tokens follow today's
# format (lib/storage/page_token.cc: version 2, the cursor, HMAC-SHA256 of the
# version and the length-prefixed collection, parent, filter and cursor),
# made with the fuzzer's fixed key; when the format changes they remain seeds
# of near-valid input.
FUZZ_KEY = b"k" * 32


def token(collection_id, parent, filt, last):
    message = b"\x02"
    for part in (collection_id, parent, filt, last):
        data = part.encode()
        message += struct.pack(">Q", len(data)) + data
    mac = hmac.new(FUZZ_KEY, message, hashlib.sha256).digest()
    raw = b"\x02" + last.encode() + mac
    return base64.urlsafe_b64encode(raw).decode()


S = "strategies/asahikawa-2020"
kpi_names = [k["name"] for k in DATASET["kpis"]]
tokens = [
    token("kpis", S, "kind = KPI_KIND_LEVEL", kpi_names[3]),
    token("kpis", S, "kind = KPI_KIND_LEVEL", kpi_names[3]).rstrip("="),
    token("kpis", S, "", kpi_names[3]),
    "not a token!", "AAAA", "abc", "%%%", "",
]
seeds = [bytes([0]) + t.encode() for t in tokens]
seeds += [
    bytes([1]) + f"{S}\nkind = KPI_KIND_LEVEL\n{kpi_names[5]}".encode(),
    bytes([3]) + f"{kpi_names[0]}\nfiscal_year >= 2020\n"
                 f"{kpi_names[0]}/observations/fy2021".encode(),
    bytes([5]) + f"\n\n{S}".encode(),
    bytes([7]) + f"{S}\n\n{S}/measures/g1-a".encode(),
]
write("page_token_fuzzer", seeds)


# ---- csv_import_fuzzer: observation CSV files, in each encoding --------------
COLUMNS = ["kpi", "kpi_display_name", "unit", "fiscal_year",
           "first_fiscal_year", "aggregation", "value", "status",
           "source_note", "reported_fiscal_year"]
kpis = {k["name"]: k for k in DATASET["kpis"]}


def observations_csv(observations, era=False):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for o in observations:
        kpi_name = o["name"].rsplit("/observations/", 1)[0]
        k = kpis.get(kpi_name, {})
        year = o["fiscalYear"]
        w.writerow([
            kpi_name, k.get("displayName", ""), k.get("unit", ""),
            f"令和{year - 2018}年度" if era and year > 2018 else year,
            o.get("firstFiscalYear", ""),
            o.get("aggregation", "").replace("AGGREGATION_", ""),
            o["value"], o.get("status", "").replace("OBSERVATION_STATUS_", ""),
            o.get("sourceNote", ""), o.get("reportedFiscalYear", ""),
        ])
    return buf.getvalue()


obs = DATASET["observations"]
small = observations_csv(obs[:6])
by_kpi = {}
for o in obs:
    by_kpi.setdefault(o["name"].rsplit("/observations/", 1)[0], []).append(o)
ranged = [o for o in obs if o.get("firstFiscalYear")][:3]
K = "strategies/asahikawa-2020/kpis/child-wellbeing"
csv_seeds = [
    small,
    observations_csv(obs[6:14], era=True),
    observations_csv(ranged + obs[20:23]),
    "\ufeff" + small,
    small.replace("\n", "\r\n"),
    small.encode("cp932"),
    observations_csv(obs[30:36], era=True).encode("cp932"),
    "value,fiscal_year,kpi,status\n１，６６９,R3," + K + ",provisional\n",
    "kpi,fiscal_year,value\n" + K + ",平成28-30年度,1669\n",
    "kpi,fiscal_year,first_fiscal_year,value,aggregation\n" + K +
    ",2018,2016,1669,SUM\n",
    "kpi,fiscal_year,value,source_note\n" + K + ',R3,50.6,"a, ""quoted""\nnote"\n',
    "kpi,fiscal_year,value\n" + K + ",R3,\"1,2,3\"\n",
    "kpi,fiscal_year,value\n" + K + ",R3,1e-07\n" + K + ",R2,－３．５\n",
    "kpi,fiscal_year,value,Value\n",
    "kpi,fiscal_year,value\n" + K + ",R3,1\n\x88\xae\n",
    b"kpi,fiscal_year,value\n" + K.encode() + b",R3,1\n\x88\xae\n",
    "kpi,fiscal_year,value\n\n,,\n" + K + ",R3,50.6\n" + K + ",2021,1\n",
    # Refused: a UTF-8 file with one CP932 row, and with a character cut
    # short (旭川市 in both encodings).
    ("kpi,fiscal_year,value,source_note\n" + K + ",R3,1,旭川市\n").encode() +
    (K + ",R2,2,旭川市\n").encode("cp932"),
    ("kpi,fiscal_year,value,source_note\n" + K + ",R3,1,旭川市\n").encode() +
    (K + ",R2,2,旭川").encode() + "市".encode()[:2] + b"\n",
]
write("csv_import_fuzzer", csv_seeds)


# ---- dataset_json_fuzzer: small kpi.v1.Dataset documents ---------------------
def subset(n_kpis):
    names = [k["name"] for k in DATASET["kpis"][:n_kpis]]
    measures = {k["measure"] for k in DATASET["kpis"][:n_kpis]}
    ms = [m for m in DATASET["measures"] if m["name"] in measures]
    goals = {m.get("goal") for m in ms}
    return {
        "strategies": DATASET["strategies"],
        "goals": [g for g in DATASET["goals"] if g["name"] in goals],
        "measures": ms,
        "kpis": DATASET["kpis"][:n_kpis],
        "observations": [o for o in obs
                         if o["name"].rsplit("/observations/", 1)[0] in names],
        "evaluations": [e for e in DATASET["evaluations"]
                        if e["name"].rsplit("/evaluations/", 1)[0] in ms][:2],
    }


json_seeds = [
    json.dumps(subset(1), ensure_ascii=False, indent=1),
    json.dumps(subset(2), ensure_ascii=False),
    json.dumps({"references": DATASET["references"][:1]}, ensure_ascii=False),
    json.dumps({"observations": obs[:2]}, ensure_ascii=False),
    json.dumps({"kpis": [dict(DATASET["kpis"][0], kind="KPI_KIND_X")]},
               ensure_ascii=False),
    '{"kpis": [{"name": "strategies/s/kpis/k", "target": {"value": "NaN"}}]}',
    '{"strategies": [{"name": "strategies/s", "display_name": "\\ud800"}]}',
    '{"observations": [{"fiscal_year": 1e10}]}',
    '{"kpiz": 1}',
    '{"kpis": [{"targetx": 1}]}',
    '{"kpis": [',
    "[]",
]
write("dataset_json_fuzzer", json_seeds)
