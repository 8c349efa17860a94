"""Issue 10, points 3 and 4, against a real kpi_server process: what a hostile
client's oversized requests cost the server in memory (its peak resident set,
VmHWM in /proc/PID/status), that each refusal is in the call log, and that
kpictl exports a store larger than one message.

The memory figures are printed (README "Bounded resources" quotes them); a
refused request raises the peak by about twice the message limit (the
quota), the assertion allows three times; and the quota still lets a request
just under the limit through (of two at once, at least one).
"""

import json
import os
import re
import subprocess
import tempfile
import threading
import time
import unittest

import harness

MIB = 1 << 20
PROJECT_SERIES = "/kpi.v1.ForecastService/ProjectSeries"


def vm_hwm_bytes(pid):
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmHWM in /proc/{pid}/status")


def oversized(size):
    """A request of `size` bytes: field 1 (a Series) holding zeros. Its
    content never matters: the size is refused first."""
    body = size - 6
    head = bytearray([0x0A])
    n = body
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            head.append(byte | 0x80)
        else:
            head.append(byte)
            break
    return bytes(head) + bytes(size - len(head))


class OversizedRequestTest(harness.ServerTestCase):
    server_args = ("--seed_dataset=none",)

    def send(self, request, timeout=120):
        import grpc
        with harness.channel(self.server.address) as channel:
            call = channel.unary_unary(
                PROJECT_SERIES, request_serializer=lambda b: b,
                response_deserializer=lambda b: b)
            try:
                call(request, timeout=timeout)
            except grpc.RpcError as error:
                return error.code()
        return grpc.StatusCode.OK

    # Named to run first (unittest sorts by name): the other test raises
    # the peak this one measures from.
    def test_a_refused_request_costs_at_most_three_times_the_limit(self):
        import grpc
        pid = self.server.process.pid
        limit = 16 * MIB  # the default --max_message_bytes
        before = vm_hwm_bytes(pid)
        figures = []
        for size in (1 << 30, 400 * MIB, 400 * MIB, 400 * MIB, 400 * MIB):
            request = oversized(size)
            code = self.send(request)
            del request
            self.assertEqual(code, grpc.StatusCode.RESOURCE_EXHAUSTED)
            figures.append((size // MIB, vm_hwm_bytes(pid) - before))
        for size_mib, growth in figures:
            print(f"\nrequest of {size_mib} MiB: peak RSS +{growth / MIB:.1f} "
                  f"MiB over {before / MIB:.1f} MiB")
        growth = vm_hwm_bytes(pid) - before
        # --max_memory_bytes (32 MiB, twice the limit) bounds what the
        # quota sees; what gRPC reads before the quota resets the stream
        # comes on top, and the server gives back what a refused request
        # held (without that, another request read on another thread cost
        # another quota). Measured over 30 runs: +33.1 to +33.5 MiB in 20,
        # up to +44.3 MiB in the rest (it was up to +48.1), so the bound is
        # 3 times the limit, far below buffering a request whole (+1,029 MiB
        # for the 1 GB one).
        self.assertLessEqual(growth, 3 * limit,
                             f"peak RSS grew by {growth / MIB:.1f} MiB")
        # Each refusal is a line of the call log with its code.
        deadline = time.monotonic() + 10
        pattern = re.compile(
            r"^rpc /kpi\.v1\.ForecastService/ProjectSeries "
            r"RESOURCE_EXHAUSTED ", re.M)
        while (len(pattern.findall(self.server.log)) < len(figures) and
               time.monotonic() < deadline):
            time.sleep(0.05)
        self.assertEqual(len(pattern.findall(self.server.log)), len(figures),
                         self.server.log[-2000:])


    def test_requests_just_under_the_limit_are_received_whole(self):
        import grpc
        # Just under the limit, the quota (twice the limit) must let a
        # request through. Its content is not a Series, so it is
        # INVALID_ARGUMENT, which needs the request whole.
        request = oversized(16 * MIB - 1024)
        self.assertEqual(self.send(request), grpc.StatusCode.INVALID_ARGUMENT)
        # Two at once share the quota with gRPC's read buffers: a fresh-clone
        # run saw one of them refused (RESOURCE_EXHAUSTED, which a client
        # may retry), so at least one must get through and no other code
        # may come back.
        codes = []
        threads = [threading.Thread(target=lambda: codes.append(
            self.send(request))) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertIn(grpc.StatusCode.INVALID_ARGUMENT, codes)
        self.assertLessEqual(set(codes), {grpc.StatusCode.INVALID_ARGUMENT,
                                          grpc.StatusCode.RESOURCE_EXHAUSTED})


class ExportInPagesTest(harness.ServerTestCase):
    # The smallest message limit, so that a small store spans pages.
    server_args = ("--max_message_bytes=1048576",)

    def kpictl(self, *args):
        result = subprocess.run(
            [harness.tool("KPICTL"), f"--server={self.server.address}",
             *args], capture_output=True, text=True, encoding="utf-8",
            env=harness.client_env(), timeout=120, check=False)
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout

    def test_kpictl_exports_a_store_larger_than_one_message(self):
        with tempfile.TemporaryDirectory() as tmp:
            seed = os.path.join(tmp, "seed.json")
            self.kpictl("export", f"--out={seed}")
            with open(seed, encoding="utf-8") as f:
                dataset = json.load(f)
            strategy = dataset["strategies"][0]["name"]
            measure = dataset["measures"][0]["name"]
            # 120 KPIs whose texts are at their caps: about 1.5 MB.
            note = "\U00020B9F" * 2000
            big = {"kpis": [{
                "name": f"{strategy}/kpis/big-{i:03d}",
                "measure": measure,
                "displayName": "\U00020B9F" * 200,
                "englishName": "\U00020B9F" * 400,
                "measurementNote": note,
                "unit": "件", "kind": "KPI_KIND_LEVEL",
                "direction": "DIRECTION_INCREASE",
                "target": {"value": 10,
                           "fiscalYear": dataset["strategies"][0].get(
                               "lastFiscalYear",
                               dataset["strategies"][0].get(
                                   "last_fiscal_year"))},
            } for i in range(120)]}
            for part in range(3):
                chunk = {"kpis": big["kpis"][40 * part:40 * (part + 1)]}
                path = os.path.join(tmp, f"big-{part}.json")
                with open(path, "w", encoding="utf-8") as f:
                    json.dump(chunk, f, ensure_ascii=False)
                self.kpictl("import", path)
            out = os.path.join(tmp, "all.json")
            self.kpictl("export", f"--out={out}")
            self.assertGreater(os.path.getsize(out), 1 << 20)
            with open(out, encoding="utf-8") as f:
                exported = json.load(f)
            names = [k["name"] for k in exported["kpis"]]
            self.assertEqual(len(names), len(dataset["kpis"]) + 120)
            self.assertEqual(len(names), len(set(names)))
            self.assertEqual(len(exported["observations"]),
                             len(dataset["observations"]))


if __name__ == "__main__":
    unittest.main()
