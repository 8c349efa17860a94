"""Checks that deploy/ agrees with the binaries it deploys.

- every flag the systemd unit, the container recipe and the Kubernetes
  Deployment pass to kpi_server is one that `kpi_server --helpfull` documents;
- the systemd unit passes `systemd-analyze verify`;
- the container's runtime packages provide every shared library the built
  binaries load, and its build stage installs what `make deps` installs;
- the Kubernetes probes ask the health service through kpictl over TLS on the
  container port: run as written against a kpi_server started with the
  Deployment's own arguments (TLS files made by openssl, tokens), they
  report SERVING; every file the Deployment passes is under a mounted
  Secret whose keys secrets.yaml.example shows;
- the systemd unit and the container serve TLS with tokens, never plaintext
  on a wildcard address.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

import yaml

ARGS = None


def flags_in(text):
    """Flags passed to kpi_server: lines of the recipe's own commands
    (COPY --from=... is the container tool's) are left out."""
    lines = [l for l in text.splitlines()
             if not l.lstrip().startswith(("COPY", "RUN", "#"))]
    return set(re.findall(r"--([a-z_]+)=", "\n".join(lines)))


def documented_flags(binary=None):
    out = subprocess.run([binary or ARGS.server, "--helpfull"],
                         capture_output=True, text=True, timeout=30)
    return set(re.findall(r"^\s+--([a-z_]+) ", out.stdout + out.stderr, re.M))


def read(rel):
    with open(os.path.join(ARGS.source, rel), encoding="utf-8") as f:
        return f.read()


class FlagsTest(unittest.TestCase):
    def test_every_deployed_flag_is_documented(self):
        known = documented_flags()
        self.assertIn("listen", known)
        self.assertIn("db", known)
        for rel in ("deploy/kpi-server.service", "deploy/Containerfile"):
            used = flags_in(read(rel))
            self.assertTrue(used, rel + " passes no flag")
            self.assertLessEqual(used, known, rel + ": undocumented flags")
        container = yaml.safe_load(read("deploy/k8s/deployment.yaml"))[
            "spec"]["template"]["spec"]["containers"][0]
        used = flags_in("\n".join(container["args"]))
        self.assertTrue(used)
        self.assertLessEqual(used, known, "deployment.yaml: undocumented flags")

    def test_probe_flags_are_kpictls(self):
        known = documented_flags(ARGS.kpictl)
        self.assertIn("tls_ca_file", known)
        container = yaml.safe_load(read("deploy/k8s/deployment.yaml"))[
            "spec"]["template"]["spec"]["containers"][0]
        for probe in ("readinessProbe", "livenessProbe"):
            used = flags_in("\n".join(container[probe]["exec"]["command"]))
            self.assertLessEqual(used, known, probe + ": not kpictl flags")


class SystemdTest(unittest.TestCase):
    def test_unit_verifies(self):
        if not shutil.which("systemd-analyze"):
            self.fail("systemd-analyze is missing (package systemd)")
        unit = read("deploy/kpi-server.service").replace(
            "/usr/local/bin/kpi_server", ARGS.server)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "kpi-server.service")
            with open(path, "w", encoding="utf-8") as f:
                f.write(unit)
            out = subprocess.run(["systemd-analyze", "verify", path],
                                 capture_output=True, text=True, timeout=60)
            problems = [l for l in (out.stdout + out.stderr).splitlines()
                        if "kpi-server.service" in l]
            self.assertEqual(problems, [], out.stdout + out.stderr)


def packages_of(paths):
    """Maps each path to the Debian package owning it (one dpkg call)."""
    candidates = {}
    for path in paths:
        names = {path, os.path.realpath(path)}
        for p in list(names):
            names.add("/usr" + p if p.startswith("/lib") else
                      p[len("/usr"):] if p.startswith("/usr/lib") else p)
        candidates[path] = names
    every = sorted(set().union(*candidates.values()))
    out = subprocess.run(["dpkg", "-S"] + every, capture_output=True,
                         text=True)
    owner = {}
    for line in out.stdout.splitlines():
        pkgs, _, file = line.partition(": ")
        owner[file.strip()] = pkgs.split(",")[0].split(":")[0].strip()
    return {path: next((owner[n] for n in sorted(names) if n in owner), None)
            for path, names in candidates.items()}


def dependency_closure(packages):
    """The installed packages that `packages` pull in through Depends and
    Pre-Depends, themselves included."""
    out = subprocess.run(
        ["dpkg-query", "-W", "-f=${Package}\t${Depends}, ${Pre-Depends}\n"],
        capture_output=True, text=True, check=True)
    depends = {}
    for line in out.stdout.splitlines():
        name, _, deps = line.partition("\t")
        depends.setdefault(name, []).extend(
            alt.strip().split(" ")[0].split(":")[0]
            for group in deps.split(",") for alt in group.split("|")
            if alt.strip())
    seen = set()
    todo = list(packages)
    while todo:
        pkg = todo.pop()
        if pkg not in seen:
            seen.add(pkg)
            todo.extend(depends.get(pkg, []))
    return seen


def listed(rel):
    return {l.strip() for l in read(rel).splitlines()
            if l.strip() and not l.strip().startswith("#")}


class ContainerTest(unittest.TestCase):
    def test_runtime_packages_cover_shared_libraries(self):
        runtime = dependency_closure(listed("deploy/runtime-packages.txt"))
        needed = {}
        for binary in (ARGS.server, ARGS.kpictl):
            out = subprocess.run(["ldd", binary], capture_output=True,
                                 text=True, check=True)
            for m in re.finditer(r"=> (/\S+)", out.stdout):
                needed.setdefault(m.group(1), binary)
        self.assertGreater(len(needed), 5)
        for path, pkg in packages_of(needed).items():
            self.assertIsNotNone(pkg, "no package owns " + path)
            self.assertIn(pkg, runtime,
                          "%s needs %s from %s" % (needed[path], path, pkg))

    def test_build_stage_uses_make_deps_packages(self):
        recipe = read("deploy/Containerfile")
        self.assertIn("FROM debian:12", recipe)
        self.assertIn("deploy/install-deps.sh", recipe)
        self.assertIn("deploy/runtime-packages.txt", recipe)


def deployment_container(test):
    deployment = test.load("deploy/k8s/deployment.yaml")[0]
    spec = deployment["spec"]["template"]["spec"]
    return spec, spec["containers"][0]


class KubernetesTest(unittest.TestCase):
    def load(self, rel):
        with open(os.path.join(ARGS.source, rel), encoding="utf-8") as f:
            return list(yaml.safe_load_all(f))

    def test_probes_ask_health_over_tls_on_served_names(self):
        spec, container = deployment_container(self)
        port = container["ports"][0]["containerPort"]
        listen = [a for a in container["args"] if a.startswith("--listen=")]
        self.assertEqual(listen, ["--listen=0.0.0.0:%d" % port])
        grace = spec["terminationGracePeriodSeconds"]
        shutdown = [a for a in container["args"]
                    if a.startswith("--shutdown_grace=")][0]
        self.assertLess(int(shutdown.split("=")[1].rstrip("s")), grace)
        probes = [container[p]["exec"]["command"]
                  for p in ("readinessProbe", "livenessProbe")]
        for command in probes:
            self.assertEqual(command[0], "/usr/local/bin/kpictl")
            self.assertIn("--server=127.0.0.1:%d" % port, command)
            self.assertIn("health", command)
            self.assertTrue(any(a.startswith("--tls_ca_file=")
                                for a in command), command)
        outputs = run_probes_against_deployment_args(container["args"],
                                                     probes)
        self.assertEqual(outputs, ["SERVING"] * len(probes))

    def test_passed_files_are_in_mounted_secrets(self):
        spec, container = deployment_container(self)
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        secrets = {v["name"]: v["secret"]["secretName"]
                   for v in spec["volumes"]}
        examples = {d["metadata"]["name"]: set(d["stringData"])
                    for d in self.load("deploy/k8s/secrets.yaml.example")}
        files = [a.split("=", 1)[1] for a in container["args"]
                 if re.match(r"--(tls_\w+|auth_tokens)_file=", a)]
        for probe in ("readinessProbe", "livenessProbe"):
            files += [a.split("=", 1)[1]
                      for a in container[probe]["exec"]["command"]
                      if a.startswith("--tls_ca_file=")]
        self.assertGreaterEqual(len(files), 4)
        for path in files:
            volume = [n for n, m in mounts.items()
                      if os.path.dirname(path) == m.rstrip("/")]
            self.assertEqual(len(volume), 1, path + " is not in a mount")
            secret = secrets[volume[0]]
            self.assertIn(secret, examples, secret)
            self.assertIn(os.path.basename(path), examples[secret], path)

    def test_service_targets_the_grpc_port(self):
        service = self.load("deploy/k8s/service.yaml")[0]
        self.assertEqual(service["spec"]["ports"][0]["targetPort"], "grpc")
        self.assertEqual(service["spec"]["selector"], {"app": "kpi-server"})


class TlsEverywhereTest(unittest.TestCase):
    def test_no_plaintext_on_wildcard_addresses(self):
        for rel in ("deploy/kpi-server.service", "deploy/Containerfile",
                    "deploy/k8s/deployment.yaml"):
            used = flags_in(read(rel))
            self.assertIn("tls_cert_file", used, rel)
            self.assertIn("tls_key_file", used, rel)
            self.assertIn("auth_tokens_file", used, rel)
            self.assertNotIn("allow_insecure", used, rel)

    def test_unit_hands_the_key_over_as_a_credential(self):
        unit = read("deploy/kpi-server.service")
        self.assertRegex(unit, r"LoadCredential=tls\.key:/etc/kpi/tls/")
        self.assertIn("--tls_key_file=%d/tls.key", unit)
        self.assertIn("ExecReload=/bin/kill -HUP $MAINPID", unit)


def make_certs(directory):
    subprocess.run([os.path.join(ARGS.source, "tests", "certs",
                                 "make-test-certs.sh"), directory],
                   check=True, capture_output=True)


def run_probes_against_deployment_args(args, probes):
    """Starts kpi_server with the Deployment's arguments, its files replaced
    by test ones (certificates by openssl, a tokens file) and its store by a
    SQLite file on 127.0.0.1:0, then runs each probe command as written
    (kpictl and the port replaced). Returns each probe's stdout."""
    with tempfile.TemporaryDirectory() as d:
        make_certs(d)
        files = {"/etc/kpi/tls/tls.crt": os.path.join(d, "server.crt"),
                 "/etc/kpi/tls/tls.key": os.path.join(d, "server.key"),
                 "/etc/kpi/tls/ca.crt": os.path.join(d, "ca.crt"),
                 "/etc/kpi/auth/tokens.txt": os.path.join(d, "tokens.txt")}
        with open(files["/etc/kpi/auth/tokens.txt"], "w") as f:
            f.write("reader " + "ab" * 32 + " probe-test\n")

        def replaced(arg):
            for deployed, local in files.items():
                arg = arg.replace(deployed, local)
            return arg
        server_args = []
        for a in args:
            if a.startswith("--listen="):
                a = "--listen=127.0.0.1:0"
            elif a.startswith("--db="):
                a = "--db=" + os.path.join(d, "kpi.sqlite3")
            elif a.startswith("--seed_dataset="):
                a = "--seed_dataset=none"
            server_args.append(replaced(a))
        proc = subprocess.Popen([ARGS.server] + server_args,
                                stderr=subprocess.PIPE, text=True)
        try:
            port = None
            deadline = time.time() + 30
            while time.time() < deadline:
                line = proc.stderr.readline()
                if not line:
                    break
                m = re.search(r"listening on \S+:(\d+)", line)
                if m:
                    port = int(m.group(1))
                    break
            assert port, "kpi_server did not report its port"
            outputs = []
            for command in probes:
                command = [ARGS.kpictl] + [
                    re.sub(r"^--server=127\.0\.0\.1:\d+$",
                           "--server=127.0.0.1:%d" % port, replaced(a))
                    for a in command[1:]]
                out = subprocess.run(command, capture_output=True, text=True,
                                     timeout=30)
                assert out.returncode == 0, (command, out.stderr)
                outputs.append(out.stdout.strip())
            return outputs
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--kpictl", required=True)
    parser.add_argument("--source", required=True)
    ARGS, rest = parser.parse_known_args()
    ARGS.server = os.path.abspath(ARGS.server)
    ARGS.kpictl = os.path.abspath(ARGS.kpictl)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
