"""Crash: kpi_server is killed with SIGKILL while clients write as fast as
they can; restarted on the same store, it must hold every acknowledged write
with its acknowledged value, history and etag, and the store must be
consistent. Runs on a SQLite file and on a fresh PostgreSQL database.

Each writer thread has KPIs of its own, so its writes never conflict: per
KPI it creates an observation per fiscal year and corrects it twice with the
etag it was given. A write that returned OK is acknowledged; the one call a
writer had in flight when the server died may or may not have happened, and
is the only uncertainty the checks allow.
"""

import os
import signal
import shutil
import sqlite3
import tempfile
import threading
import time
import traceback
import unittest

import grpc

import harness
import pgdb

WRITERS = 3
# Kill after RUN_S, once at least MIN_ACKNOWLEDGED writes were acknowledged
# (a loaded machine may need longer; RUN_LIMIT_S bounds the wait).
RUN_S = 1.5
MIN_ACKNOWLEDGED = 60
RUN_LIMIT_S = 20
CALL_TIMEOUT_S = 10
STRATEGY = "strategies/crash"
MEASURE = f"{STRATEGY}/measures/m-a"
# Observation years must lie within 30 years of the plan period (2020-2024).
YEARS = range(1995, 2051)
CORRECTIONS = 2
SERVER_ARGS = ("--seed_dataset=none", "--log_calls=false")
# How a call fails when the server process is gone.
SERVER_GONE = (grpc.StatusCode.UNAVAILABLE,)


def pb():
    harness.generated_stubs()
    from google.protobuf import field_mask_pb2
    from kpi.v1 import kpi_service_pb2
    from kpi.v1 import kpi_service_pb2_grpc
    from kpi.v1 import resources_pb2
    return field_mask_pb2, kpi_service_pb2, kpi_service_pb2_grpc, resources_pb2


class ServerGone(Exception):
    pass


class Writer(threading.Thread):
    """Writes through `stub` until the server dies; records what was
    acknowledged, and the call in flight at that moment (`in_flight`: kind,
    name, value, reason)."""

    def __init__(self, stub, index, killed):
        super().__init__(name=f"writer-{index}", daemon=True)
        self.stub = stub
        self.index = index
        self.killed = killed
        self.kpis = []
        # name -> {"values": [...], "reasons": [...], "etag": str}, values
        # and reasons in the order acknowledged.
        self.observations = {}
        self.acknowledged = 0
        self.in_flight = None
        self.error = None

    def call(self, kind, name, value, reason, method, request):
        self.in_flight = (kind, name, value, reason)
        try:
            response = method(request, timeout=CALL_TIMEOUT_S)
        except grpc.RpcError as e:
            if self.killed.is_set() and e.code() in SERVER_GONE:
                raise ServerGone() from e
            raise
        self.in_flight = None
        self.acknowledged += 1
        return response

    def run(self):
        field_mask_pb2, service, _, resources = pb()
        value = 0.0
        try:
            for k in range(1000):
                kpi = f"{STRATEGY}/kpis/w{self.index}-k{k}"
                self.call("kpi", kpi, None, None, self.stub.CreateKpi,
                          service.CreateKpiRequest(
                              parent=STRATEGY, kpi_id=kpi.rsplit("/", 1)[1],
                              kpi=resources.Kpi(
                                  measure=MEASURE, display_name=f"指標{k}",
                                  unit="人", kind=resources.KPI_KIND_LEVEL,
                                  direction=resources.DIRECTION_INCREASE,
                                  target=resources.Target(
                                      value=100, fiscal_year=2024))))
                self.kpis.append(kpi)
                for year in YEARS:
                    name = f"{kpi}/observations/fy{year}"
                    value += 1
                    created = self.call(
                        "create", name, value, None,
                        self.stub.CreateObservation,
                        service.CreateObservationRequest(
                            parent=kpi, observation_id=f"fy{year}",
                            observation=resources.Observation(
                                fiscal_year=year, value=value)))
                    record = {"values": [value], "reasons": [],
                              "etag": created.etag}
                    self.observations[name] = record
                    for n in range(CORRECTIONS):
                        value += 1
                        reason = f"correction {n + 1} by writer {self.index}"
                        updated = self.call(
                            "update", name, value, reason,
                            self.stub.UpdateObservation,
                            service.UpdateObservationRequest(
                                observation=resources.Observation(
                                    name=name, value=value,
                                    etag=record["etag"]),
                                update_mask=field_mask_pb2.FieldMask(
                                    paths=["value"]),
                                reason=reason))
                        record["values"].append(value)
                        record["reasons"].append(reason)
                        record["etag"] = updated.etag
            self.error = "wrote 1000 KPIs and the server was still up"
        except ServerGone:
            pass
        except Exception:  # reported by the test, with the call in flight
            self.error = traceback.format_exc()


class CrashTest:
    """The scenario, on the store named by db() (set up by a subclass)."""

    def db(self):
        raise NotImplementedError

    def check_store_files(self):
        """Backend-specific checks of the store after the final stop."""

    def setup_strategy(self, stub):
        _, service, _, resources = pb()
        stub.CreateStrategy(service.CreateStrategyRequest(
            strategy_id="crash", strategy=resources.Strategy(
                display_name="クラッシュ試験", municipality="旭川市",
                municipality_code="012041", first_fiscal_year=2020,
                last_fiscal_year=2024)), timeout=CALL_TIMEOUT_S)
        stub.CreateGoal(service.CreateGoalRequest(
            parent=STRATEGY, goal_id="goal-1",
            goal=resources.Goal(number=1, display_name="しごと")),
            timeout=CALL_TIMEOUT_S)
        stub.CreateMeasure(service.CreateMeasureRequest(
            parent=STRATEGY, measure_id="m-a",
            measure=resources.Measure(goal=f"{STRATEGY}/goals/goal-1",
                                      code="ア", display_name="施策")),
            timeout=CALL_TIMEOUT_S)

    def write_until_killed(self):
        """Runs the writers against a server, kills it with SIGKILL, and
        returns the writers once they have stopped."""
        _, _, grpc_stubs, _ = pb()
        server = harness.ServerProcess(self.db(), SERVER_ARGS).start()
        channel = harness.channel(server.address)
        try:
            stub = grpc_stubs.KpiServiceStub(channel)
            self.setup_strategy(stub)
            killed = threading.Event()
            writers = [Writer(stub, i, killed) for i in range(WRITERS)]
            for w in writers:
                w.start()
            start = time.monotonic()
            while True:
                time.sleep(0.05)
                elapsed = time.monotonic() - start
                acknowledged = sum(w.acknowledged for w in writers)
                if (not all(w.is_alive() for w in writers)
                        or elapsed > RUN_LIMIT_S
                        or (elapsed >= RUN_S
                            and acknowledged >= MIN_ACKNOWLEDGED)):
                    break
            killed.set()
            os.kill(server.process.pid, signal.SIGKILL)
            code = server.process.wait(harness.STOP_TIMEOUT_S)
            for w in writers:
                w.join(CALL_TIMEOUT_S + 5)
                self.assertFalse(w.is_alive(), f"{w.name} did not stop")
        finally:
            channel.close()
            server.stop()
        self.assertEqual(code, -signal.SIGKILL, server.log[-4000:])
        for w in writers:
            self.assertIsNone(w.error, f"{w.name} failed before the kill "
                              f"(in flight: {w.in_flight}):\n{w.error}")
        acknowledged = sum(w.acknowledged for w in writers)
        self.assertGreaterEqual(
            acknowledged, MIN_ACKNOWLEDGED,
            f"only {acknowledged} writes acknowledged in {elapsed:.1f}s")
        print(f"\n{self.id()}: SIGKILL after {elapsed:.2f}s, {acknowledged} "
              f"writes acknowledged, "
              f"{sum(w.in_flight is not None for w in writers)} in flight",
              flush=True)
        return writers

    def test_acknowledged_writes_survive_sigkill(self):
        writers = self.write_until_killed()
        _, service, grpc_stubs, resources = pb()
        server = harness.ServerProcess(self.db(), SERVER_ARGS).start()
        channel = harness.channel(server.address)
        try:
            stub = grpc_stubs.KpiServiceStub(channel)
            self.check_after_restart(stub, writers)
        finally:
            channel.close()
            code = server.stop()
        self.assertEqual(code, 0, server.log[-4000:])
        self.check_store_files()

    def check_after_restart(self, stub, writers):
        field_mask_pb2, service, _, resources = pb()
        dataset = stub.ExportDataset(
            service.ExportDatasetRequest(strategy=STRATEGY),
            timeout=CALL_TIMEOUT_S).dataset
        stored_kpis = {k.name for k in dataset.kpis}
        stored = {o.name: o for o in dataset.observations}
        self.assertEqual(len(stored), len(dataset.observations))

        # Consistency: parents exist, histories are ordered in time.
        for o in dataset.observations:
            self.assertIn(o.name.split("/observations/")[0], stored_kpis,
                          f"{o.name} has no KPI")
            times = [o.create_time.ToNanoseconds()]
            times += [r.revise_time.ToNanoseconds() for r in o.revisions]
            times.append(o.update_time.ToNanoseconds())
            self.assertEqual(times, sorted(times), f"{o.name}: {o}")

        # The stored resources are the acknowledged ones, plus at most the
        # one create each writer had in flight.
        acked_kpis = {k for w in writers for k in w.kpis}
        acked_observations = {n for w in writers for n in w.observations}
        maybe_kpis = {w.in_flight[1] for w in writers
                      if w.in_flight and w.in_flight[0] == "kpi"}
        maybe_observations = {w.in_flight[1] for w in writers
                              if w.in_flight and w.in_flight[0] == "create"}
        self.assertEqual(acked_kpis - stored_kpis, set(),
                         "acknowledged KPIs are missing")
        self.assertEqual(stored_kpis - acked_kpis - maybe_kpis, set(),
                         "KPIs that were never written")
        self.assertEqual(acked_observations - set(stored), set(),
                         "acknowledged observations are missing")
        self.assertEqual(set(stored) - acked_observations - maybe_observations,
                         set(), "observations that were never written")

        # Every acknowledged value, its history and its etag.
        applied_in_flight = 0
        for w in writers:
            kind, pending_name, pending_value, pending_reason = (
                w.in_flight or (None, None, None, None))
            for name, record in w.observations.items():
                o = stored[name]
                values, reasons = record["values"], record["reasons"]
                if (kind == "update" and name == pending_name
                        and o.value == pending_value):
                    applied_in_flight += 1
                    values = values + [pending_value]
                    reasons = reasons + [pending_reason]
                else:
                    self.assertEqual(o.etag, record["etag"], name)
                self.assertEqual(o.value, values[-1], name)
                self.assertEqual([r.value for r in o.revisions], values[:-1],
                                 name)
                self.assertEqual([r.reason for r in o.revisions], reasons,
                                 name)
            if kind == "create" and pending_name in stored:
                applied_in_flight += 1
                self.assertEqual(stored[pending_name].value, pending_value)
                self.assertEqual(list(stored[pending_name].revisions), [])
            if kind == "kpi" and pending_name in stored_kpis:
                applied_in_flight += 1

        # Counts: one stored write per KPI, observation and revision.
        acknowledged = sum(w.acknowledged for w in writers)
        written = (len(stored_kpis) + len(stored)
                   + sum(len(o.revisions) for o in stored.values()))
        self.assertEqual(written, acknowledged + applied_in_flight)
        self.assertLessEqual(applied_in_flight,
                             sum(w.in_flight is not None for w in writers))

        # The restarted store takes writes: an acknowledged etag is current.
        name, record = next(iter(writers[0].observations.items()))
        if stored[name].etag == record["etag"]:
            updated = stub.UpdateObservation(
                service.UpdateObservationRequest(
                    observation=resources.Observation(
                        name=name, value=0.5, etag=record["etag"]),
                    update_mask=field_mask_pb2.FieldMask(paths=["value"]),
                    reason="after restart"),
                timeout=CALL_TIMEOUT_S)
            self.assertEqual(updated.value, 0.5)
            self.assertEqual(updated.revisions[-1].reason, "after restart")


class SqliteCrashTest(CrashTest, unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="kpi-e2e-crash-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.path = os.path.join(self.tmp, "kpi.sqlite3")

    def db(self):
        return self.path

    def check_store_files(self):
        # SQLite's own checks of the file the server left.
        with sqlite3.connect(self.path) as connection:
            self.assertEqual(
                connection.execute("PRAGMA integrity_check").fetchall(),
                [("ok",)])
            self.assertEqual(
                connection.execute("PRAGMA foreign_key_check").fetchall(), [])
        connection.close()


class PostgresCrashTest(CrashTest, unittest.TestCase):

    def setUp(self):
        database = pgdb.TemporaryDatabase("kpi_e2e_crash")
        self.addCleanup(database.drop)
        self.url = database.url

    def db(self):
        return self.url


if __name__ == "__main__":
    unittest.main()
