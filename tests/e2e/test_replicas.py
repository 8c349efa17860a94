"""Two kpi_server processes on one fresh PostgreSQL database, started
together on the empty database: the builtin seed is imported once, a write
through one replica is read through the other (create, update with etag,
delete), a stale etag from one is ABORTED on the other, page tokens work
across replicas, and ProjectKpi through one reflects an observation written
through the other (its projection cache must not serve a stale answer)."""

import os
import threading
import unittest

import grpc
from google.protobuf import json_format

import harness
import pgdb

SEED = "strategies/asahikawa-2020"
SEED_FILE = "lib/dataset/data/asahikawa-fy2021.json"
IMPORTED = "the store was empty; imported"
CALL_TIMEOUT_S = 10
# Two pools of this size stay far below the cluster's max_connections.
SERVER_ARGS = ("--db_pool_size=4",)


def pb():
    harness.generated_stubs()
    from google.protobuf import field_mask_pb2
    from kpi.v1 import forecast_service_pb2
    from kpi.v1 import forecast_service_pb2_grpc
    from kpi.v1 import kpi_service_pb2
    from kpi.v1 import kpi_service_pb2_grpc
    from kpi.v1 import resources_pb2
    return (field_mask_pb2, kpi_service_pb2, kpi_service_pb2_grpc,
            forecast_service_pb2, forecast_service_pb2_grpc, resources_pb2)


class ReplicasTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.database = pgdb.TemporaryDatabase("kpi_e2e_replicas")
        cls.servers = [harness.ServerProcess(cls.database.url, SERVER_ARGS)
                       for _ in range(2)]
        # Both start at once on the empty database: migrations and the seed
        # race each other.
        errors = []

        def start(server):
            try:
                server.start()
            except BaseException as e:  # reported below, with both logs
                errors.append(e)

        threads = [threading.Thread(target=start, args=(s,))
                   for s in cls.servers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            for s in cls.servers:
                s.stop()
            cls.database.drop()
            raise AssertionError(f"a replica did not start: {errors}")
        cls.channels = [harness.channel(s.address) for s in cls.servers]
        (_, _, kpi_grpc, _, forecast_grpc, _) = pb()
        cls.a, cls.b = (kpi_grpc.KpiServiceStub(c) for c in cls.channels)
        cls.forecast_a, cls.forecast_b = (
            forecast_grpc.ForecastServiceStub(c) for c in cls.channels)

    @classmethod
    def tearDownClass(cls):
        for c in cls.channels:
            c.close()
        codes = [s.stop() for s in cls.servers]
        cls.database.drop()
        for s, code in zip(cls.servers, codes):
            if code != 0:
                raise AssertionError(
                    f"a replica exited with {code} on SIGTERM; stderr:\n"
                    f"{s.log[-4000:]}")

    def assertAborted(self, method, request):
        with self.assertRaises(grpc.RpcError) as caught:
            method(request, timeout=CALL_TIMEOUT_S)
        self.assertEqual(caught.exception.code(), grpc.StatusCode.ABORTED,
                         caught.exception.details())
        self.assertIn("etag", caught.exception.details())

    def assertNotFound(self, method, request):
        with self.assertRaises(grpc.RpcError) as caught:
            method(request, timeout=CALL_TIMEOUT_S)
        self.assertEqual(caught.exception.code(), grpc.StatusCode.NOT_FOUND,
                         caught.exception.details())

    def make_kpi(self, stub, strategy_id, observations):
        """Creates strategy, goal, measure and a KPI through `stub`, and the
        observations {year: value}; returns the KPI's name."""
        _, service, _, _, _, resources = pb()
        strategy = f"strategies/{strategy_id}"
        stub.CreateStrategy(service.CreateStrategyRequest(
            strategy_id=strategy_id, strategy=resources.Strategy(
                display_name="レプリカ試験", municipality="旭川市",
                municipality_code="012041", first_fiscal_year=2020,
                last_fiscal_year=2024)), timeout=CALL_TIMEOUT_S)
        stub.CreateGoal(service.CreateGoalRequest(
            parent=strategy, goal_id="goal-1",
            goal=resources.Goal(number=1, display_name="しごと")),
            timeout=CALL_TIMEOUT_S)
        stub.CreateMeasure(service.CreateMeasureRequest(
            parent=strategy, measure_id="m-a",
            measure=resources.Measure(goal=f"{strategy}/goals/goal-1",
                                      code="ア", display_name="施策")),
            timeout=CALL_TIMEOUT_S)
        stub.CreateKpi(service.CreateKpiRequest(
            parent=strategy, kpi_id="k1", kpi=resources.Kpi(
                measure=f"{strategy}/measures/m-a",
                display_name="新規就農者数", unit="人",
                kind=resources.KPI_KIND_LEVEL,
                direction=resources.DIRECTION_INCREASE,
                target=resources.Target(value=80, fiscal_year=2024))),
            timeout=CALL_TIMEOUT_S)
        kpi = f"{strategy}/kpis/k1"
        for year, value in observations.items():
            self.create_observation(stub, kpi, year, value)
        return kpi

    def create_observation(self, stub, kpi, year, value):
        _, service, _, _, _, resources = pb()
        return stub.CreateObservation(service.CreateObservationRequest(
            parent=kpi, observation_id=f"fy{year}",
            observation=resources.Observation(fiscal_year=year, value=value)),
            timeout=CALL_TIMEOUT_S)

    def test_the_seed_is_imported_by_one_replica_only(self):
        # A second import would replace every seed resource (new etags), and
        # could overwrite a correction made through the first replica
        # meanwhile.
        logs = [s.log for s in self.servers]
        self.assertEqual(
            sum(log.count(IMPORTED) for log in logs), 1,
            "both replicas saw an empty store and imported the seed:\n"
            + "\n---\n".join(log[:400] for log in logs))

    def test_both_serve_the_seed_once_without_duplicates(self):
        for s in self.servers:
            self.assertIsNone(s.process.poll(), s.log)
        _, service, _, _, _, _ = pb()
        with open(os.path.join(harness.env_path("KPI_SOURCE_DIR"),
                               SEED_FILE), encoding="utf-8") as f:
            seed = json_format.Parse(f.read(), service.Dataset())
        exports = [stub.ExportDataset(service.ExportDatasetRequest(
            strategy=SEED), timeout=CALL_TIMEOUT_S).dataset
            for stub in (self.a, self.b)]
        self.assertEqual(exports[0], exports[1])
        for field in ("strategies", "goals", "measures", "kpis",
                      "observations", "evaluations"):
            expected = sorted(r.name for r in getattr(seed, field))
            self.assertEqual(
                [r.name for r in getattr(exports[0], field)], expected, field)
        # No seed value was rewritten by a second import.
        self.assertEqual(
            [o.name for o in exports[0].observations if o.revisions], [])
        for stub in (self.a, self.b):
            kpis = stub.ListKpis(service.ListKpisRequest(
                parent=SEED, page_size=1000), timeout=CALL_TIMEOUT_S).kpis
            self.assertEqual(len(kpis), 30)
            self.assertEqual(len({k.name for k in kpis}), 30)
            strategies = stub.ListStrategies(
                service.ListStrategiesRequest(page_size=1000),
                timeout=CALL_TIMEOUT_S).strategies
            self.assertEqual(
                [s.name for s in strategies
                 if not s.name.startswith("strategies/replica-")], [SEED])

    def test_a_write_through_one_is_read_through_the_other(self):
        field_mask_pb2, service, _, _, _, resources = pb()
        name = "strategies/replica-crud"
        created = self.a.CreateStrategy(service.CreateStrategyRequest(
            strategy_id="replica-crud", strategy=resources.Strategy(
                display_name="複製", municipality="旭川市",
                municipality_code="012041", first_fiscal_year=2020,
                last_fiscal_year=2024)), timeout=CALL_TIMEOUT_S)
        self.assertEqual(self.b.GetStrategy(service.GetStrategyRequest(
            name=name), timeout=CALL_TIMEOUT_S), created)

        # An etag read through A is good for a write through B.
        from_a = self.a.GetStrategy(service.GetStrategyRequest(name=name),
                                    timeout=CALL_TIMEOUT_S).etag
        updated = self.b.UpdateStrategy(service.UpdateStrategyRequest(
            strategy=resources.Strategy(name=name, display_name="複製(改)",
                                        etag=from_a),
            update_mask=field_mask_pb2.FieldMask(paths=["display_name"])),
            timeout=CALL_TIMEOUT_S)
        self.assertNotEqual(updated.etag, from_a)
        self.assertEqual(self.a.GetStrategy(service.GetStrategyRequest(
            name=name), timeout=CALL_TIMEOUT_S), updated)

        # The etag from A is stale now, on both replicas.
        for stub in (self.a, self.b):
            self.assertAborted(
                stub.UpdateStrategy, service.UpdateStrategyRequest(
                    strategy=resources.Strategy(name=name, display_name="x",
                                                etag=from_a),
                    update_mask=field_mask_pb2.FieldMask(
                        paths=["display_name"])))
            self.assertAborted(stub.DeleteStrategy,
                               service.DeleteStrategyRequest(name=name,
                                                             etag=from_a))
        self.assertEqual(self.b.GetStrategy(service.GetStrategyRequest(
            name=name), timeout=CALL_TIMEOUT_S).display_name, "複製(改)")

        self.a.DeleteStrategy(service.DeleteStrategyRequest(
            name=name, etag=updated.etag), timeout=CALL_TIMEOUT_S)
        self.assertNotFound(self.b.GetStrategy,
                            service.GetStrategyRequest(name=name))
        listed = self.b.ListStrategies(service.ListStrategiesRequest(
            page_size=1000), timeout=CALL_TIMEOUT_S).strategies
        self.assertNotIn(name, [s.name for s in listed])

    def test_a_correction_through_one_is_in_the_history_on_the_other(self):
        field_mask_pb2, service, _, _, _, resources = pb()
        kpi = self.make_kpi(self.a, "replica-history", {2021: 64})
        name = f"{kpi}/observations/fy2021"
        first = self.b.GetObservation(service.GetObservationRequest(
            name=name), timeout=CALL_TIMEOUT_S)
        self.assertEqual(first.value, 64)
        corrected = self.b.UpdateObservation(service.UpdateObservationRequest(
            observation=resources.Observation(name=name, value=65,
                                              etag=first.etag),
            update_mask=field_mask_pb2.FieldMask(paths=["value"]),
            reason="確定値"), timeout=CALL_TIMEOUT_S)
        seen = self.a.GetObservation(service.GetObservationRequest(
            name=name), timeout=CALL_TIMEOUT_S)
        self.assertEqual(seen, corrected)
        self.assertEqual(seen.value, 65)
        self.assertEqual([(r.value, r.reason) for r in seen.revisions],
                         [(64, "確定値")])
        self.assertAborted(self.a.UpdateObservation,
                           service.UpdateObservationRequest(
                               observation=resources.Observation(
                                   name=name, value=66, etag=first.etag),
                               update_mask=field_mask_pb2.FieldMask(
                                   paths=["value"])))
        self.a.DeleteObservation(service.DeleteObservationRequest(
            name=name, etag=corrected.etag), timeout=CALL_TIMEOUT_S)
        self.assertNotFound(self.b.GetObservation,
                            service.GetObservationRequest(name=name))
        self.a.DeleteStrategy(service.DeleteStrategyRequest(
            name="strategies/replica-history", force=True),
            timeout=CALL_TIMEOUT_S)

    def test_page_tokens_work_on_either_replica(self):
        _, service, _, _, _, _ = pb()
        everything = [k.name for k in self.a.ListKpis(service.ListKpisRequest(
            parent=SEED, page_size=1000), timeout=CALL_TIMEOUT_S).kpis]
        names, token, stubs = [], "", (self.a, self.b)
        for page in range(100):
            response = stubs[page % 2].ListKpis(service.ListKpisRequest(
                parent=SEED, page_size=7, page_token=token),
                timeout=CALL_TIMEOUT_S)
            names += [k.name for k in response.kpis]
            token = response.next_page_token
            if not token:
                break
        self.assertEqual(names, everything)
        self.assertEqual(len(names), 30)

    def test_a_projection_through_one_reflects_a_write_through_the_other(self):
        field_mask_pb2, service, _, forecast, _, resources = pb()
        kpi = self.make_kpi(self.a, "replica-projection",
                            {2017: 40, 2018: 44, 2019: 47, 2020: 52})
        request = forecast.ProjectKpiRequest(name=kpi)

        def project(stub):
            return stub.ProjectKpi(request, timeout=CALL_TIMEOUT_S)

        before = project(self.forecast_b)
        self.assertEqual(list(before.projection.fiscal_years_used),
                         [2017, 2018, 2019, 2020])
        # Asked again, B may answer from its cache.
        self.assertEqual(project(self.forecast_b), before)

        created = self.create_observation(self.a, kpi, 2021, 58)
        after_create = project(self.forecast_b)
        self.assertEqual(list(after_create.projection.fiscal_years_used),
                         [2017, 2018, 2019, 2020, 2021],
                         "replica B served a projection made before A's "
                         "write")
        self.assertEqual(after_create, project(self.forecast_a))

        corrected = self.a.UpdateObservation(service.UpdateObservationRequest(
            observation=resources.Observation(
                name=created.name, value=30, etag=created.etag),
            update_mask=field_mask_pb2.FieldMask(paths=["value"]),
            reason="訂正"), timeout=CALL_TIMEOUT_S)
        after_update = project(self.forecast_b)
        self.assertNotEqual(after_update, after_create,
                            "replica B served a projection made before A's "
                            "correction")
        self.assertEqual(after_update, project(self.forecast_a))

        self.a.DeleteObservation(service.DeleteObservationRequest(
            name=created.name, etag=corrected.etag), timeout=CALL_TIMEOUT_S)
        self.assertEqual(project(self.forecast_b), before)
        self.a.DeleteStrategy(service.DeleteStrategyRequest(
            name="strategies/replica-projection", force=True),
            timeout=CALL_TIMEOUT_S)


if __name__ == "__main__":
    unittest.main()
