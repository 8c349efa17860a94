"""The server through `buf curl`, a grpcurl-like client by Buf that resolves
every schema through server reflection. Its exit code is the gRPC code
shifted left by 3 bits; errors come as JSON on stderr."""

import json
import subprocess
import unittest

import harness

SEED = "strategies/asahikawa-2020"
SEED_KPI = f"{SEED}/kpis/airport-passengers"
INVALID_ARGUMENT, NOT_FOUND = 3, 5


def json_documents(text):
    """The JSON documents printed one after another (streaming output)."""
    decoder = json.JSONDecoder()
    out, i = [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i == len(text):
            return out
        document, i = decoder.raw_decode(text, i)
        out.append(document)


class BufCurlTest(harness.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        cls.buf = harness.tool("KPI_BUF")
        super().setUpClass()
        cls.base = f"http://{cls.server.address}"

    def curl(self, *args, data=None, expect_code=0):
        command = [self.buf, "curl", "--protocol", "grpc",
                   "--http2-prior-knowledge"]
        if data is not None:
            command += ["-d", json.dumps(data, ensure_ascii=False)]
        command += list(args)
        result = subprocess.run(command, capture_output=True, text=True,
                                timeout=60, env=harness.client_env())
        self.assertEqual(result.returncode, expect_code << 3,
                         f"{command}\nstdout: {result.stdout}\n"
                         f"stderr: {result.stderr}")
        return result

    def test_list_services(self):
        out = self.curl("--list-services", self.base).stdout.split()
        self.assertEqual(out, [
            "grpc.health.v1.Health",
            "grpc.reflection.v1alpha.ServerReflection",
            "kpi.v1.ForecastService", "kpi.v1.KpiService",
            "kpi.v1.ReportService"])

    def test_describe_methods(self):
        methods = self.curl("--list-methods", self.base).stdout.split()
        self.assertIn("grpc.health.v1.Health/Check", methods)
        kpi = [m for m in methods if m.startswith("kpi.v1.KpiService/")]
        forecast = [m for m in methods
                    if m.startswith("kpi.v1.ForecastService/")]
        self.assertEqual(len(kpi), 38)  # 35 standard, import, export, changes
        self.assertIn("kpi.v1.KpiService/ListChanges", kpi)
        self.assertEqual(sorted(forecast), [
            "kpi.v1.ForecastService/BatchProjectKpis",
            "kpi.v1.ForecastService/BatchProjectSeries",
            "kpi.v1.ForecastService/CalibrateStore",
            "kpi.v1.ForecastService/GetCalibrationSkill",
            "kpi.v1.ForecastService/ProjectKpi",
            "kpi.v1.ForecastService/ProjectSeries",
            "kpi.v1.ForecastService/StreamProjectSeries"])

    def test_health(self):
        for service in ["", "kpi.v1.KpiService", "kpi.v1.ForecastService"]:
            with self.subTest(service=service):
                out = self.curl(f"{self.base}/grpc.health.v1.Health/Check",
                                data={"service": service}).stdout
                self.assertEqual(json.loads(out), {"status": "SERVING"})
        self.curl(f"{self.base}/grpc.health.v1.Health/Check",
                  data={"service": "no.such.Service"}, expect_code=NOT_FOUND)

    def test_get(self):
        out = self.curl(f"{self.base}/kpi.v1.KpiService/GetStrategy",
                        data={"name": SEED}).stdout
        strategy = json.loads(out)
        self.assertEqual(strategy["displayName"],
                         "第2期旭川市まち・ひと・しごと創生総合戦略")
        self.assertEqual(strategy["firstFiscalYear"], 2020)
        self.assertEqual(strategy["lastFiscalYear"], 2024)

    def test_project_kpi(self):
        out = self.curl(f"{self.base}/kpi.v1.ForecastService/ProjectKpi",
                        data={"name": SEED_KPI}).stdout
        projection = json.loads(out)["projection"]
        self.assertEqual(projection["id"], SEED_KPI)
        self.assertEqual(projection["targetFiscalYear"], 2024)
        self.assertEqual(projection["years"][-1]["fiscalYear"], 2024)
        self.assertTrue(0 <= projection["attainmentProbability"] <= 1)

    def test_bad_input(self):
        result = self.curl(f"{self.base}/kpi.v1.ForecastService/ProjectKpi",
                           data={"name": SEED_KPI, "targetFiscalYear": 3000},
                           expect_code=INVALID_ARGUMENT)
        error = json.loads(result.stderr)
        self.assertEqual(error["code"], "invalid_argument")
        self.assertIn("target_fiscal_year", error["message"])
        self.assertEqual([d["type"] for d in error["details"]],
                         ["google.rpc.BadRequest"])

        wrong = f"{SEED}/kpis/no-such-kpi"
        result = self.curl(f"{self.base}/kpi.v1.KpiService/GetKpi",
                           data={"name": wrong}, expect_code=NOT_FOUND)
        self.assertIn(wrong, json.loads(result.stderr)["message"])

        result = self.curl(f"{self.base}/kpi.v1.KpiService/ListKpis",
                           data={"parent": SEED, "pageToken": "bogus"},
                           expect_code=INVALID_ARGUMENT)
        self.assertIn("page_token", json.loads(result.stderr)["message"])

    def test_stream_project_series(self):
        messages = " ".join(json.dumps(m) for m in [
            {"series": [{"seriesId": "a", "points": [
                {"fiscalYear": 2019, "value": 3},
                {"fiscalYear": 2021, "value": 4}]}]},
            {"series": [{"seriesId": "b", "points": [
                {"fiscalYear": 3000, "value": 1}]}]}])
        result = subprocess.run(
            [self.buf, "curl", "--protocol", "grpc", "--http2-prior-knowledge",
             "-d", messages,
             f"{self.base}/kpi.v1.ForecastService/StreamProjectSeries"],
            capture_output=True, text=True, timeout=60,
            env=harness.client_env())
        self.assertEqual(result.returncode, 0, result.stderr)
        responses = json_documents(result.stdout)
        results = [x for r in responses for x in r["results"]]
        self.assertEqual([r["id"] for r in results], ["a", "b"])
        self.assertEqual([r.get("index", "0") for r in results], ["0", "1"])
        self.assertEqual(results[0]["projection"]["targetFiscalYear"], 2027)
        self.assertIn("series[0].points[0].fiscal_year",
                      results[1]["error"]["message"])


if __name__ == "__main__":
    unittest.main()
