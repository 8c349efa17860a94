"""Checks that deploy/ agrees with the binaries it deploys.

- every flag the systemd unit, the container recipe and the Kubernetes
  Deployment pass to kpi_server is one that `kpi_server --helpfull` documents;
- the systemd unit passes `systemd-analyze verify`;
- the container's runtime packages provide every shared library the built
  binaries load, and its build stage installs what `make deps` installs;
- the Kubernetes probes use the gRPC health service on the container port, for
  service names that a running kpi_server reports as SERVING.
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


def documented_flags():
    out = subprocess.run([ARGS.server, "--helpfull"], capture_output=True,
                         text=True, timeout=30)
    return set(re.findall(r"^\s+--([a-z_]+) ", out.stdout + out.stderr, re.M))


def read(rel):
    with open(os.path.join(ARGS.source, rel), encoding="utf-8") as f:
        return f.read()


class FlagsTest(unittest.TestCase):
    def test_every_deployed_flag_is_documented(self):
        known = documented_flags()
        self.assertIn("listen", known)
        self.assertIn("db", known)
        for rel in ("deploy/kpi-server.service", "deploy/Containerfile",
                    "deploy/k8s/deployment.yaml"):
            used = flags_in(read(rel))
            self.assertTrue(used, rel + " passes no flag")
            self.assertLessEqual(used, known, rel + ": undocumented flags")


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


class KubernetesTest(unittest.TestCase):
    def load(self, rel):
        with open(os.path.join(ARGS.source, rel), encoding="utf-8") as f:
            return list(yaml.safe_load_all(f))

    def test_probes_use_grpc_health_on_served_names(self):
        deployment = self.load("deploy/k8s/deployment.yaml")[0]
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        port = container["ports"][0]["containerPort"]
        listen = [a for a in container["args"] if a.startswith("--listen=")]
        self.assertEqual(listen, ["--listen=0.0.0.0:%d" % port])
        services = []
        for probe in ("readinessProbe", "livenessProbe"):
            grpc_probe = container[probe]["grpc"]
            self.assertEqual(grpc_probe["port"], port)
            services.append(grpc_probe.get("service", ""))
        grace = deployment["spec"]["template"]["spec"][
            "terminationGracePeriodSeconds"]
        shutdown = [a for a in container["args"]
                    if a.startswith("--shutdown_grace=")][0]
        self.assertLess(int(shutdown.split("=")[1].rstrip("s")), grace)
        self.assertEqual(health_statuses(services), ["SERVING"] * len(services))

    def test_service_targets_the_grpc_port(self):
        service = self.load("deploy/k8s/service.yaml")[0]
        self.assertEqual(service["spec"]["ports"][0]["targetPort"], "grpc")
        self.assertEqual(service["spec"]["selector"], {"app": "kpi-server"})


def health_statuses(services):
    """Starts kpi_server on a free port and asks its health service."""
    import grpc
    from grpc_tools import protoc
    with tempfile.TemporaryDirectory() as d:
        # Under its own module path: grpcio owns the Python package "grpc".
        os.makedirs(os.path.join(d, "kpihealth"))
        shutil.copy("/usr/share/grpc-proto/grpc/health/v1/health.proto",
                    os.path.join(d, "kpihealth", "health.proto"))
        rc = protoc.main(["protoc", "-I" + d,
                          "--python_out=" + d, "--grpc_python_out=" + d,
                          os.path.join(d, "kpihealth", "health.proto")])
        assert rc == 0, "protoc failed on health.proto"
        sys.path.insert(0, d)
        from kpihealth import health_pb2, health_pb2_grpc  # noqa
        proc = subprocess.Popen(
            [ARGS.server, "--listen=127.0.0.1:0",
             "--db=" + os.path.join(d, "kpi.sqlite3"), "--seed_dataset=none"],
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
            with grpc.insecure_channel("127.0.0.1:%d" % port) as channel:
                stub = health_pb2_grpc.HealthStub(channel)
                return [health_pb2.HealthCheckResponse.ServingStatus.Name(
                    stub.Check(health_pb2.HealthCheckRequest(service=s),
                               timeout=10).status) for s in services]
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
