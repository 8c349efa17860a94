"""Every RPC of kpi.v1, called with dynamic messages built from the
descriptors the server returns through reflection (no generated kpi.v1
code): a success and the bad inputs a caller makes (a wrong name, a bad
page token, a missing field, an out-of-range year), each with the expected
gRPC code and a message (and, for INVALID_ARGUMENT, a google.rpc.BadRequest
field violation) that names the field."""

import os
import unittest

import grpc

import harness
import reflected

KPI = "kpi.v1.KpiService"
FORECAST = "kpi.v1.ForecastService"
SEED = "strategies/asahikawa-2020"
SEED_KPI = f"{SEED}/kpis/airport-passengers"

# Methods seen succeeding and failing, checked against the contract when the
# module ends: every RPC must have been called both ways.
CALLED = {"ok": set(), "error": set()}


def tearDownModule():
    harness.generated_stubs()
    from kpi.v1 import forecast_service_pb2
    from kpi.v1 import kpi_service_pb2
    methods = set()
    for module, service in ((kpi_service_pb2, "KpiService"),
                            (forecast_service_pb2, "ForecastService")):
        for method in module.DESCRIPTOR.services_by_name[service].methods:
            methods.add(f"kpi.v1.{service}/{method.name}")
    for outcome in ("ok", "error"):
        missing = sorted(methods - CALLED[outcome])
        if missing:
            raise AssertionError(
                f"RPCs never called with outcome {outcome!r}: {missing}")


def mask(*paths):
    """A FieldMask in the protobuf JSON mapping: lowerCamelCase paths
    joined by commas (the server sees lower_snake_case)."""
    def camel(path):
        head, *rest = path.split("_")
        return head + "".join(part.capitalize() for part in rest)
    return ",".join(camel(p) for p in paths)


class RpcTestCase(harness.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.channel = harness.channel(cls.server.address)
        cls.api = reflected.ReflectedApi(cls.channel)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        super().tearDownClass()

    def call(self, method, request):
        try:
            response = self.api.unary(method, request)
        except grpc.RpcError:
            CALLED["error"].add(method)
            raise
        CALLED["ok"].add(method)
        return response

    def stream(self, method, requests):
        """A streaming call; per-item errors count as the method failing."""
        responses = self.api.bidi(method, requests)
        CALLED["ok"].add(method)
        if any("error" in x for r in responses for x in r.get("results", [])):
            CALLED["error"].add(method)
        return responses

    def assertFails(self, method, request, code, field=None, message=None):
        """Asserts that the call fails with `code`; that the message names
        `field` (and contains `message`); for INVALID_ARGUMENT, that a
        BadRequest violation names exactly `field`. Returns the error."""
        with self.assertRaises(grpc.RpcError,
                               msg=f"{method} {request} succeeded") as caught:
            self.call(method, request)
        error = caught.exception
        self.assertEqual(error.code(), code,
                         f"{method}: {error.code()}: {error.details()}")
        if field is not None:
            self.assertIn(field, error.details())
            if code == grpc.StatusCode.INVALID_ARGUMENT:
                _, violations = reflected.error_details(error)
                self.assertIn(field, [v.field for v in violations],
                              f"{method}: {error.details()}")
                for v in violations:
                    self.assertTrue(v.description, v.field)
        if message is not None:
            self.assertIn(message, error.details())
        return error


# What each resource type needs: its collection, a parent factory, a valid
# body, a field to update, and a body whose year (or other ranged field) is
# out of range, with the violation's field path.
def resource_specs(prefix):
    strategy = f"strategies/{prefix}"
    goal = f"{strategy}/goals/goal-1"
    measure = f"{strategy}/measures/m-a"
    kpi = f"{strategy}/kpis/k1"
    return [
        dict(type="Reference", plural="References", field="reference",
             parent=None, id=f"{prefix}-ref",
             body={"display_name": "法定雇用率", "unit": "%",
                   "values": [{"effective_date": "2021-03-01",
                               "value": 2.3}]},
             update=("display_name", "法定雇用率(民間)"),
             bad=({"display_name": "x", "unit": "%",
                   "values": [{"effective_date": "2021-02-30",
                               "value": 2.3}]},
                  "reference.values[0].effective_date")),
        dict(type="Strategy", plural="Strategies", field="strategy",
             parent=None, id=prefix,
             body={"display_name": "E2E総合戦略", "municipality": "旭川市",
                   "municipality_code": "012041", "first_fiscal_year": 2020,
                   "last_fiscal_year": 2024},
             update=("display_name", "E2E総合戦略(改訂)"),
             bad=({"display_name": "x", "first_fiscal_year": 99999,
                   "last_fiscal_year": 2024},
                  "strategy.first_fiscal_year")),
        dict(type="Goal", plural="Goals", field="goal", parent=strategy,
             id="goal-1", body={"number": 1, "display_name": "しごとをつくる"},
             update=("display_name", "しごとをつくる(改)"),
             bad=({"number": -1, "display_name": "x"}, "goal.number")),
        dict(type="Measure", plural="Measures", field="measure",
             parent=strategy, id="m-a",
             body={"goal": goal, "code": "ア", "display_name": "農業の振興"},
             update=("display_name", "農業の振興(改)"),
             bad=({"code": "イ", "display_name": "x"}, "measure.goal")),
        dict(type="Kpi", plural="Kpis", field="kpi", parent=strategy,
             id="k1",
             body={"measure": measure, "display_name": "新規就農者数",
                   "unit": "人", "kind": "KPI_KIND_LEVEL",
                   "direction": "DIRECTION_INCREASE",
                   "target": {"value": 67, "fiscal_year": 2024}},
             update=("display_name", "新規就農者数(累計)"),
             bad=({"measure": measure, "display_name": "x", "unit": "人",
                   "kind": "KPI_KIND_LEVEL",
                   "direction": "DIRECTION_INCREASE",
                   "target": {"value": 67, "fiscal_year": 3000}},
                  "kpi.target.fiscal_year")),
        dict(type="Observation", plural="Observations", field="observation",
             parent=kpi, id="fy2021",
             body={"fiscal_year": 2021, "value": 64,
                   "status": "OBSERVATION_STATUS_PROVISIONAL"},
             update=("value", 65.0),
             bad=({"fiscal_year": 3000, "value": 1},
                  "observation.fiscal_year"),
             bad_id="fy3000"),
        dict(type="Evaluation", plural="Evaluations", field="evaluation",
             parent=measure, id="fy2021",
             body={"fiscal_year": 2021, "rating": "RATING_CONTINUE",
                   "kpi_assessment": "順調に推移している。"},
             update=("rating", "RATING_CONTINUE_AND_EXPAND"),
             bad=({"fiscal_year": 3000, "rating": "RATING_CONTINUE"},
                  "evaluation.fiscal_year"),
             bad_id="fy3000"),
    ]


def name_of(spec):
    collection = {"Reference": "references", "Strategy": "strategies",
                  "Goal": "goals", "Measure": "measures", "Kpi": "kpis",
                  "Observation": "observations",
                  "Evaluation": "evaluations"}[spec["type"]]
    base = f"{spec['parent']}/" if spec["parent"] else ""
    return f"{base}{collection}/{spec['id']}"


class KpiServiceStandardMethodsTest(RpcTestCase):
    """Create, Get, List, Update and Delete of every resource type, in the
    order a client builds a strategy, then torn down child first."""

    INVALID = grpc.StatusCode.INVALID_ARGUMENT

    def create(self, spec, body, id_value):
        request = {spec["field"]: body, f"{spec['field']}_id": id_value}
        if spec["parent"]:
            request["parent"] = spec["parent"]
        return self.call(f"{KPI}/Create{spec['type']}", request)

    def exercise_create(self, spec):
        t, field = spec["type"], spec["field"]
        created = self.create(spec, spec["body"], spec["id"])
        name = name_of(spec)
        self.assertEqual(created["name"], name)
        self.assertTrue(created["etag"])
        self.assertTrue(created["create_time"])
        # Taken name.
        self.assertFails(f"{KPI}/Create{t}",
                         {**({"parent": spec["parent"]}
                             if spec["parent"] else {}),
                          field: spec["body"], f"{field}_id": spec["id"]},
                         grpc.StatusCode.ALREADY_EXISTS, message=name)
        # Missing ID and missing resource.
        missing = {field: spec["body"]}
        if spec["parent"]:
            missing["parent"] = spec["parent"]
        self.assertFails(f"{KPI}/Create{t}", missing, self.INVALID,
                         field=f"{field}_id")
        no_body = {f"{field}_id": "x-other"}
        if spec["parent"]:
            no_body["parent"] = spec["parent"]
        self.assertFails(f"{KPI}/Create{t}", no_body, self.INVALID,
                         field=field)
        # Out-of-range year (or other ranged field).
        bad_body, bad_field = spec["bad"]
        bad_request = {field: bad_body,
                       f"{field}_id": spec.get("bad_id", "x-bad")}
        if spec["parent"]:
            bad_request["parent"] = spec["parent"]
        self.assertFails(f"{KPI}/Create{t}", bad_request, self.INVALID,
                         field=bad_field)
        # Missing parent for a parented collection.
        if spec["parent"]:
            self.assertFails(f"{KPI}/Create{t}",
                             {field: spec["body"], f"{field}_id": "x-other"},
                             self.INVALID, field="parent")
        return created

    def exercise_get(self, spec, created):
        t = spec["type"]
        name = name_of(spec)
        self.assertEqual(self.call(f"{KPI}/Get{t}", {"name": name}), created)
        wrong = name.rsplit("/", 1)[0] + "/no-such-id"
        self.assertFails(f"{KPI}/Get{t}", {"name": wrong},
                         grpc.StatusCode.NOT_FOUND, message=wrong)
        self.assertFails(f"{KPI}/Get{t}", {"name": "not/a/name/" + t},
                         self.INVALID, field="name")
        self.assertFails(f"{KPI}/Get{t}", {}, self.INVALID, field="name")

    def exercise_list(self, spec):
        t, plural = spec["type"], spec["plural"]
        items_field = {"Strategies": "strategies"}.get(plural, plural.lower())
        base = {"parent": spec["parent"]} if spec["parent"] else {}
        listed = self.call(f"{KPI}/List{plural}", base)
        self.assertIn(name_of(spec), [r["name"] for r in listed[items_field]])
        self.assertEqual(listed["next_page_token"], "")
        # Pages of one follow the same order and end with an empty token.
        names, token = [], ""
        for _ in range(100):
            page = self.call(f"{KPI}/List{plural}",
                             {**base, "page_size": 1, "page_token": token})
            self.assertLessEqual(len(page[items_field]), 1)
            names += [r["name"] for r in page[items_field]]
            token = page["next_page_token"]
            if not token:
                break
        self.assertEqual(names, [r["name"] for r in listed[items_field]])
        self.assertFails(f"{KPI}/List{plural}",
                         {**base, "page_token": "not-a-token"}, self.INVALID,
                         field="page_token")
        self.assertFails(f"{KPI}/List{plural}", {**base, "page_size": -5},
                         self.INVALID, field="page_size")
        if spec["parent"]:
            self.assertFails(f"{KPI}/List{plural}", {}, self.INVALID,
                             field="parent")
            wrong_parent = spec["parent"].rsplit("/", 1)[0] + "/no-such-id"
            self.assertFails(f"{KPI}/List{plural}", {"parent": wrong_parent},
                             grpc.StatusCode.NOT_FOUND, message=wrong_parent)

    def exercise_update(self, spec, created):
        t, field = spec["type"], spec["field"]
        name = name_of(spec)
        key, value = spec["update"]
        updated = self.call(f"{KPI}/Update{t}", {
            field: {"name": name, key: value, "etag": created["etag"]},
            "update_mask": mask(key)})
        self.assertEqual(updated[key], value)
        self.assertNotEqual(updated["etag"], created["etag"])
        for other in spec["body"]:
            if other != key:
                self.assertEqual(updated[other], created[other], other)
        # The old etag is now stale.
        self.assertFails(f"{KPI}/Update{t}", {
            field: {"name": name, key: value, "etag": created["etag"]},
            "update_mask": mask(key)}, grpc.StatusCode.ABORTED, message="etag")
        wrong = name.rsplit("/", 1)[0] + "/no-such-id"
        self.assertFails(f"{KPI}/Update{t}",
                         {field: {"name": wrong, key: value},
                          "update_mask": mask(key)},
                         grpc.StatusCode.NOT_FOUND, message=wrong)
        self.assertFails(f"{KPI}/Update{t}",
                         {field: {"name": name, key: value},
                          "update_mask": mask("no_such_field")},
                         self.INVALID, field="update_mask.paths[0]")
        self.assertFails(f"{KPI}/Update{t}", {"update_mask": mask(key)},
                         self.INVALID, field=field)
        bad_body, bad_field = spec["bad"]
        bad_key = bad_field.split(".")[1].split("[")[0]
        self.assertFails(f"{KPI}/Update{t}",
                         {field: {**bad_body, "name": name},
                          "update_mask": mask(bad_key)},
                         self.INVALID, field=bad_field)
        return updated

    def exercise_delete(self, spec, current):
        t = spec["type"]
        name = name_of(spec)
        wrong = name.rsplit("/", 1)[0] + "/no-such-id"
        self.assertFails(f"{KPI}/Delete{t}", {"name": wrong},
                         grpc.StatusCode.NOT_FOUND, message=wrong)
        self.assertFails(f"{KPI}/Delete{t}", {}, self.INVALID, field="name")
        self.assertFails(f"{KPI}/Delete{t}",
                         {"name": name, "etag": "stale-etag"},
                         grpc.StatusCode.ABORTED, message="etag")
        self.assertEqual(
            self.call(f"{KPI}/Delete{t}",
                      {"name": name, "etag": current["etag"]}), {})
        self.assertFails(f"{KPI}/Get{t}", {"name": name},
                         grpc.StatusCode.NOT_FOUND)

    def test_every_standard_method(self):
        specs = resource_specs("e2e-crud")
        current = {}
        for spec in specs:
            # Children need their parents: stop at the first failed create.
            current[spec["type"]] = self.exercise_create(spec)
            with self.subTest(resource=spec["type"], step="get"):
                self.exercise_get(spec, current[spec["type"]])
            with self.subTest(resource=spec["type"], step="list"):
                self.exercise_list(spec)
        for spec in specs:
            with self.subTest(resource=spec["type"], step="update"):
                current[spec["type"]] = self.exercise_update(
                    spec, current[spec["type"]])
        # A parent with children cannot go without force.
        strategy = f"strategies/e2e-crud"
        self.assertFails(f"{KPI}/DeleteStrategy", {"name": strategy},
                         grpc.StatusCode.FAILED_PRECONDITION,
                         message="force")
        for spec in reversed(specs):
            with self.subTest(resource=spec["type"], step="delete"):
                self.exercise_delete(spec, current[spec["type"]])

    def test_delete_with_force_removes_children(self):
        specs = resource_specs("e2e-force")
        for spec in specs:
            self.create(spec, spec["body"], spec["id"])
        self.call(f"{KPI}/DeleteStrategy",
                  {"name": "strategies/e2e-force", "force": True})
        for spec in specs[1:]:
            self.assertFails(f"{KPI}/Get{spec['type']}",
                             {"name": name_of(spec)},
                             grpc.StatusCode.NOT_FOUND)

    def test_list_filters(self):
        level = self.call(f"{KPI}/ListKpis",
                          {"parent": SEED, "filter": "kind = KPI_KIND_LEVEL"})
        everything = self.call(f"{KPI}/ListKpis", {"parent": SEED})
        self.assertEqual(len(everything["kpis"]), 30)
        self.assertTrue(level["kpis"])
        self.assertLess(len(level["kpis"]), 30)
        self.assertTrue(all(k["kind"] == "KPI_KIND_LEVEL"
                            for k in level["kpis"]))
        self.assertFails(f"{KPI}/ListKpis",
                         {"parent": SEED, "filter": "colour = red"},
                         self.INVALID, field="filter")
        recent = self.call(f"{KPI}/ListObservations",
                           {"parent": SEED_KPI,
                            "filter": "fiscal_year >= 2020"})
        self.assertEqual([o["fiscal_year"] for o in recent["observations"]],
                         [2021])


class ImportExportTest(RpcTestCase):

    def dataset(self, prefix, observation_year=2021):
        specs = {s["type"]: s for s in resource_specs(prefix)}
        out = {}
        for t, key in (("Strategy", "strategies"), ("Goal", "goals"),
                       ("Measure", "measures"), ("Kpi", "kpis"),
                       ("Evaluation", "evaluations")):
            out[key] = [{**specs[t]["body"], "name": name_of(specs[t])}]
        kpi = name_of(specs["Kpi"])
        out["observations"] = [
            {"name": f"{kpi}/observations/fy2020", "fiscal_year": 2020,
             "value": 60},
            {"name": f"{kpi}/observations/fy{observation_year}",
             "fiscal_year": observation_year, "value": 64}]
        return out

    def test_validate_only_writes_nothing(self):
        response = self.call(f"{KPI}/ImportDataset", {
            "dataset": self.dataset("e2e-validate"), "validate_only": True})
        self.assertEqual(response["created_count"], 7)
        self.assertEqual(response["replaced_count"], 0)
        self.assertFails(f"{KPI}/GetStrategy",
                         {"name": "strategies/e2e-validate"},
                         grpc.StatusCode.NOT_FOUND)

    def test_import_creates_then_replaces(self):
        dataset = self.dataset("e2e-import")
        first = self.call(f"{KPI}/ImportDataset", {"dataset": dataset})
        self.assertEqual((first["created_count"], first["replaced_count"]),
                         (7, 0))
        again = self.call(f"{KPI}/ImportDataset", {"dataset": dataset})
        self.assertEqual((again["created_count"], again["replaced_count"]),
                         (0, 7))
        exported = self.call(f"{KPI}/ExportDataset",
                             {"strategy": "strategies/e2e-import"})
        self.assertEqual(len(exported["dataset"]["observations"]), 2)
        self.assertEqual(exported["dataset"]["kpis"][0]["display_name"],
                         "新規就農者数")

    def test_import_is_all_or_nothing(self):
        error = self.assertFails(
            f"{KPI}/ImportDataset",
            {"dataset": self.dataset("e2e-atomic", observation_year=3000)},
            grpc.StatusCode.INVALID_ARGUMENT,
            field="dataset.observations[1].fiscal_year")
        self.assertIn("3000", error.details())
        self.assertFails(f"{KPI}/GetStrategy",
                         {"name": "strategies/e2e-atomic"},
                         grpc.StatusCode.NOT_FOUND)
        self.assertFails(f"{KPI}/ImportDataset", {},
                         grpc.StatusCode.INVALID_ARGUMENT, field="dataset")
        self.assertFails(
            f"{KPI}/ImportDataset",
            {"dataset": {"observations": [
                {"name": "strategies/no-such/kpis/k/observations/fy2021",
                 "fiscal_year": 2021, "value": 1}]}},
            grpc.StatusCode.INVALID_ARGUMENT,
            field="dataset.observations[0].name")

    def test_list_changes(self):
        dataset = self.dataset("e2e-changes")
        self.call(f"{KPI}/ImportDataset", {"dataset": dataset})
        # The server authenticates no one: its callers are "anonymous".
        first = self.call(f"{KPI}/ListChanges",
                          {"resource": "strategies/e2e-changes",
                           "page_size": 4})
        self.assertEqual(len(first["changes"]), 4)
        self.assertTrue(first["next_page_token"])
        rest = self.call(f"{KPI}/ListChanges",
                         {"resource": "strategies/e2e-changes",
                          "page_size": 4,
                          "page_token": first["next_page_token"]})
        changes = first["changes"] + rest["changes"]
        self.assertEqual(len(changes), 7)
        self.assertEqual({(c["actor"], c["method"]) for c in changes},
                         {("anonymous", "ImportDataset")})
        self.assertTrue(all(c["resource"].startswith("strategies/e2e-changes")
                            for c in changes))
        seeded = self.call(f"{KPI}/ListChanges",
                           {"resource": SEED, "actor": "system",
                            "page_size": 1})
        self.assertEqual(seeded["changes"][0]["method"], "ImportDataset")
        self.assertFails(f"{KPI}/ListChanges", {"resource": "kpis/x"},
                         grpc.StatusCode.INVALID_ARGUMENT, field="resource")
        self.assertFails(f"{KPI}/ListChanges",
                         {"page_token": first["next_page_token"]},
                         grpc.StatusCode.INVALID_ARGUMENT, field="page_token")

    def test_export(self):
        everything = self.call(f"{KPI}/ExportDataset", {})["dataset"]
        seed = self.call(f"{KPI}/ExportDataset", {"strategy": SEED})["dataset"]
        self.assertEqual(len(seed["kpis"]), 30)
        self.assertEqual([s["name"] for s in seed["strategies"]], [SEED])
        self.assertGreaterEqual(len(everything["kpis"]), 30)
        self.assertTrue(all(o["name"].startswith(SEED + "/")
                            for o in seed["observations"]))
        self.assertFails(f"{KPI}/ExportDataset",
                         {"strategy": "strategies/no-such"},
                         grpc.StatusCode.NOT_FOUND,
                         message="strategies/no-such")
        self.assertFails(f"{KPI}/ExportDataset", {"strategy": "kpis/x"},
                         grpc.StatusCode.INVALID_ARGUMENT, field="strategy")


def series(series_id, points, **extra):
    return {"series_id": series_id,
            "points": [{"fiscal_year": y, "value": v} for y, v in points],
            **extra}


class ForecastServiceTest(RpcTestCase):
    INVALID = grpc.StatusCode.INVALID_ARGUMENT

    def check_projection(self, p, target_year):
        self.assertEqual(p["target_fiscal_year"], target_year)
        self.assertTrue(p["years"])
        self.assertEqual(p["years"][-1]["fiscal_year"], target_year)
        for year in p["years"]:
            i50, i80, i95 = (year["interval_50"], year["interval_80"],
                             year["interval_95"])
            self.assertLessEqual(i95["lower"], i80["lower"])
            self.assertLessEqual(i80["lower"], i50["lower"])
            self.assertLessEqual(i50["lower"], year["median"])
            self.assertLessEqual(year["median"], i50["upper"])
            self.assertLessEqual(i50["upper"], i80["upper"])
            self.assertLessEqual(i80["upper"], i95["upper"])
        # Present exactly when there is a target (even when it is 0).
        if "target_value" in p:
            self.assertGreaterEqual(p["attainment_probability"], 0)
            self.assertLessEqual(p["attainment_probability"], 1)
        else:
            self.assertNotIn("attainment_probability", p)
        self.assertTrue(p["method"])
        self.assertTrue(p["explanation"]["text"])
        self.assertTrue(p["explanation"]["summary"])

    def test_project_kpi(self):
        response = self.call(f"{FORECAST}/ProjectKpi", {"name": SEED_KPI})
        p = response["projection"]
        self.assertEqual(p["id"], SEED_KPI)
        self.assertEqual(p["target_value"], 145)
        self.check_projection(p, 2024)
        # Shock years are marked on this KPI: the other treatment is given.
        self.assertIn("WARNING_CODE_SHOCK_YEARS",
                      [w["code"] for w in p["warnings"]])
        self.assertNotEqual(response["alternative_projection"]
                            ["shock_treatment"], p["shock_treatment"])
        later = self.call(f"{FORECAST}/ProjectKpi",
                          {"name": SEED_KPI, "target_fiscal_year": 2027})
        self.check_projection(later["projection"], 2027)

        wrong = f"{SEED}/kpis/no-such-kpi"
        self.assertFails(f"{FORECAST}/ProjectKpi", {"name": wrong},
                         grpc.StatusCode.NOT_FOUND, message=wrong)
        self.assertFails(f"{FORECAST}/ProjectKpi", {}, self.INVALID,
                         field="name")
        self.assertFails(f"{FORECAST}/ProjectKpi",
                         {"name": SEED_KPI, "target_fiscal_year": 3000},
                         self.INVALID, field="target_fiscal_year")
        self.assertFails(f"{FORECAST}/ProjectKpi",
                         {"name": SEED_KPI,
                          "options": {"shock_treatment": 7}},
                         self.INVALID, field="options.shock_treatment")

    def test_calibration_skill_and_calibrate_store(self):
        skill = self.call(f"{FORECAST}/GetCalibrationSkill", {})
        self.assertEqual(skill["calibration_version"], "m3-train-v3")
        self.assertGreater(skill["series"], 0)
        self.assertGreater(int(skill["forecasts"]), 0)
        self.assertTrue(0 < skill["coverage_80"] <= 1)
        # validate_only: learned and compared, nothing stored (the store is
        # shared by the other tests).
        response = self.call(f"{FORECAST}/CalibrateStore",
                             {"validate_only": True})
        self.assertFalse(response.get("switched", False))
        self.assertEqual(response["calibration_in_use"], "m3-train-v3")
        self.assertEqual(response["in_use"]["calibration_version"],
                         "m3-train-v3")
        self.assertIn("validate_only", response["reason"])
        # A store with no history to learn from or score.
        server = harness.ServerProcess(
            os.path.join(self.tmp, "empty-calibration.sqlite3"),
            ["--seed_dataset=none"]).start()
        try:
            channel = harness.channel(server.address)
            api = reflected.ReflectedApi(channel)
            for method in ("GetCalibrationSkill", "CalibrateStore"):
                with self.assertRaises(grpc.RpcError) as caught:
                    api.unary(f"{FORECAST}/{method}", {})
                CALLED["error"].add(f"{FORECAST}/{method}")
                self.assertEqual(caught.exception.code(),
                                 grpc.StatusCode.FAILED_PRECONDITION)
                self.assertIn("two observations", caught.exception.details())
            channel.close()
        finally:
            self.assertEqual(server.stop(), 0, server.log[-2000:])

    def test_project_series(self):
        request = {"series": series("s1", [(2018, 10), (2019, 12),
                                           (2020, 13), (2021, 15)],
                                    target_value=20, target_fiscal_year=2025,
                                    probability_thresholds=[15, 20])}
        p = self.call(f"{FORECAST}/ProjectSeries", request)["projection"]
        self.assertEqual(p["id"], "s1")
        self.check_projection(p, 2025)
        self.assertEqual(p["points_used"], 4)
        self.assertEqual(p["fiscal_years_used"], [2018, 2019, 2020, 2021])
        for year in p["years"]:
            low, high = year["threshold_probabilities"]
            self.assertGreaterEqual(low, high)  # P(y>=15) >= P(y>=20)

        self.assertFails(f"{FORECAST}/ProjectSeries", {}, self.INVALID,
                         field="series")
        self.assertFails(f"{FORECAST}/ProjectSeries",
                         {"series": series("s", [(99999, 1)])}, self.INVALID,
                         field="series.points[0].fiscal_year")
        self.assertFails(f"{FORECAST}/ProjectSeries",
                         {"series": series("s", [(2020, 1), (2020, 2)])},
                         self.INVALID, field="series.points[1].fiscal_year")
        self.assertFails(f"{FORECAST}/ProjectSeries",
                         {"series": series("s", [(2020, 1)],
                                           target_value=5)},
                         self.INVALID, field="series.target_fiscal_year")

    def test_batch_project_kpis(self):
        results = self.call(f"{FORECAST}/BatchProjectKpis",
                            {"parent": SEED})["results"]
        self.assertEqual(len(results), 30)
        self.assertEqual([r["index"] for r in results],
                         [str(i) for i in range(30)])
        self.assertEqual(results, sorted(results, key=lambda r: r["id"]))
        for r in results:
            self.assertIn("projection", r, r["id"])
            self.assertEqual(r["projection"]["id"], r["id"])
        two = self.call(f"{FORECAST}/BatchProjectKpis", {
            "parent": SEED,
            "names": [SEED_KPI, f"{SEED}/kpis/no-such-kpi"]})["results"]
        self.assertEqual([r["id"] for r in two],
                         [SEED_KPI, f"{SEED}/kpis/no-such-kpi"])
        self.assertIn("projection", two[0])
        self.assertEqual(two[1]["error"]["code"],
                         grpc.StatusCode.NOT_FOUND.value[0])

        self.assertFails(f"{FORECAST}/BatchProjectKpis", {}, self.INVALID,
                         field="parent")
        self.assertFails(f"{FORECAST}/BatchProjectKpis",
                         {"parent": "strategies/no-such"},
                         grpc.StatusCode.NOT_FOUND,
                         message="strategies/no-such")
        self.assertFails(f"{FORECAST}/BatchProjectKpis",
                         {"parent": SEED, "target_fiscal_year": 1800},
                         self.INVALID, field="target_fiscal_year")

    def test_batch_project_series(self):
        results = self.call(f"{FORECAST}/BatchProjectSeries", {"series": [
            series("a", [(2019, 1), (2020, 2)]),
            series("b", [(3000, 1)]),
            series("c", [(2020, 5)], horizon=3),
        ]})["results"]
        self.assertEqual([r["id"] for r in results], ["a", "b", "c"])
        self.assertEqual([r["index"] for r in results], ["0", "1", "2"])
        self.check_projection(results[0]["projection"], 2026)
        self.check_projection(results[2]["projection"], 2023)
        self.assertEqual(results[1]["error"]["code"],
                         grpc.StatusCode.INVALID_ARGUMENT.value[0])
        self.assertIn("series[1].points[0].fiscal_year",
                      results[1]["error"]["message"])

        self.assertFails(f"{FORECAST}/BatchProjectSeries", {}, self.INVALID,
                         field="series")
        self.assertFails(f"{FORECAST}/BatchProjectSeries",
                         {"series": [series("a", [(2020, 1)])] * 1001},
                         self.INVALID, field="series")

    def test_stream_project_series(self):
        # Chunks of varied sizes; the bad series is the 3rd of chunk 2.
        ids = [f"s{i}" for i in range(50)]
        ids.insert(10, "bad-year")
        chunk_sizes = [1, 7, 3, 0, 40]
        requests, at = [], 0
        for size in chunk_sizes:
            chunk = []
            for sid in ids[at:at + size]:
                if sid == "bad-year":
                    chunk.append(series(sid, [(3000, 1)]))
                else:
                    i = int(sid[1:])
                    chunk.append(series(sid, [(2018, i + 1), (2021, i + 2)]))
            requests.append({"series": chunk})
            at += size
        self.assertEqual(at, 51)
        responses = self.stream(f"{FORECAST}/StreamProjectSeries", requests)
        self.assertEqual([len(r.get("results", [])) for r in responses],
                         chunk_sizes)
        results = [x for r in responses for x in r.get("results", [])]
        self.assertEqual([r["index"] for r in results],
                         [str(i) for i in range(51)])
        self.assertEqual([r["id"] for r in results], ids)
        error = results[10]["error"]
        self.assertEqual(error["code"],
                         grpc.StatusCode.INVALID_ARGUMENT.value[0])
        # The path names the series's position within its chunk.
        self.assertIn("series[2].points[0].fiscal_year", error["message"])
        for i, r in enumerate(results):
            if i != 10:
                self.check_projection(r["projection"], 2027)
        # A chunk over 1000 series ends the stream; earlier results stand.
        with self.assertRaises(grpc.RpcError) as raised:
            self.api.bidi(
                f"{FORECAST}/StreamProjectSeries",
                [{"series": [series("x", [(2020, 1)])]},
                 {"series": [series("y", [(2020, 1)])] * 1001}])
        self.assertEqual(raised.exception.code(),
                         grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("at most 1000 a message", raised.exception.details())


if __name__ == "__main__":
    unittest.main()
