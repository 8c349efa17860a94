"""kpi_server as a process with TLS, mutual TLS and bearer tokens, driven by
`buf curl` (--cacert, -H 'authorization: Bearer ...', --cert/--key) and by
kpictl's TLS and token flags. Certificates are made by Debian's openssl
(tests/certs/make-test-certs.sh) in a temporary directory; the tokens file
is written with sha256sum, as the README tells an operator to."""

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import harness

SEED = "strategies/asahikawa-2020"
OK, PERMISSION_DENIED, UNAUTHENTICATED = 0, 7, 16


def make_certs(directory):
    harness.require(shutil.which("openssl") is not None,
                    "openssl (Debian package openssl) is not on PATH")
    script = os.path.join(harness.env_path("KPI_SOURCE_DIR"), "tests", "certs",
                          "make-test-certs.sh")
    subprocess.run([script, directory], check=True, capture_output=True)


def sha256_hex(token):
    """The digest as `printf %s TOKEN | sha256sum` prints it."""
    result = subprocess.run(["sha256sum"], input=token.encode(),
                            capture_output=True, check=True)
    return result.stdout.decode().split()[0]


def wait_for(predicate, what, timeout_s=10):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class SecureServerCase(unittest.TestCase):
    """One server per class; subclasses give server_flags(tmp)."""

    @classmethod
    def server_flags(cls, tmp):
        raise NotImplementedError

    @classmethod
    def setUpClass(cls):
        cls.buf = harness.tool("KPI_BUF")
        cls.kpictl_bin = harness.tool("KPICTL")
        cls.tmp = tempfile.mkdtemp(prefix="kpi-e2e-sec-")
        try:
            make_certs(cls.tmp)
            cls.server = harness.ServerProcess(
                os.path.join(cls.tmp, "kpi.sqlite3"), cls.server_flags(cls.tmp))
            cls.server.start()
        except BaseException:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise
        cls.url = f"https://{cls.server.address}"

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        if code != 0:
            raise AssertionError(f"kpi_server exited with {code}; stderr:\n"
                                 f"{cls.server.log[-4000:]}")

    def path(self, name):
        return os.path.join(self.tmp, name)

    def curl(self, method, data, *flags, expect_code=OK, url=None):
        command = [self.buf, "curl", "--protocol", "grpc",
                   "--cacert", self.path("ca.crt"), *flags,
                   "-d", json.dumps(data, ensure_ascii=False),
                   f"{url or self.url}/{method}"]
        result = subprocess.run(command, capture_output=True, text=True,
                                timeout=60, env=harness.client_env())
        self.assertEqual(result.returncode, expect_code << 3,
                         f"{command}\nstdout: {result.stdout}\n"
                         f"stderr: {result.stderr}")
        return result

    def kpictl(self, *args, env=None, expect_ok=True):
        command = [self.kpictl_bin, f"--server={self.server.address}", *args]
        environment = harness.client_env()
        environment.pop("KPI_TOKEN", None)
        environment.update(env or {})
        result = subprocess.run(command, capture_output=True, text=True,
                                timeout=60, env=environment)
        if expect_ok:
            self.assertEqual(result.returncode, 0,
                             f"{command}\nstderr: {result.stderr}")
        else:
            self.assertNotEqual(result.returncode, 0, f"{command}")
        return result


class TlsAndTokensTest(SecureServerCase):
    """TLS (no client certificates) and a tokens file with three roles."""

    @classmethod
    def server_flags(cls, tmp):
        cls.tokens = {role: secrets.token_urlsafe(32)
                      for role in ("reader", "writer", "admin")}
        cls.tokens_file = os.path.join(tmp, "tokens.txt")
        cls.write_tokens({"reader": "city-portal", "writer": "stats-office",
                          "admin": "it-admin"})
        return [f"--tls_cert_file={os.path.join(tmp, 'server.crt')}",
                f"--tls_key_file={os.path.join(tmp, 'server.key')}",
                f"--auth_tokens_file={cls.tokens_file}"]

    @classmethod
    def write_tokens(cls, labels, extra=""):
        lines = ["# role sha256 label"]
        for role, label in labels.items():
            lines.append(f"{role} {sha256_hex(cls.tokens[role])} {label}")
        with open(cls.tokens_file, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n" + extra)

    def bearer(self, role):
        return ["-H", f"authorization: Bearer {self.tokens[role]}"]

    def test_reader_lists_and_projects_over_tls(self):
        out = self.curl("kpi.v1.KpiService/ListKpis",
                        {"parent": SEED, "page_size": 3},
                        *self.bearer("reader"))
        self.assertEqual(len(json.loads(out.stdout)["kpis"]), 3)
        out = self.curl("kpi.v1.ForecastService/ProjectKpi",
                        {"name": f"{SEED}/kpis/airport-passengers"},
                        *self.bearer("reader"))
        self.assertIn("projection", json.loads(out.stdout))

    def test_no_token_and_unknown_token_are_unauthenticated(self):
        out = self.curl("kpi.v1.KpiService/ListStrategies", {},
                        expect_code=UNAUTHENTICATED)
        self.assertIn("Bearer TOKEN", out.stderr)
        self.curl("kpi.v1.KpiService/ListStrategies", {},
                  "-H", "authorization: Bearer guessed",
                  expect_code=UNAUTHENTICATED)

    def test_roles(self):
        out = self.curl("kpi.v1.KpiService/DeleteStrategy",
                        {"name": SEED, "force": True}, *self.bearer("reader"),
                        expect_code=PERMISSION_DENIED)
        self.assertIn("needs role admin", out.stderr)
        self.curl("kpi.v1.KpiService/DeleteStrategy",
                  {"name": SEED, "force": True}, *self.bearer("writer"),
                  expect_code=PERMISSION_DENIED)
        self.curl("kpi.v1.KpiService/CreateGoal",
                  {"parent": SEED, "goal_id": "goal-9",
                   "goal": {"number": 9, "display_name": "試験目標"}},
                  *self.bearer("reader"), expect_code=PERMISSION_DENIED)
        out = self.curl("kpi.v1.KpiService/CreateGoal",
                        {"parent": SEED, "goal_id": "goal-9",
                         "goal": {"number": 9, "display_name": "試験目標"}},
                        *self.bearer("writer"))
        self.assertEqual(json.loads(out.stdout)["name"], f"{SEED}/goals/goal-9")
        self.curl("kpi.v1.KpiService/DeleteGoal", {"name": f"{SEED}/goals/goal-9"},
                  *self.bearer("admin"))

    def test_health_and_reflection_are_open(self):
        out = self.curl("grpc.health.v1.Health/Check", {})
        self.assertEqual(json.loads(out.stdout), {"status": "SERVING"})
        listed = subprocess.run(
            [self.buf, "curl", "--protocol", "grpc", "--cacert",
             self.path("ca.crt"), "--list-services", self.url],
            capture_output=True, text=True, timeout=60,
            env=harness.client_env())
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertIn("kpi.v1.KpiService", listed.stdout.split())

    def test_plaintext_client_gets_nothing(self):
        result = subprocess.run(
            [self.buf, "curl", "--protocol", "grpc", "--http2-prior-knowledge",
             "-d", "{}", *self.bearer("admin"),
             f"http://{self.server.address}/kpi.v1.KpiService/ListStrategies"],
            capture_output=True, text=True, timeout=60,
            env=harness.client_env())
        self.assertNotEqual(result.returncode, 0)
        self.assertNotIn("asahikawa", result.stdout)

    def test_kpictl_with_tls_and_token(self):
        token_file = self.path("reader.token")
        with open(token_file, "w", encoding="utf-8") as f:
            f.write(self.tokens["reader"] + "\n")
        out = self.kpictl(f"--tls_ca_file={self.path('ca.crt')}",
                          f"--token_file={token_file}", "list")
        self.assertIn("airport-passengers", out.stdout)
        out = self.kpictl(f"--tls_ca_file={self.path('ca.crt')}", "list",
                          env={"KPI_TOKEN": self.tokens["reader"]})
        self.assertIn("airport-passengers", out.stdout)
        out = self.kpictl(f"--tls_ca_file={self.path('ca.crt')}", "list",
                          expect_ok=False)
        self.assertIn("UNAUTHENTICATED", out.stderr)
        out = self.kpictl(f"--token_file={token_file}", "list",
                          expect_ok=False)
        self.assertIn("UNAVAILABLE", out.stderr)
        # The name in the certificate, when connecting by another name.
        out = self.kpictl(f"--tls_ca_file={self.path('ca.crt')}",
                          "--tls_server_name=localhost",
                          f"--token_file={token_file}", "list")
        self.assertIn("airport-passengers", out.stdout)

    def test_kpictl_import_needs_a_writer(self):
        token_file = self.path("reader-import.token")
        with open(token_file, "w", encoding="utf-8") as f:
            f.write(self.tokens["reader"])
        dataset = os.path.join(harness.env_path("KPI_SOURCE_DIR"), "lib",
                               "dataset", "data", "asahikawa-fy2021.json")
        out = self.kpictl(f"--tls_ca_file={self.path('ca.crt')}",
                          f"--token_file={token_file}", "import",
                          "--validate_only", dataset, expect_ok=False)
        self.assertIn("PERMISSION_DENIED", out.stderr)
        self.assertIn("needs role writer", out.stderr)

    def test_changes_name_the_writer_and_need_an_admin(self):
        goal = f"{SEED}/goals/goal-audit"
        self.curl("kpi.v1.KpiService/CreateGoal",
                  {"parent": SEED, "goal_id": "goal-audit",
                   "goal": {"number": 8, "display_name": "監査目標"}},
                  *self.bearer("writer"))
        self.curl("kpi.v1.KpiService/DeleteGoal", {"name": goal},
                  *self.bearer("admin"))
        out = self.curl("kpi.v1.KpiService/ListChanges", {"resource": goal},
                        *self.bearer("admin"))
        changes = json.loads(out.stdout)["changes"]
        self.assertEqual([(c["actor"], c["method"]) for c in changes],
                         [("it-admin", "DeleteGoal"),
                          ("stats-office", "CreateGoal")])
        # The seed was imported by the server itself.
        out = self.curl("kpi.v1.KpiService/ListChanges",
                        {"resource": SEED, "actor": "system", "page_size": 1},
                        *self.bearer("admin"))
        self.assertEqual(json.loads(out.stdout)["changes"][0]["method"],
                         "ImportDataset")
        for role in ("reader", "writer"):
            out = self.curl("kpi.v1.KpiService/ListChanges", {},
                            *self.bearer(role), expect_code=PERMISSION_DENIED)
            self.assertIn("ListChanges needs role admin", out.stderr)

        ca = f"--tls_ca_file={self.path('ca.crt')}"
        admin = {"KPI_TOKEN": self.tokens["admin"]}
        out = self.kpictl(ca, "changes", goal, "--lang=en", env=admin)
        lines = out.stdout.splitlines()
        self.assertIn("actor", lines[0])
        self.assertRegex(lines[2], r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  it-admin "
                         r"+DeleteGoal +strategies/.*/goals/goal-audit")
        self.assertIn("stats-office", lines[3])
        out = self.kpictl(ca, "changes", "--actor=stats-office",
                          "--format=json", "--limit=0", env=admin)
        entries = [json.loads(line) for line in out.stdout.splitlines()]
        self.assertTrue(entries)
        self.assertTrue(all(e["actor"] == "stats-office" for e in entries))
        out = self.kpictl(ca, "changes", "--lang=ja",
                          env={"KPI_TOKEN": self.tokens["writer"]},
                          expect_ok=False)
        self.assertIn("PERMISSION_DENIED", out.stderr)
        self.assertIn("needs role admin", out.stderr)

    def test_sighup_reloads_tokens_and_keeps_them_on_a_bad_file(self):
        new_token = secrets.token_urlsafe(32)
        try:
            self.write_tokens({"reader": "city-portal", "admin": "it-admin"},
                              extra=f"reader {sha256_hex(new_token)} new-app\n")
            os.kill(self.server.process.pid, signal.SIGHUP)
            wait_for(lambda: "auth: reloaded" in self.server.log,
                     "the reload line")
            self.curl("kpi.v1.KpiService/ListStrategies", {}, "-H",
                      f"authorization: Bearer {new_token}")
            # The writer's line is gone: its token is revoked.
            self.curl("kpi.v1.KpiService/ListStrategies", {},
                      *self.bearer("writer"), expect_code=UNAUTHENTICATED)

            with open(self.tokens_file, "w", encoding="utf-8") as f:
                f.write("reader not-a-digest broken\n")
            os.kill(self.server.process.pid, signal.SIGHUP)
            wait_for(lambda: "keeping the 3 tokens in use" in self.server.log,
                     "the failed reload line")
            self.curl("kpi.v1.KpiService/ListStrategies", {}, "-H",
                      f"authorization: Bearer {new_token}")
        finally:
            self.write_tokens({"reader": "city-portal",
                               "writer": "stats-office", "admin": "it-admin"})
            os.kill(self.server.process.pid, signal.SIGHUP)
            wait_for(lambda: self.server.log.count("auth: reloaded") >= 2,
                     "the restoring reload")


class MutualTlsTest(SecureServerCase):
    """Mutual TLS without tokens: the client certificate identifies the
    caller, and every verified client has --client_cert_role."""

    @classmethod
    def server_flags(cls, tmp):
        return [f"--tls_cert_file={os.path.join(tmp, 'server.crt')}",
                f"--tls_key_file={os.path.join(tmp, 'server.key')}",
                f"--tls_client_ca_file={os.path.join(tmp, 'ca.crt')}",
                "--client_cert_role=writer"]

    def test_buf_curl_with_a_client_certificate(self):
        cert = ["--cert", self.path("client.crt"),
                "--key", self.path("client.key")]
        out = self.curl("kpi.v1.KpiService/ListStrategies", {}, *cert)
        self.assertIn(SEED, out.stdout)
        out = self.curl("kpi.v1.KpiService/DeleteStrategy",
                        {"name": SEED, "force": True}, *cert,
                        expect_code=PERMISSION_DENIED)
        self.assertIn("CN=stats-batch", out.stderr)

    def test_a_revision_names_the_certificate_subject(self):
        cert = ["--cert", self.path("client.crt"),
                "--key", self.path("client.key")]
        out = self.curl("kpi.v1.KpiService/ListObservations",
                        {"parent": f"{SEED}/kpis/airport-passengers",
                         "page_size": 1}, *cert)
        name = json.loads(out.stdout)["observations"][0]["name"]
        out = self.curl("kpi.v1.KpiService/UpdateObservation",
                        {"observation": {"name": name,
                                         "source_note": "監査の確認"},
                         "update_mask": "sourceNote",
                         "reason": "出典の修正"}, *cert)
        revision = json.loads(out.stdout)["revisions"][-1]
        self.assertEqual(revision["actor"],
                         "CN=stats-batch,OU=Statistics,O=Asahikawa City")
        self.assertEqual(revision["reason"], "出典の修正")

    def test_without_a_certificate_of_the_ca_nothing_is_served(self):
        for flags in ([], ["--cert", self.path("other-client.crt"),
                           "--key", self.path("other-client.key")]):
            result = subprocess.run(
                [self.buf, "curl", "--protocol", "grpc", "--cacert",
                 self.path("ca.crt"), *flags, "-d", "{}",
                 f"{self.url}/kpi.v1.KpiService/ListStrategies"],
                capture_output=True, text=True, timeout=60,
                env=harness.client_env())
            self.assertNotEqual(result.returncode, 0, flags)
            self.assertNotIn("asahikawa", result.stdout)

    def test_kpictl_with_a_client_certificate(self):
        out = self.kpictl(f"--tls_ca_file={self.path('ca.crt')}",
                          f"--tls_cert_file={self.path('client.crt')}",
                          f"--tls_key_file={self.path('client.key')}", "list")
        self.assertIn("airport-passengers", out.stdout)
        out = self.kpictl(f"--tls_ca_file={self.path('ca.crt')}", "list",
                          expect_ok=False)
        self.assertIn("UNAVAILABLE", out.stderr)


class ListenAddressTest(unittest.TestCase):
    """Plaintext is served on loopback only, unless --allow_insecure."""

    def run_server(self, *flags, wait_s=20):
        tmp = tempfile.mkdtemp(prefix="kpi-e2e-listen-")
        self.addCleanup(shutil.rmtree, tmp, True)
        process = subprocess.Popen(
            [harness.tool("KPI_SERVER"), f"--db={tmp}/kpi.sqlite3",
             "--seed_dataset=none", *flags],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        lines = []
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            line = process.stderr.readline()
            if not line:
                break
            lines.append(line)
            if "listening on" in line:
                process.send_signal(signal.SIGTERM)
                break
        code = process.wait(30)
        process.stderr.close()
        return code, "".join(lines)

    def test_help_lists_every_flag(self):
        result = subprocess.run([harness.tool("KPI_SERVER"), "--help"],
                                capture_output=True, text=True, timeout=30)
        for flag in ("listen", "db", "seed_dataset", "max_message_bytes",
                     "tls_cert_file", "tls_key_file", "tls_client_ca_file",
                     "allow_insecure", "auth_tokens_file", "client_cert_role"):
            self.assertIn(f"--{flag} (", result.stdout, flag)
        self.assertIn("the change log (ListChanges)", result.stdout)

    def test_plaintext_on_a_wildcard_address_is_refused(self):
        code, log = self.run_server("--listen=0.0.0.0:0")
        self.assertNotEqual(code, 0)
        self.assertIn("refusing to serve plaintext on 0.0.0.0:0", log)
        self.assertIn("--allow_insecure", log)

    def test_allow_insecure_serves_it(self):
        code, log = self.run_server("--listen=0.0.0.0:0", "--allow_insecure")
        self.assertEqual(code, 0, log)
        self.assertRegex(log, r"kpi_server listening on 0\.0\.0\.0:\d+")
        self.assertIn("plaintext, no authentication", log)


if __name__ == "__main__":
    unittest.main()
