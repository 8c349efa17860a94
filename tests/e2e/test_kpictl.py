"""kpictl end to end against a kpi_server process: listing, projections in
every format, import of JSON and CSV (and a bad CSV that changes nothing),
an export/import round trip into a second server, batch files, the
backtest, and the exit codes of errors."""

import csv
import io
import json
import os
import socket
import subprocess
import tempfile
import unicodedata
import unittest

import harness

SEED = "strategies/asahikawa-2020"
SEED_KPI = f"{SEED}/kpis/airport-passengers"
OUTPUT_ONLY = {"etag", "create_time", "update_time", "revisions"}


def display_cells(line):
    """The terminal columns of `line`: wide characters take two cells (the
    second is None), combining marks none."""
    cells = []
    for ch in line:
        if unicodedata.combining(ch):
            continue
        cells.append(ch)
        if unicodedata.east_asian_width(ch) in "WF":
            cells.append(None)
    return cells


def parse_table(lines):
    """Cells of an aligned table (header, rule of dashes, rows), located by
    the rule's column positions; checks that every cell is separated from
    its neighbours by at least one blank column. The table ends at the first
    empty line."""
    if "" in lines:
        lines = lines[:lines.index("")]
    rule = display_cells(lines[1])
    spans, start = [], None
    for i, ch in enumerate(rule + [" "]):
        if ch == "-" and start is None:
            start = i
        elif ch != "-" and start is not None:
            spans.append((start, i))
            start = None
    rows = []
    for line in [lines[0]] + lines[2:]:
        cells = display_cells(line)
        cells += [" "] * (spans[-1][1] + 1 - len(cells))
        row = []
        for k, (a, b) in enumerate(spans):
            if a > 0 and cells[a - 1] not in (" ",):
                raise AssertionError(
                    f"column {k} does not start at display column {a}: "
                    f"{line!r}")
            # The last column may run past the rule (it is not padded).
            end = b if k + 1 < len(spans) else len(cells)
            if k + 1 < len(spans) and cells[b] != " ":
                raise AssertionError(
                    f"column {k} runs past display column {b}: {line!r}")
            row.append("".join(c for c in cells[a:end] if c).strip())
        rows.append(row)
    return rows[0], rows[1:]


def strategy_order(dataset):
    """KPI names of `dataset` (a JSON export) in the strategy's order: goal
    number, then the measure's codes from its heading down (ア < イ < エ <
    エ①, as Unicode orders this dataset's codes), then the KPI's ordinal."""
    goals = {g["name"]: g.get("number", 0) for g in dataset["goals"]}
    measures = {m["name"]: m for m in dataset["measures"]}

    def codes(name):
        m = measures[name]
        up = [m["code"]]
        while m.get("parent"):
            m = measures[m["parent"]]
            up.insert(0, m["code"])
        return up

    return [k["name"] for k in sorted(dataset["kpis"], key=lambda k: (
        goals[measures[k["measure"]]["goal"]], codes(k["measure"]),
        k.get("ordinal", 0), k["name"]))]


def strip_output_only(value):
    if isinstance(value, dict):
        return {k: strip_output_only(v) for k, v in value.items()
                if k not in OUTPUT_ONLY}
    if isinstance(value, list):
        return [strip_output_only(v) for v in value]
    return value


def small_dataset(prefix):
    strategy = f"strategies/{prefix}"
    measure = f"{strategy}/measures/m-a"
    kpi = f"{strategy}/kpis/new-farmers"
    return {
        "strategies": [{"name": strategy, "display_name": "試験用総合戦略",
                        "municipality": "旭川市", "first_fiscal_year": 2020,
                        "last_fiscal_year": 2024}],
        "goals": [{"name": f"{strategy}/goals/goal-1", "number": 1,
                   "display_name": "しごとをつくる"}],
        "measures": [{"name": measure, "goal": f"{strategy}/goals/goal-1",
                      "code": "ア", "display_name": "農業の振興"}],
        "kpis": [{"name": kpi, "measure": measure,
                  "display_name": "新規就農者数", "unit": "人",
                  "kind": "KPI_KIND_LEVEL",
                  "direction": "DIRECTION_INCREASE",
                  "target": {"value": 67, "fiscal_year": 2024}}],
        "observations": [{"name": f"{kpi}/observations/fy2019",
                          "fiscal_year": 2019, "value": 57}],
    }


class KpictlTest(harness.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        cls.kpictl = harness.tool("KPICTL")
        super().setUpClass()

    def run_kpictl(self, *args, expect=0, server=None, stdin=None):
        command = [self.kpictl,
                   f"--server={server or self.server.address}"] + list(args)
        result = subprocess.run(command, capture_output=True, text=True,
                                timeout=60, input=stdin,
                                env=harness.client_env())
        self.assertEqual(result.returncode, expect,
                         f"{command}\nstdout: {result.stdout[-3000:]}\n"
                         f"stderr: {result.stderr[-3000:]}")
        return result

    def own_server(self, name):
        """A second server on an empty store of its own, stopped (and
        checked to exit cleanly) when the test ends."""
        server = harness.ServerProcess(
            os.path.join(self.tmp, f"{name}.sqlite3"),
            ["--seed_dataset=none"]).start()

        def stop():
            self.assertEqual(server.stop(), 0, server.log[-2000:])
        self.addCleanup(stop)
        return server

    def seed_dataset(self):
        out = self.run_kpictl("export", f"--strategy={SEED}").stdout
        return json.loads(out)

    def seed_kpis(self):
        """The seed's KPIs in the strategy's order, as kpictl lists them."""
        dataset = self.seed_dataset()
        by_name = {k["name"]: k for k in dataset["kpis"]}
        return [by_name[name] for name in strategy_order(dataset)]

    def write(self, name, text, encoding="utf-8"):
        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding=encoding, newline="") as f:
            f.write(text)
        return path

    # ---- help and errors -----------------------------------------------

    def test_help_lists_subcommands(self):
        for args, code in ((["help"], 0), (["--help"], None)):
            result = subprocess.run([self.kpictl] + args, capture_output=True,
                                    text=True, timeout=30)
            if code is not None:
                self.assertEqual(result.returncode, code)
            text = result.stdout + result.stderr
            for command in ("list", "show KPI", "project KPI|--all",
                            "import FILE", "export", "batch --in",
                            "backtest --data", "calibrate --data"):
                self.assertIn(command, text, args)
        result = subprocess.run([self.kpictl, "frobnicate"],
                                capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 2)
        self.assertIn('unknown subcommand "frobnicate"', result.stderr)

    def test_errors_exit_non_zero_with_code_and_field(self):
        result = self.run_kpictl("project", SEED_KPI, "--target_year=3000",
                                 expect=1)
        self.assertIn("INVALID_ARGUMENT", result.stderr)
        self.assertIn("target_fiscal_year", result.stderr)
        self.assertEqual(result.stdout, "")
        result = self.run_kpictl("show", f"{SEED}/kpis/no-such-kpi", expect=1)
        self.assertIn("NOT_FOUND", result.stderr)
        self.assertIn(f"{SEED}/kpis/no-such-kpi", result.stderr)
        result = self.run_kpictl("project", "--all", "--shock=sometimes",
                                 expect=1)
        self.assertIn("--shock=sometimes", result.stderr)
        result = self.run_kpictl("project", "--all", "--format=xml", expect=1)
        self.assertIn("table, json, csv", result.stderr)
        # A port held (bound, not listening) by this test: nobody else can
        # take it, and connecting is refused.
        with socket.socket() as held:
            held.bind(("127.0.0.1", 0))
            address = "127.0.0.1:%d" % held.getsockname()[1]
            result = self.run_kpictl("list", "--timeout=5s", server=address,
                                     expect=1)
        self.assertIn("kpictl list: UNAVAILABLE: ListStrategies:",
                      result.stderr)

    # ---- reading ---------------------------------------------------------

    def test_list_and_show(self):
        kpis = self.seed_kpis()
        lines = self.run_kpictl("list", "--lang=en").stdout.splitlines()
        self.assertEqual(
            lines[0], f"{SEED}  第2期旭川市まち・ひと・しごと創生総合戦略  "
            "(FY2020-2024 (R2-6), 30 KPIs)")
        header, rows = parse_table(lines[1:])
        self.assertEqual(header, ["KPI", "name", "unit", "baseline", "latest",
                                  "target"])
        # The strategy's order (goal, measure, KPI), not the IDs'.
        ids = [k["name"].rsplit("/", 1)[1] for k in kpis]
        self.assertEqual([r[0] for r in rows], ids)
        self.assertEqual(ids[:3], ["children-growing-healthily",
                                   "matchmaking-site-page-views",
                                   "education-environment-satisfaction"])
        self.assertNotEqual(ids, sorted(ids))
        self.assertEqual([r[1] for r in rows],
                         [k["display_name"] for k in kpis])
        by_id = {r[0]: r for r in rows}
        # Rounded as the KPI's own data are written, era beside FY.
        self.assertEqual(by_id["airport-passengers"][2:],
                         ["万人", "113.5 FY2018 (H30)", "45.9 FY2021 (R3)",
                          "145.0 FY2024 (R6)"])
        self.assertEqual(by_id["new-farmers"][2:],
                         ["人", "57 FY2018 (H30)", "64 FY2021 (R3)",
                          "67 FY2024 (R6)"])
        self.assertEqual(by_id["disability-employment-rate"][3:],
                         ["2.19 FY2019 (R1)", "2.67 FY2021 (R3)",
                          "法定雇用率以上 FY2024 (R6)"])
        self.assertEqual(by_id["city-website-hits"][3],
                         "1,669 FY2016-2018 (H28-30) mean")

        lines = self.run_kpictl("list", "--lang=ja").stdout.splitlines()
        self.assertEqual(
            lines[0], f"{SEED}  第2期旭川市まち・ひと・しごと創生総合戦略  "
            "(令和2-6年度 (FY2020-2024), KPI 30件)")
        header, rows = parse_table(lines[1:])
        self.assertEqual(header, ["KPI", "名称", "単位", "基準値", "最新値",
                                  "目標値"])
        self.assertEqual([r[0] for r in rows], ids)
        by_id = {r[0]: r for r in rows}
        self.assertEqual(by_id["airport-passengers"][3:],
                         ["113.5 平成30年度 (FY2018)", "45.9 令和3年度 (FY2021)",
                          "145.0 令和6年度 (FY2024)"])

        out = self.run_kpictl("show", SEED_KPI, "--lang=en").stdout
        self.assertIn("空港乗降客数", out)
        self.assertIn("shock years  FY2020 (R2), FY2021 (R3)", out)
        self.assertRegex(out, r"\nFY2021 \(R3\) +45\.9  final +FY2021 \(R3\)")
        self.assertIn("FY2021 (R3)  continue and expand (継続発展)", out)
        # A bare ID resolves when the store holds one strategy; so do the
        # Japanese name, its start, and the English name.
        for typed in ("airport-passengers", "空港乗降客数", "空港",
                      "ＡＩＲＰＯＲＴ", "Asahikawa Airport passengers"):
            with self.subTest(typed=typed):
                self.assertEqual(self.run_kpictl(
                    "show", typed, "--lang=en").stdout, out)
        ja = self.run_kpictl("show", "空港乗降客数", "--lang=ja").stdout
        self.assertIn("ショック年  令和2年度 (FY2020)、令和3年度 (FY2021)", ja)
        self.assertRegex(ja, r"\n令和3年度 \(FY2021\) +45\.9  確定値")
        self.assertIn("令和3年度 (FY2021)  継続発展", ja)
        self.assertIn("種類        各年度の水準、高いほど良い", ja)

    def test_kpis_by_name_typos_and_ambiguity(self):
        result = self.run_kpictl("show", "空港乗客数", expect=1)
        self.assertIn('kpictl show: NOT_FOUND: no KPI of '
                      f'{SEED} has the ID or name "空港乗客数"; closest: '
                      "airport-passengers (空港乗降客数)", result.stderr)
        result = self.run_kpictl("project", "airport-pasengers", expect=1)
        self.assertIn("closest: airport-passengers (空港乗降客数)",
                      result.stderr)
        result = self.run_kpictl("show", "新規", expect=1)
        self.assertIn('INVALID_ARGUMENT: "新規" starts the ID or name of 2 '
                      "KPIs", result.stderr)
        self.assertIn("new-farmers (新規就農者数)", result.stderr)
        self.assertIn("new-businesses (新規開業件数)", result.stderr)
        # A full name goes to the server as is; its NOT_FOUND suggests too.
        result = self.run_kpictl("show", f"{SEED}/kpis/airport-pasengers",
                                 expect=1)
        self.assertIn(f"NOT_FOUND: GetKpi: kpi {SEED}/kpis/airport-pasengers "
                      f"does not exist; closest: {SEED}/kpis/"
                      "airport-passengers (空港乗降客数)", result.stderr)
        result = self.run_kpictl("project", "strategies/asahikawa/kpis/"
                                 "airport-passengers", expect=1)
        self.assertIn("its parent strategy strategies/asahikawa does not exist "
                      f"either; closest: {SEED} (第2期旭川市", result.stderr)

    def test_project_all_table_json_csv(self):
        kpis = self.seed_kpis()
        ids = [k["name"].rsplit("/", 1)[1] for k in kpis]
        names = [k["display_name"] for k in kpis]

        lines = self.run_kpictl("project", "--all",
                                "--lang=en").stdout.splitlines()
        self.assertTrue(lines[0].startswith(SEED))
        header, rows = parse_table(lines[1:])
        self.assertEqual(header, ["KPI", "name", "unit", "target", "latest",
                                  "projected", "80% interval", "P(met)",
                                  "scenarios (recovery / shocks as data)",
                                  "status", "warnings", "explanation"])
        self.assertEqual([r[0] for r in rows], ids)
        self.assertEqual([r[1] for r in rows], names)
        probability = r"(\d{1,3}%|<1%|>99%)"
        for row in rows:
            self.assertRegex(row[3], r"^\S+ FY\d{4} \(R\d+\)$")
            self.assertRegex(row[6], r"^\[[-\d,.]+, [-\d,.]+\]$")
            self.assertRegex(row[7], f"^{probability}$")
            self.assertRegex(row[8], f"^(-|{probability} / {probability})$")
            self.assertNotEqual(row[9], "error")
            # The one-line explanation: the likelihood words first.
            self.assertRegex(row[11], f"^[a-z ]+ \\({probability}\\); ")
        by_id = {r[0]: r for r in rows}
        # Shock years are marked on the airport KPI, not on new farmers:
        # both scenarios' probabilities are shown.
        self.assertRegex(by_id["airport-passengers"][8],
                         f"^{probability} / {probability}$")
        self.assertEqual(by_id["new-farmers"][8], "-")
        self.assertIn("blend of recovery", by_id["airport-passengers"][11])

        # Japanese: headers, era years, status words and explanations.
        lines = self.run_kpictl("project", "--all",
                                "--lang=ja").stdout.splitlines()
        ja_header, ja_rows = parse_table(lines[1:])
        self.assertEqual(ja_header[:5],
                         ["KPI", "名称", "単位", "目標", "最新値"])
        self.assertEqual(ja_header[-1], "説明")
        ja = {r[0]: r for r in ja_rows}
        self.assertEqual(ja["airport-passengers"][3], "145 令和6年度 (FY2024)")
        self.assertEqual(ja["airport-passengers"][9], "悪化")
        self.assertIn("混合", ja["airport-passengers"][11])

        document = json.loads(
            self.run_kpictl("project", "--all", "--format=json").stdout)
        results = document["results"]
        self.assertEqual([r["kpi"] for r in results],
                         [k["name"] for k in kpis])
        self.assertEqual([r["display_name"] for r in results], names)
        for r in results:
            self.assertEqual(r["projection"]["id"], r["kpi"])
            self.assertEqual(r["projection"]["years"][-1]["fiscal_year"],
                             r["projection"]["target_fiscal_year"])

        table_probabilities = [row[7] for row in rows]
        records = list(csv.DictReader(io.StringIO(
            self.run_kpictl("project", "--all", "--format=csv",
                            "--encoding=utf-8").stdout)))
        self.assertEqual([r["kpi"] for r in records],
                         [k["name"] for k in kpis])
        self.assertEqual([r["display_name"] for r in records], names)
        for record, result, shown in zip(records, results,
                                         table_probabilities):
            p = result["projection"]
            self.assertAlmostEqual(float(record["projected_value"]),
                                   p["projected_value"], delta=1e-6 *
                                   max(1, abs(p["projected_value"])))
            self.assertEqual(record["status"], p["status"])
            self.assertEqual(record["error"], "")
            if shown not in ("<1%", ">99%"):
                self.assertEqual(
                    round(float(record["attainment_probability"]) * 100),
                    int(shown.rstrip("%")))

    def test_project_one_with_options(self):
        default = json.loads(self.run_kpictl(
            "project", SEED_KPI, "--format=json").stdout)["results"][0]
        included = json.loads(self.run_kpictl(
            "project", SEED_KPI, "--format=json", "--shock=include",
            "--target_year=2026").stdout)["results"][0]
        # Leaving FY2020-21 out leaves one point: both scenarios blended.
        self.assertEqual(default["projection"]["shock_treatment"],
                         "SHOCK_TREATMENT_BLEND")
        scenario = default["projection"]["explanation"]["scenario"]
        self.assertEqual(scenario["rule"], "SCENARIO_RULE_BLEND_FEW_POINTS")
        self.assertEqual([o["shock_treatment"] for o in scenario["outcomes"]],
                         ["SHOCK_TREATMENT_EXCLUDE",
                          "SHOCK_TREATMENT_INCLUDE"])
        self.assertEqual(default["alternative_projection"]["shock_treatment"],
                         "SHOCK_TREATMENT_INCLUDE")
        self.assertEqual(included["projection"]["shock_treatment"],
                         "SHOCK_TREATMENT_INCLUDE")
        self.assertEqual(included["projection"]["target_fiscal_year"], 2026)

        # Projected past its target year, a KPI keeps its own target year.
        lines = self.run_kpictl(
            "project", "children-growing-healthily", "--target_year=2030",
            "--lang=en").stdout.splitlines()
        header, rows = parse_table(lines)
        self.assertEqual(rows[0][3], "65 FY2024 (R6)")
        self.assertTrue(rows[0][5].endswith("FY2030 (R12)"), rows[0][5])
        self.assertIn(" a year", json.loads(self.run_kpictl(
            "project", SEED_KPI, "--format=json", "--lang=en").stdout)
            ["results"][0]["projection"]["explanation"]["text"])
        self.run_kpictl("project", SEED_KPI, "--lang=fr", expect=2)

    # ---- import and export -----------------------------------------------

    def test_import_json_csv_and_bad_csv(self):
        # On a server of its own: the other tests see the seed alone.
        server = self.own_server("import").address
        dataset = small_dataset("kpictl-import")
        kpi = dataset["kpis"][0]["name"]
        path = self.write("small.json", json.dumps(dataset,
                                                   ensure_ascii=False))
        out = self.run_kpictl("import", path, "--validate_only", server=server).stdout
        self.assertIn("would create 5 and replace 0", out)
        self.run_kpictl("show", kpi, expect=1, server=server)  # nothing written
        out = self.run_kpictl("import", path, server=server).stdout
        self.assertEqual(out, f"imported {path}: 5 created, 0 replaced\n")

        # CSV of observations, as a spreadsheet saves it (CP932).
        good = self.write(
            "obs.csv",
            "kpi,kpi_display_name,fiscal_year,value,status\r\n"
            f"{kpi},新規就農者数,令和2年度,60,FINAL\r\n"
            f"{kpi},新規就農者数,R3,64,PROVISIONAL\r\n", encoding="cp932")
        out = self.run_kpictl("import", good, server=server).stdout
        self.assertEqual(out, f"imported {good}: 2 created, 0 replaced\n")
        exported = json.loads(self.run_kpictl(
            "export", "--strategy=kpictl-import", server=server).stdout)
        self.assertEqual(
            [(o["fiscal_year"], o["value"], o.get("status"))
             for o in exported["observations"]],
            [(2019, 57, "OBSERVATION_STATUS_FINAL"),
             (2020, 60, "OBSERVATION_STATUS_FINAL"),
             (2021, 64, "OBSERVATION_STATUS_PROVISIONAL")])

        # A correction through generated stubs (as another city system
        # would send it) is kept as a revision that `show` lists.
        harness.generated_stubs()
        from google.protobuf import field_mask_pb2
        from kpi.v1 import kpi_service_pb2
        from kpi.v1 import kpi_service_pb2_grpc
        from kpi.v1 import resources_pb2
        with harness.channel(server) as channel:
            stub = kpi_service_pb2_grpc.KpiServiceStub(channel)
            updated = stub.UpdateObservation(
                kpi_service_pb2.UpdateObservationRequest(
                    observation=resources_pb2.Observation(
                        name=f"{kpi}/observations/fy2021", value=66,
                        status=resources_pb2.OBSERVATION_STATUS_FINAL),
                    update_mask=field_mask_pb2.FieldMask(
                        paths=["value", "status"]),
                    reason="確定値に更新"), timeout=10)
        self.assertEqual(len(updated.revisions), 1)
        shown = self.run_kpictl("show", kpi, "--lang=en", server=server).stdout
        self.assertIn("FY2021 (R3)     66  final", shown)
        self.assertRegex(shown, r"revised fy2021 on \d{4}-\d\d-\d\dT[^:]+:\d\d:"
                         r"\d\d.*: was 64 \(provisional\), reason: 確定値に更新")
        # The server authenticates no one: the change is anonymous's.
        self.assertIn("by anonymous: was 64 (provisional)", shown)
        exported = json.loads(self.run_kpictl(
            "export", "--strategy=kpictl-import", server=server).stdout)

        # A bad row: rejected with file, line and column; nothing changes.
        bad = self.write(
            "bad.csv",
            "kpi,fiscal_year,value\n"
            f"{kpi},2022,70\n"
            f"{kpi},2023,seventy\n")
        result = self.run_kpictl("import", bad, expect=1, server=server)
        self.assertIn("INVALID_ARGUMENT", result.stderr)
        self.assertIn(f"{bad}:3", result.stderr)
        self.assertIn("value", result.stderr)
        wrong_kpi = self.write(
            "wrong.csv",
            "kpi,kpi_display_name,fiscal_year,value\n"
            f"{kpi},空港乗降客数,2022,70\n")
        result = self.run_kpictl("import", wrong_kpi, expect=1, server=server)
        self.assertIn(f"{wrong_kpi}:2", result.stderr)
        self.assertIn("空港乗降客数", result.stderr)
        after = json.loads(self.run_kpictl(
            "export", "--strategy=kpictl-import", server=server).stdout)
        self.assertEqual(after, exported)

        malformed = self.write("broken.json", '{"strategies": [{"nmae": 1}]}')
        result = self.run_kpictl("import", malformed, expect=1, server=server)
        self.assertIn("INVALID_ARGUMENT", result.stderr)
        self.assertIn("nmae", result.stderr)

    def test_import_honours_etags_and_refuses_a_falling_running_total(self):
        server = self.own_server("import-checks").address
        dataset = small_dataset("kpictl-checks")
        strategy = dataset["strategies"][0]["name"]
        total = f"{strategy}/kpis/agribusiness-startups"
        dataset["kpis"].append({
            "name": total, "measure": dataset["measures"][0]["name"],
            "display_name": "アグリビジネス起業数", "unit": "件",
            "kind": "KPI_KIND_RUNNING_TOTAL",
            "direction": "DIRECTION_INCREASE",
            "target": {"value": 110, "fiscal_year": 2024}})
        dataset["observations"] += [
            {"name": f"{total}/observations/fy2019", "fiscal_year": 2019,
             "value": 93},
            {"name": f"{total}/observations/fy2020", "fiscal_year": 2020,
             "value": 95}]
        path = self.write("checks.json", json.dumps(dataset,
                                                    ensure_ascii=False))
        self.run_kpictl("import", path, server=server)
        exported = self.write("checks-export.json", "")
        self.run_kpictl("export", f"--strategy={strategy}",
                        f"--out={exported}", server=server)
        # Someone imports again after that export was read (no etags:
        # replaces whatever is stored).
        self.run_kpictl("import", path, server=server)
        before = self.run_kpictl("export", f"--strategy={strategy}",
                                 server=server).stdout

        # The export's etags are now stale: refused whole, nothing written.
        result = self.run_kpictl("import", exported, expect=1, server=server)
        self.assertIn("ABORTED", result.stderr)
        self.assertIn("is stale", result.stderr)
        self.assertIn(f"dataset.strategies[0] {strategy}: etag", result.stderr)

        # A running total that would fall: refused with both years.
        falls = self.write(
            "falls.csv",
            "kpi,fiscal_year,value\n"
            f"{total},2021,90\n")
        result = self.run_kpictl("import", falls, expect=1, server=server)
        self.assertIn("INVALID_ARGUMENT", result.stderr)
        self.assertIn("running total", result.stderr)
        self.assertIn("from 95 in FY2020 to 90 in FY2021", result.stderr)
        self.assertEqual(self.run_kpictl("export", f"--strategy={strategy}",
                                         server=server).stdout, before)
        # Rising (or equal) is accepted.
        rises = self.write(
            "rises.csv",
            "kpi,fiscal_year,value\n"
            f"{total},2021,95\n")
        self.run_kpictl("import", rises, server=server)

    def test_japanese_csv_statuses_labels_and_encodings(self):
        server = self.own_server("japanese").address
        dataset = small_dataset("kpictl-ja")
        kpi = dataset["kpis"][0]["name"]
        # A second KPI whose name CP932 cannot hold (𠮷, U+20BB7).
        other = dict(dataset["kpis"][0], name=f"{kpi}-2",
                     display_name="𠮷田地区の新規就農者数")
        dataset["kpis"].append(other)
        path = self.write("ja.json", json.dumps(dataset, ensure_ascii=False))
        self.run_kpictl("import", path, server=server)

        # What Japanese tables write, saved by a Windows spreadsheet.
        sheet = self.write(
            "ja.csv",
            "kpi,fiscal_year,value,status\r\n"
            f"{kpi},令和2年度,60,確報値\r\n"
            f"{kpi},R3,64,（速報値）\r\n"
            f"{kpi},令和4年度,65,見込み\r\n"
            f"{kpi},2023,65,据置\r\n", encoding="cp932")
        self.assertEqual(self.run_kpictl("import", sheet, server=server).stdout,
                         f"imported {sheet}: 4 created, 0 replaced\n")
        exported = json.loads(self.run_kpictl(
            "export", "--strategy=kpictl-ja", server=server).stdout)
        self.assertEqual(
            [(o["fiscal_year"], o.get("status")) for o in
             exported["observations"]],
            [(2019, "OBSERVATION_STATUS_FINAL"),
             (2020, "OBSERVATION_STATUS_FINAL"),
             (2021, "OBSERVATION_STATUS_PROVISIONAL"),
             (2022, "OBSERVATION_STATUS_PROVISIONAL"),
             (2023, "OBSERVATION_STATUS_CARRIED_OVER")])
        bad = self.write("bad-status.csv",
                         f"kpi,fiscal_year,value,status\n{kpi},R5,1,確定済\n")
        result = self.run_kpictl("import", bad, expect=1, server=server)
        self.assertIn(f"{bad}:2:status", result.stderr)
        self.assertIn("accepted: FINAL (確定値, 確定, 確報値", result.stderr)

        # A Japanese export: status words and era labels, UTF-8 with a BOM
        # by default; it imports back unchanged.
        out = os.path.join(self.tmp, "export-ja.csv")
        self.run_kpictl("export", "--format=csv", "--lang=ja",
                        "--strategy=kpictl-ja", f"--out={out}", server=server)
        with open(out, "rb") as f:
            raw = f.read()
        self.assertTrue(raw.startswith(b"\xef\xbb\xbfkpi,"))
        rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
        self.assertEqual(
            [(r["fiscal_year"], r["fiscal_year_label"], r["status"])
             for r in rows],
            [("2019", "令和元年度", "確定値"), ("2020", "令和2年度", "確定値"),
             ("2021", "令和3年度", "暫定値"), ("2022", "令和4年度", "暫定値"),
             ("2023", "令和5年度", "据置")])
        self.assertIn(": 0 created, 5 replaced",
                      self.run_kpictl("import", out, server=server).stdout)
        self.assertEqual(strip_output_only(json.loads(self.run_kpictl(
            "export", "--strategy=kpictl-ja", server=server).stdout)[
                "observations"]), strip_output_only(exported["observations"]))

        plain = self.run_kpictl("export", "--format=csv", "--lang=ja",
                                "--strategy=kpictl-ja", "--encoding=utf-8",
                                server=server).stdout
        self.assertEqual(plain, raw.decode("utf-8-sig"))
        # CP932 holds these rows: the file reads back to the same text.
        sjis = os.path.join(self.tmp, "export-sjis.csv")
        result = subprocess.run(
            [self.kpictl, f"--server={server}", "export", "--format=csv",
             "--lang=ja", "--strategy=kpictl-ja", "--encoding=cp932",
             f"--out={sjis}"], capture_output=True, env=harness.client_env(),
            timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(sjis, "rb") as f:
            self.assertEqual(f.read().decode("cp932"), plain)

        # Not once the store holds 𠮷: refused with the row, nothing written.
        self.run_kpictl("import", self.write("yoshi.csv", (
            f"kpi,fiscal_year,value\n{kpi}-2,R3,1\n")), server=server)
        refused = os.path.join(self.tmp, "refused.csv")
        result = self.run_kpictl("export", "--format=csv", "--lang=ja",
                                 "--strategy=kpictl-ja", "--encoding=cp932",
                                 f"--out={refused}", expect=1, server=server)
        self.assertRegex(
            result.stderr,
            r"kpictl export: INVALID_ARGUMENT: --encoding=cp932: line \d+ "
            rf"\({kpi}-2\): \"𠮷\" \(U\+20BB7\) has no code in CP932")
        self.assertIn("--encoding=utf-8-bom", result.stderr)
        self.assertFalse(os.path.exists(refused))
        result = self.run_kpictl("export", "--format=csv", "--encoding=euc-jp",
                                 expect=1, server=server)
        self.assertIn("--encoding=euc-jp is not an encoding; accepted: utf-8, "
                      "utf-8-bom", result.stderr)

    def test_export_import_round_trip(self):
        whole = self.write("whole.json", "")
        self.run_kpictl("export", f"--out={whole}")
        with open(whole, encoding="utf-8") as f:
            first = json.load(f)
        csv_first = self.run_kpictl("export", "--format=csv",
                                    "--lang=en").stdout
        # UTF-8 with a byte order mark unless asked otherwise: what
        # Japanese Excel opens without mojibake.
        self.assertTrue(csv_first.startswith("\ufeffkpi,"))
        self.assertEqual(len(csv_first.splitlines()) - 1,
                         len(first["observations"]))

        other = self.own_server("round-trip")
        out = self.run_kpictl("import", whole,
                              server=other.address).stdout
        count = sum(len(v) for v in first.values())
        self.assertIn(f": {count} created, 0 replaced", out)
        second = json.loads(self.run_kpictl(
            "export", server=other.address).stdout)
        self.assertEqual(strip_output_only(second),
                         strip_output_only(first))
        # The CSV of observations round-trips byte for byte.
        csv_path = self.write("observations.csv", csv_first)
        out = self.run_kpictl("import", csv_path,
                              server=other.address).stdout
        self.assertIn(f": 0 created, {len(first['observations'])} "
                      "replaced", out)
        self.assertEqual(self.run_kpictl(
            "export", "--format=csv", "--lang=en",
            server=other.address).stdout, csv_first)

    # ---- batch and backtest ------------------------------------------------

    def test_batch(self):
        series_csv = self.write("series.csv", (
            "series_id,year,value,target_value,target_year\n"
            "grow,2018,100,,\n"
            "grow,2019,110,,\n"
            "grow,2021,125,,\n"
            "target,2020,50,60,2024\n"
            "target,2021,52,60,2024\n"
            "broken,2021,abc,,\n"
            "late,3000,1,,\n"))
        out_path = os.path.join(self.tmp, "forecasts.csv")
        result = self.run_kpictl("batch", f"--in={series_csv}",
                                 f"--out={out_path}", "--horizon=4",
                                 "--format=benchmark", expect=1)
        self.assertIn("2 series projected, 2 failed", result.stderr)
        self.assertIn("broken (line 7): INVALID_ARGUMENT", result.stderr)
        self.assertIn("late (line 8): INVALID_ARGUMENT", result.stderr)
        self.assertIn("fiscal_year", result.stderr)
        with open(out_path, encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        self.assertEqual(list(rows[0].keys()), [
            "series_id", "k", "h", "q025", "q10", "q50", "q90", "q975",
            "p090", "p100", "p110", "p125", "target_probability"])
        self.assertEqual([(r["series_id"], r["k"], r["h"]) for r in rows],
                         [("grow", "3", str(h)) for h in range(1, 5)] +
                         [("target", "2", str(h)) for h in range(1, 4)])
        for r in rows:
            q = [float(r[c]) for c in ("q025", "q10", "q50", "q90", "q975")]
            self.assertEqual(q, sorted(q), r)
            p = [float(r[c]) for c in ("p090", "p100", "p110", "p125")]
            self.assertEqual(p, sorted(p, reverse=True), r)
            self.assertTrue(all(0 <= x <= 1 for x in p), r)
            if r["series_id"] == "target":
                self.assertTrue(0 <= float(r["target_probability"]) <= 1)
            else:
                self.assertEqual(r["target_probability"], "")

        # Without target columns, from stdin to stdout, all good: exit 0.
        result = self.run_kpictl(
            "batch", "--in=-", "--out=-", "--horizon=2", "--format=benchmark",
            stdin="series_id,year,value\na,2020,1\na,2021,2\n")
        self.assertEqual(result.stdout.splitlines()[0],
                         "series_id,k,h,q025,q10,q50,q90,q975,p090,p100,"
                         "p110,p125")
        self.assertEqual([line.split(",")[:3]
                          for line in result.stdout.splitlines()[1:]],
                         [["a", "2", "1"], ["a", "2", "2"]])
        self.assertIn("1 series projected, 0 failed", result.stderr)

    # The README's survey (a share surveyed every other year, target 65% in
    # FY2024) and a visitor count that fell by half.
    PEOPLE_SERIES = (
        "series_id,year,value,unit,value_domain,direction,kind,shock_years,"
        "target_value,target_fiscal_year\n"
        "survey,2015,55.5,%,PERCENT,INCREASE,,,65,2024\n"
        "survey,2017,58.1,,,,,,,\n"
        "survey,2019,59.9,,,,,,,\n"
        "visitors,2017,98000,人,非負,増加,水準,,,\n"
        "visitors,2018,91000,,,,,,,\n"
        "visitors,2019,76000,,,,,,,\n"
        "visitors,2021,41000,,,,,,,\n")

    def test_batch_for_people(self):
        result = self.run_kpictl("batch", "--in=-", "--out=-", "--lang=en",
                                 "--encoding=utf-8",
                                 stdin=self.PEOPLE_SERIES)
        rows = list(csv.DictReader(io.StringIO(result.stdout)))
        self.assertEqual(list(rows[0].keys()), [
            "series_id", "fiscal_year", "median", "lower_50", "upper_50",
            "lower_80", "upper_80", "lower_95", "upper_95",
            "attainment_probability"])
        self.assertEqual([(r["series_id"], r["fiscal_year"]) for r in rows],
                         [("survey", str(y)) for y in range(2020, 2025)] +
                         [("visitors", str(y)) for y in range(2022, 2028)])
        for r in rows:
            q = [float(r[c]) for c in ("lower_95", "lower_80", "lower_50",
                                       "median", "upper_50", "upper_80",
                                       "upper_95")]
            self.assertEqual(q, sorted(q), r)
            if r["series_id"] == "survey":
                self.assertTrue(0 <= float(r["attainment_probability"]) <= 1)
            else:
                # A count cannot go below 0, and has no target.
                self.assertGreaterEqual(float(r["lower_95"]), 0, r)
                self.assertEqual(r["attainment_probability"], "")

        # Japanese headings and era labels; CSV is UTF-8 with a BOM by
        # default, for Excel.
        out_path = os.path.join(self.tmp, "people-ja.csv")
        series_csv = self.write("people.csv", self.PEOPLE_SERIES)
        self.run_kpictl("batch", f"--in={series_csv}", f"--out={out_path}",
                        "--lang=ja")
        with open(out_path, "rb") as f:
            raw = f.read()
        self.assertTrue(raw.startswith(b"\xef\xbb\xbf"))
        lines = raw[3:].decode("utf-8").splitlines()
        self.assertEqual(lines[0], "系列ID,年度,和暦,中央値,50%区間下限,"
                         "50%区間上限,80%区間下限,80%区間上限,95%区間下限,"
                         "95%区間上限,目標達成確率")
        self.assertTrue(lines[5].startswith("survey,2024,令和6年度,"),
                        lines[5])
        # The same numbers as the English file.
        self.assertEqual(
            [line.split(",")[3:] for line in lines[1:]],
            [line.split(",")[2:] for line in result.stdout.splitlines()[1:]])
        # In CP932 for older systems.
        self.run_kpictl("batch", f"--in={series_csv}", f"--out={out_path}",
                        "--lang=ja", "--encoding=cp932")
        with open(out_path, "rb") as f:
            self.assertEqual(f.read().decode("cp932"), "\n".join(lines) + "\n")

        # Strict input: the line, the column and what is accepted.
        bad = self.run_kpictl(
            "batch", "--in=-", "--out=-", expect=1,
            stdin="series_id,year,value,direction\na,2020,1,sideways\n")
        self.assertIn("a (line 2): INVALID_ARGUMENT: stdin:2:direction: ",
                      bad.stderr)
        self.assertIn("\"sideways\"", bad.stderr)
        self.assertIn("低いほど良い", bad.stderr)
        bad = self.run_kpictl("batch", "--in=-", "--out=-", "--format=table",
                              expect=1, stdin="series_id,year,value\n")
        self.assertIn("accepted: csv", bad.stderr)

    def test_batch_gives_the_numbers_of_project_series(self):
        """Each row of kpictl batch is the ProjectSeries answer for the same
        series, number for number (at the CSV's ten significant digits)."""
        result = self.run_kpictl("batch", "--in=-", "--out=-", "--lang=en",
                                 "--encoding=utf-8",
                                 stdin=self.PEOPLE_SERIES)
        rows = list(csv.DictReader(io.StringIO(result.stdout)))
        harness.generated_stubs()
        from kpi.v1 import forecast_service_pb2
        from kpi.v1 import forecast_service_pb2_grpc
        from kpi.v1 import resources_pb2
        F = forecast_service_pb2
        R = resources_pb2
        survey = F.Series(
            series_id="survey", unit="%",
            value_domain=R.VALUE_DOMAIN_PERCENT,
            direction=R.DIRECTION_INCREASE, target_value=65,
            target_fiscal_year=2024,
            points=[F.SeriesPoint(fiscal_year=y, value=v)
                    for y, v in ((2015, 55.5), (2017, 58.1), (2019, 59.9))])
        visitors = F.Series(
            series_id="visitors", unit="人",
            value_domain=R.VALUE_DOMAIN_NON_NEGATIVE,
            direction=R.DIRECTION_INCREASE, kind=R.KPI_KIND_LEVEL, horizon=6,
            points=[F.SeriesPoint(fiscal_year=y, value=v)
                    for y, v in ((2017, 98000), (2018, 91000),
                                 (2019, 76000), (2021, 41000))])
        expected = []
        with harness.channel(self.server.address) as channel:
            stub = forecast_service_pb2_grpc.ForecastServiceStub(channel)
            for series in (survey, visitors):
                p = stub.ProjectSeries(F.ProjectSeriesRequest(series=series),
                                       timeout=30).projection
                for y in p.years:
                    numbers = [y.median, y.interval_50.lower,
                               y.interval_50.upper, y.interval_80.lower,
                               y.interval_80.upper, y.interval_95.lower,
                               y.interval_95.upper]
                    expected.append(
                        [series.series_id, str(y.fiscal_year)] +
                        [format(v, ".10g") for v in numbers] +
                        [format(y.attainment_probability, ".10g")
                         if y.HasField("attainment_probability") else ""])
        self.assertEqual([list(r.values()) for r in rows], expected)
        # The headline of issue 11: P(met) of the survey in FY2024 is the
        # same through both doors (not 0.23 against 0.135).
        self.assertEqual(rows[4]["fiscal_year"], "2024")

    def test_backtest(self):
        data = self.write("m3.csv", "series_id,split,t,year,value\n" + "".join(
            f"{sid},{'train' if t <= 6 else 'test'},{t},{2000 + t},"
            f"{base + 5 * t}\n"
            for sid, base in (("N1", 100), ("N2", 300))
            for t in range(1, 9)))
        out_path = os.path.join(self.tmp, "backtest.csv")
        result = subprocess.run(
            [self.kpictl, "backtest", f"--data={data}", "--windows=2,3",
             f"--out={out_path}"], capture_output=True, text=True,
            timeout=120)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("2 series, 4 projections", result.stderr)
        with open(out_path, encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        self.assertEqual(sorted({(r["series_id"], r["k"]) for r in rows}),
                         [("N1", "2"), ("N1", "3"), ("N2", "2"),
                          ("N2", "3")])
        self.assertEqual(sorted({r["h"] for r in rows}), ["1", "2"])
        result = subprocess.run(
            [self.kpictl, "backtest", f"--data={data}", "--windows=2,x",
             f"--out={out_path}"], capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 1)
        self.assertIn("--windows=2,x", result.stderr)

    def test_skill_and_calibrate_against_the_server(self):
        # How the calibration in use did on the seeded KPIs' history, in
        # Japanese and English.
        ja = self.run_kpictl("skill", "--lang=ja").stdout
        self.assertIn("較正 m3-train-v3 の実績", ja)
        self.assertIn("80%予測区間に入った割合", ja)
        self.assertIn("低いほど良い", ja)
        en = self.run_kpictl("skill", "--lang=en").stdout
        self.assertIn("How calibration m3-train-v3 did", en)
        self.assertIn("share inside the 95% interval", en)
        self.assertIn("0.950", en)
        # Learning from the store and comparing, without storing (the store
        # is shared by the other tests).
        out = self.run_kpictl("calibrate", "--validate_only",
                              "--lang=en").stdout
        self.assertIn("score (SQL + 8 x Brier)", out)
        self.assertIn("in use m3-train-v3", out)
        self.assertIn("--validate_only: nothing stored or switched.", out)
        self.assertIn("Keeping", out)
        result = self.run_kpictl("calibrate", "extra", expect=1)
        self.assertIn("calibrate takes no arguments", result.stderr)

    def test_calibrate_from_a_file_then_backtest_with_it(self):
        import random
        rng = random.Random(4)
        rows = ["series_id,split,t,year,value"]
        batch = ["series_id,year,value,target_value,target_year"]
        for i in range(40):
            z, drift = 4.0, rng.gauss(0.02, 0.02)
            for t in range(1, 15):
                z += drift + rng.gauss(0, 0.05)
                split = "train" if t <= 10 else "test"
                rows.append(f"S{i},{split},{t},{1990 + t},{2.718281828 ** z:.6f}")
                if split == "train":
                    batch.append(f"S{i},{1990 + t},{2.718281828 ** z:.6f},1,2030")
        data = self.write("long.csv", "\n".join(rows) + "\n")
        cal = os.path.join(self.tmp, "city.txt")
        result = subprocess.run(
            [self.kpictl, "calibrate", f"--data={data}", f"--out={cal}",
             "--version=city-2024"], capture_output=True, text=True,
            timeout=120)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("40 series of long.csv", result.stderr)
        self.assertIn("160 test rows not read", result.stderr)
        self.assertIn("shrunk toward m3-train-v3", result.stderr)
        with open(cal, encoding="utf-8") as f:
            text = f.read()
        self.assertIn("\nversion city-2024\n", text)
        self.assertIn("\nsource series 40 windows ", text)
        # kpictl batch's input gives the same calibration (same train rows).
        batch_file = self.write("batch.csv", "\n".join(batch) + "\n")
        cal2 = os.path.join(self.tmp, "city2.txt")
        result = subprocess.run(
            [self.kpictl, "calibrate", f"--data={batch_file}", f"--out={cal2}",
             "--version=city-2024"], capture_output=True, text=True,
            timeout=120)
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(cal2, encoding="utf-8") as f:
            text2 = f.read()
        self.assertEqual(text.split("\nversion ")[1],
                         text2.split("\nversion ")[1])
        out_path = os.path.join(self.tmp, "bt.csv")
        result = subprocess.run(
            [self.kpictl, "backtest", f"--data={data}", "--windows=2,3",
             f"--calibration={cal}", f"--out={out_path}"],
            capture_output=True, text=True, timeout=120)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("(calibration city-2024)", result.stderr)
        # kpi_server --calibration projects with it (and names it), and does
        # not let the store replace it.
        server = harness.ServerProcess(
            os.path.join(self.tmp, "pinned.sqlite3"),
            ["--seed_dataset=builtin", f"--calibration={cal}"]).start()

        def stop():
            self.assertEqual(server.stop(), 0, server.log[-2000:])
        self.addCleanup(stop)
        self.assertIn("calibration city-2024 (--calibration, fixed)",
                      server.log)
        projected = json.loads(self.run_kpictl(
            "project", SEED_KPI, "--format=json", server=server.address).stdout)
        self.assertIn("(city-2024)", json.dumps(projected))
        result = self.run_kpictl("calibrate", server=server.address, expect=1)
        self.assertIn("FAILED_PRECONDITION", result.stderr)
        self.assertIn("--calibration", result.stderr)
        bad_server = subprocess.run(
            [harness.tool("KPI_SERVER"), "--listen=127.0.0.1:0",
             f"--db={os.path.join(self.tmp, 'bad.sqlite3')}",
             f"--calibration={os.path.join(self.tmp, 'missing.txt')}"],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(bad_server.returncode, 2)
        self.assertIn("--calibration=", bad_server.stderr)
        # Bad input: the line and column, exit 1, nothing written.
        bad = self.write("bad.csv", "series_id,split,t,year,value\n"
                         "A,train,1,2000,1\nA,valid,2,2001,2\n")
        bad_out = os.path.join(self.tmp, "bad.txt")
        result = subprocess.run(
            [self.kpictl, "calibrate", f"--data={bad}", f"--out={bad_out}"],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 1)
        self.assertIn('bad.csv:3:split: "valid"; expected train or test',
                      result.stderr)
        self.assertFalse(os.path.exists(bad_out))
        result = subprocess.run(
            [self.kpictl, "backtest", f"--data={data}",
             f"--calibration={bad}", f"--out={out_path}"],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 1)
        self.assertIn("--calibration=", result.stderr)


if __name__ == "__main__":
    unittest.main()
