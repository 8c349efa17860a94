"""The hostile-client probes of issue 10, replayed against fresh kpi_server
processes; prints one row per probe: what the issue measured before the
hardening, and what happens now.

Memory and stream figures are also measured in the same run on a peer: the
same binary with the bounds switched off (--max_memory_bytes=0
--max_concurrent_streams=0 --stream_idle_timeout=0 --max_threads=100000),
which is how the server
behaved before; the ratio is ours / peer.

Usage: bench/hostile/run.sh BUILD_DIR   (sets the environment harness.py reads)
"""

import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "tests", "e2e"))
import harness  # noqa: E402
from test_limits import oversized  # noqa: E402  (one request builder)

MIB = 1 << 20
SEED = "strategies/asahikawa-2020"
UNBOUNDED = ("--max_memory_bytes=0", "--max_concurrent_streams=0",
             "--stream_idle_timeout=0", "--max_threads=100000")
TOKENS = {"reader": "probe-reader-token", "writer": "probe-writer-token",
          "admin": "probe-admin-token"}

rows = []


def row(probe, before, now):
    rows.append((probe, before, now))
    print(f"- {probe}\n    before: {before}\n    now:    {now}", flush=True)


def proc_status(pid, key):
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def kib_to_mib(kib):
    return kib / 1024


class Server:
    def __init__(self, tmp, name, args=()):
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir)
        self.process = harness.ServerProcess(
            os.path.join(self.dir, "kpi.sqlite3"), args)

    def __enter__(self):
        self.process.start()
        self.channel = harness.channel(self.process.address)
        return self

    def __exit__(self, *exc):
        self.channel.close()
        self.process.stop()

    @property
    def pid(self):
        return self.process.process.pid

    def raw(self, method, request, metadata=(), timeout=120):
        import grpc
        call = self.channel.unary_unary(
            method, request_serializer=lambda b: b,
            response_deserializer=lambda b: b)
        try:
            return call(request, timeout=timeout, metadata=metadata), None
        except grpc.RpcError as error:
            return None, error

    def stub(self, module, name):
        return getattr(module, name)(self.channel)


def describe(error, limit=160):
    if error is None:
        return "OK"
    details = " ".join((error.details() or "").split())
    short = details if len(details) <= limit else details[:limit] + "…"
    return f"{error.code().name} ({len(details)} chars): {short}"


def bearer(role):
    return (("authorization", f"Bearer {TOKENS[role]}"),)


def tokens_file(directory):
    import hashlib
    path = os.path.join(directory, "tokens")
    with open(path, "w", encoding="utf-8") as f:
        for role, token in TOKENS.items():
            f.write(f"{role} {hashlib.sha256(token.encode()).hexdigest()} "
                    f"probe-{role}\n")
    return path


def memory_probes(tmp):
    method = "/kpi.v1.ForecastService/ProjectSeries"
    figures = {}
    for label, args in (("ours", ()), ("peer", UNBOUNDED)):
        with Server(tmp, f"mem-one-{label}", ("--seed_dataset=none", *args)) \
                as server:
            before = proc_status(server.pid, "VmHWM")
            _, error = server.raw(method, oversized(1 << 30))
            growth = kib_to_mib(proc_status(server.pid, "VmHWM") - before)
            time.sleep(0.5)
            logged = "ProjectSeries RESOURCE_EXHAUSTED" in server.process.log
            figures[("one", label)] = (growth, error, logged)
        with Server(tmp, f"mem-four-{label}",
                    ("--seed_dataset=none", *args)) as server:
            before_hwm = proc_status(server.pid, "VmHWM")
            before_rss = proc_status(server.pid, "VmRSS")
            request = oversized(400 * MIB)
            with concurrent.futures.ThreadPoolExecutor(4) as pool:
                errors = list(pool.map(
                    lambda _: server.raw(method, request)[1], range(4)))
            del request
            time.sleep(2)
            peak = kib_to_mib(proc_status(server.pid, "VmHWM") - before_hwm)
            held = kib_to_mib(proc_status(server.pid, "VmRSS") - before_rss)
            figures[("four", label)] = (peak, held, errors)
    ours, peer = figures[("one", "ours")], figures[("one", "peer")]
    row("one 1 GB request (peak RSS growth)",
        "1,029 MiB RSS, no line in the call log",
        f"+{ours[0]:.1f} MiB, {ours[1].code().name if ours[1] else 'OK'}, "
        f"in the call log: {ours[2]}; peer (no quota) +{peer[0]:.1f} MiB: "
        f"ratio {ours[0] / max(peer[0], 1e-9):.3f}")
    ours, peer = figures[("four", "ours")], figures[("four", "peer")]
    codes = sorted({e.code().name if e else "OK" for e in ours[2]})
    row("four concurrent 400 MB requests (peak / still held after 2 s)",
        "1,466 MiB peak, 796 MiB held",
        f"+{ours[0]:.1f} / +{ours[1]:.1f} MiB ({', '.join(codes)}); peer "
        f"+{peer[0]:.1f} / +{peer[1]:.1f} MiB: peak ratio "
        f"{ours[0] / max(peer[0], 1e-9):.3f}")


def idle_streams(tmp, count=500):
    import grpc
    figures = {}
    for label, args in (("ours", ()), ("peer", UNBOUNDED)):
        with Server(tmp, f"streams-{label}", ("--seed_dataset=none", *args)) \
                as server:
            threads_before = proc_status(server.pid, "Threads")
            rss_before = proc_status(server.pid, "VmRSS")
            release = threading.Event()

            def idle():
                release.wait()
                return
                yield  # a generator that sends nothing until released

            call = server.channel.stream_stream(
                "/kpi.v1.ForecastService/StreamProjectSeries",
                request_serializer=lambda b: b,
                response_deserializer=lambda b: b)
            calls = [call(idle(), timeout=120) for _ in range(count)]
            time.sleep(3)
            threads = proc_status(server.pid, "Threads") - threads_before
            rss = kib_to_mib(proc_status(server.pid, "VmRSS") - rss_before)
            refused = 0
            for c in calls:
                if c.done() and c.code() == grpc.StatusCode.RESOURCE_EXHAUSTED:
                    refused += 1
            release.set()
            for c in calls:
                c.cancel()
            figures[label] = (threads, rss, refused)
    ours, peer = figures["ours"], figures["peer"]
    row(f"{count} idle StreamProjectSeries streams",
        "516 threads, 575 MiB, never timed out",
        f"{count - ours[2]} open, {ours[2]} refused RESOURCE_EXHAUSTED, "
        f"+{ours[0]} threads, +{ours[1]:.1f} MiB, idle ones end after "
        f"--stream_idle_timeout (1m); peer: +{peer[0]} threads, "
        f"+{peer[1]:.1f} MiB: RSS ratio {ours[1] / max(peer[1], 1e-9):.3f}")


def idle_timeout(tmp):
    """One idle stream on a server whose --stream_idle_timeout is 2 s."""
    with Server(tmp, "idle", ("--seed_dataset=none",
                              "--stream_idle_timeout=2s")) as server:
        release = threading.Event()

        def idle():
            release.wait()
            return
            yield

        call = server.channel.stream_stream(
            "/kpi.v1.ForecastService/StreamProjectSeries",
            request_serializer=lambda b: b,
            response_deserializer=lambda b: b)(idle(), timeout=60)
        started = time.monotonic()
        try:
            for _ in call:
                pass
            outcome = "OK"
        except Exception as e:
            outcome = describe(e, 90)
        elapsed = time.monotonic() - started
        release.set()
        logged = "StreamProjectSeries DEADLINE_EXCEEDED" in server.process.log
    row("an idle stream (--stream_idle_timeout=2s)", "never timed out",
        f"ended after {elapsed:.1f} s: {outcome}; in the call log: {logged}")


def write_probes(tmp):
    from kpi.v1 import kpi_service_pb2 as ks, kpi_service_pb2_grpc as ksg
    from kpi.v1 import resources_pb2 as res
    with Server(tmp, "writes", ("--auth_tokens_file=" + tokens_file(tmp),)) \
            as server:
        kpis = server.stub(ksg, "KpiServiceStub")
        listed = kpis.ListKpis(ks.ListKpisRequest(parent=SEED, page_size=2),
                               metadata=bearer("reader"))
        kpi = listed.kpis[0]
        measure = kpi.measure

        # 8 MiB: under the 16 MiB message limit, so the field's own cap
        # has to refuse it.
        big = res.Kpi(measure=measure, display_name="旭" * (8 * MIB // 3),
                      unit="件", kind=res.KPI_KIND_LEVEL,
                      direction=res.DIRECTION_INCREASE)
        try:
            kpis.CreateKpi(ks.CreateKpiRequest(parent=SEED, kpi=big,
                                               kpi_id="probe-big"),
                           metadata=bearer("writer"), timeout=60)
            error = None
        except Exception as e:  # grpc.RpcError
            error = e
        reads = []
        for what, call in (
                ("ListKpis", lambda: kpis.ListKpis(
                    ks.ListKpisRequest(parent=SEED, page_size=1000),
                    metadata=bearer("reader"))),
                ("ExportDataset", lambda: kpis.ExportDataset(
                    ks.ExportDatasetRequest(strategy=SEED),
                    metadata=bearer("reader")))):
            try:
                call()
                reads.append(f"{what} OK")
            except Exception as e:
                reads.append(f"{what} {e.code().name}")
        row("CreateKpi with an 8 MiB display_name (16 MiB in the issue)",
            "accepted; then Export, List, kpictl export/list all fail",
            f"{describe(error)}; after it: {', '.join(reads)}")

        observations = kpis.ListObservations(
            ks.ListObservationsRequest(parent=kpi.name, page_size=1),
            metadata=bearer("reader")).observations
        codes, first = [], None
        for _ in range(3):
            update = ks.UpdateObservationRequest(
                observation=observations[0], reason="理" * (6 * MIB // 3))
            update.observation.value += 1
            update.update_mask.paths.append("value")
            try:
                kpis.UpdateObservation(update, metadata=bearer("writer"),
                                       timeout=60)
                codes.append("OK")
            except Exception as e:
                codes.append(e.code().name)
                first = first or describe(e, 100)
        after = kpis.GetObservation(
            ks.GetObservationRequest(name=observations[0].name),
            metadata=bearer("reader"))
        row("three UpdateObservation with a 6 MiB reason",
            "18 MB committed, the third told RESOURCE_EXHAUSTED, reads fail "
            "after",
            f"{', '.join(codes)} ({first}); value unchanged: "
            f"{after.value == observations[0].value}; "
            f"revisions {len(observations[0].revisions)} -> "
            f"{len(after.revisions)}")

        results = []
        for who, metadata in (("no token", ()), ("reader", bearer("reader")),
                              ("writer", bearer("writer"))):
            try:
                kpis.DeleteStrategy(ks.DeleteStrategyRequest(name=SEED,
                                                             force=True,
                                                             etag="probe"),
                                    metadata=metadata)
                results.append(f"{who}: OK")
            except Exception as e:
                results.append(f"{who}: {describe(e, 70)}")
        row("DeleteStrategy force=true by any peer",
            "succeeds for anyone, plaintext on 0.0.0.0",
            "; ".join(results))

        filter_text = " AND ".join(['unit = "件"'] * 999)
        _, error = server.raw(
            "/kpi.v1.KpiService/ListKpis",
            ks.ListKpisRequest(parent=SEED,
                               filter=filter_text).SerializeToString(),
            bearer("reader"))
        leaked = error is not None and "SELECT" in (error.details() or "")
        row("ListKpis with 999 ANDed conditions",
            "INTERNAL with 16 KB of SQL",
            f"{describe(error, 110)}; SQL in the message: {leaked}")
        filter_text = " AND ".join(['unit = "件"'] * 17)
        _, error = server.raw(
            "/kpi.v1.KpiService/ListKpis",
            ks.ListKpisRequest(parent=SEED,
                               filter=filter_text).SerializeToString(),
            bearer("reader"))
        row("ListKpis with 17 ANDed conditions (short enough)", "—",
            describe(error, 110))

        _, error = server.raw(
            "/kpi.v1.KpiService/ListKpis",
            ks.ListKpisRequest(parent=SEED, page_size=2,
                               page_token="A" * 100_000).SerializeToString(),
            bearer("reader"))
        row("ListKpis with a 100 KB page token",
            "echoed whole: the client sees RESOURCE_EXHAUSTED",
            describe(error, 110))

        token = listed.next_page_token
        outcomes = []
        for position in (len(token) // 2, len(token) - 3):
            flipped = "B" if token[position] != "B" else "C"
            forged = token[:position] + flipped + token[position + 1:]
            _, error = server.raw(
                "/kpi.v1.KpiService/ListKpis",
                ks.ListKpisRequest(parent=SEED, page_size=2,
                                   page_token=forged).SerializeToString(),
                bearer("reader"))
            outcomes.append(describe(error, 70))
        row("ListKpis with a page token one character changed",
            "accepted: the cursor moves anywhere", " | ".join(outcomes))

        _, error = server.raw("/kpi.v1.KpiService/ListKpis",
                              b"\xff\xff\xff\xff", bearer("reader"))
        row("malformed protobuf", "INTERNAL, empty message", describe(error))

        _, error = server.raw(
            "/kpi.v1.KpiService/CreateObservation",
            ks.CreateObservationRequest(
                parent=SEED + "/kpis/no-such-kpi", observation_id="fy2021",
                observation=res.Observation(fiscal_year=2021, value=1))
            .SerializeToString(), bearer("writer"))
        row("CreateObservation under a missing KPI", "INVALID_ARGUMENT",
            describe(error, 110))

        exported = kpis.ExportDataset(ks.ExportDatasetRequest(strategy=SEED),
                                      metadata=bearer("reader")).dataset
        stale = res.Kpi()
        stale.CopyFrom(exported.kpis[0])
        stale.etag = "W/\"stale\""
        stale.display_name = stale.display_name + "（上書き）"
        request = ks.ImportDatasetRequest()
        request.dataset.kpis.append(stale)
        _, error = server.raw("/kpi.v1.KpiService/ImportDataset",
                              request.SerializeToString(), bearer("writer"))
        now = kpis.GetKpi(ks.GetKpiRequest(name=stale.name),
                          metadata=bearer("reader"))
        row("ImportDataset of a KPI with a stale etag",
            "replaces the KPI whatever the etag",
            f"{describe(error, 110)}; stored name unchanged: "
            f"{now.display_name == exported.kpis[0].display_name}")

    from kpi.v1 import forecast_service_pb2 as fs
    with Server(tmp, "engine", ("--seed_dataset=none",)) as server:
        series = fs.Series(series_id="huge", unit="件", target_value=1.5e308,
                           target_fiscal_year=2024)
        for year, value in ((2019, 1.0e308), (2020, 1.3e308),
                            (2021, 1.6e308)):
            series.points.add(fiscal_year=year, value=value)
        _, error = server.raw(
            "/kpi.v1.ForecastService/ProjectSeries",
            fs.ProjectSeriesRequest(series=series).SerializeToString())
        row("ProjectSeries of finite values near 1e308",
            "projected_value inf, interval [-inf, inf], on track at 96%",
            describe(error, 130))


def listen_probe(tmp):
    result = subprocess.run(
        [harness.tool("KPI_SERVER"), "--listen=0.0.0.0:0",
         f"--db={os.path.join(tmp, 'listen.sqlite3')}"],
        capture_output=True, text=True, timeout=60)
    last = result.stderr.strip().splitlines()[-1] if result.stderr else ""
    row("plaintext on a non-loopback --listen",
        "serves 0.0.0.0 in plaintext",
        f"exit {result.returncode}: {last[:150]}")


def csv_probe(tmp):
    kpictl = harness.tool("KPICTL")
    with Server(tmp, "csv") as server:
        csv_path = os.path.join(tmp, "observations.csv")
        subprocess.run([kpictl, f"--server={server.process.address}",
                        "export", "--format=csv", f"--out={csv_path}",
                        "--encoding=utf-8"],
                       check=True, capture_output=True,
                       env=harness.client_env())
        with open(csv_path, "rb") as f:
            lines = f.read().split(b"\n")
        # One row re-encoded as CP932, as a spreadsheet would save it.
        victim = next(i for i, line in enumerate(lines)
                      if i > 0 and any(b >= 0x80 for b in line))
        lines[victim] = lines[victim].decode("utf-8").encode("cp932")
        mixed = os.path.join(tmp, "mixed.csv")
        with open(mixed, "wb") as f:
            f.write(b"\n".join(lines))
        result = subprocess.run(
            [kpictl, f"--server={server.process.address}", "import", mixed],
            capture_output=True, text=True, env=harness.client_env())
        row("kpictl import of a UTF-8 CSV with one CP932 row",
            "decoded whole as CP932: 旭川市 stored as 譌ｭ蟾晏ｸ, success",
            f"exit {result.returncode}, row {victim + 1}: "
            f"{result.stderr.strip()[:170]}")


def main():
    harness.generated_stubs()
    with tempfile.TemporaryDirectory(prefix="kpi-hostile-") as tmp:
        write_probes(tmp)
        listen_probe(tmp)
        csv_probe(tmp)
        idle_streams(tmp)
        idle_timeout(tmp)
        memory_probes(tmp)
    print("\n| probe | before (issue 10) | now |\n|---|---|---|")
    for probe, before, now in rows:
        print(f"| {probe} | {before} | {now.replace('|', '/')} |")


if __name__ == "__main__":
    main()
