"""Shared pieces of the end-to-end tests: tools, the server process, stubs.

The tests talk to a real kpi_server process on 127.0.0.1 and a free port,
with third-party clients only (Python grpcio with stubs generated here at
test time, buf curl) and kpictl. Paths come from the environment, set by
tests/e2e/CMakeLists.txt:

  KPI_SERVER, KPICTL        the binaries
  KPI_BUF                   the buf CLI
  KPI_SOURCE_DIR            the source tree (proto/ is under it)
  KPI_GRPC_PROTO_DIR        holds grpc/reflection/v1alpha (and grpc/health/v1)
  KPI_GOOGLEAPIS_DIR        holds google/rpc/status.proto, error_details.proto

A missing tool skips a test outside CI and fails it in CI (CI=true).
"""

import atexit
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

IN_CI = os.environ.get("CI", "").lower() == "true"
LISTENING = re.compile(r"kpi_server listening on (127\.0\.0\.1:\d+)")
START_TIMEOUT_S = 30
STOP_TIMEOUT_S = 15


def require(condition, what):
    """Skips (or, in CI, fails) the calling test when `condition` is false."""
    if condition:
        return
    if IN_CI:
        raise AssertionError(f"{what} (CI=true: a missing tool is a failure)")
    raise unittest.SkipTest(f"{what}; `make deps` installs it")


def env_path(name):
    value = os.environ.get(name, "")
    require(value != "", f"environment variable {name} is not set")
    return value


def tool(name):
    """An executable named by an environment variable; skips when missing."""
    path = env_path(name)
    require(os.access(path, os.X_OK), f"{name}={path} is not an executable")
    return path


class ServerProcess:
    """kpi_server as a child process on 127.0.0.1 and a port it picks.

    The port is read from the server's "kpi_server listening on" line; the
    rest of its stderr (one line per call) is collected in `log`. stop()
    ends the process by its PID: SIGTERM, then SIGKILL after a deadline.
    """

    def __init__(self, db_path, extra_args=()):
        self.binary = tool("KPI_SERVER")
        self.db_path = db_path
        self.extra_args = list(extra_args)
        self.process = None
        self.address = None
        self.port = None
        self._lines = []
        self._lock = threading.Lock()
        self._reader = None

    @property
    def log(self):
        with self._lock:
            return "".join(self._lines)

    def start(self):
        args = [self.binary, "--listen=127.0.0.1:0", f"--db={self.db_path}"]
        args += self.extra_args
        self.process = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True, encoding="utf-8",
            errors="replace")
        found = threading.Event()

        def drain():
            for line in self.process.stderr:
                with self._lock:
                    self._lines.append(line)
                match = LISTENING.search(line)
                if match and not found.is_set():
                    self.address = match.group(1)
                    found.set()
            found.set()  # end of output: let start() see the exit

        self._reader = threading.Thread(target=drain, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not found.wait(0.05):
            if time.monotonic() > deadline:
                self.stop()
                raise AssertionError(
                    f"kpi_server did not report listening within "
                    f"{START_TIMEOUT_S}s; stderr:\n{self.log}")
        if self.address is None:
            code = self.process.wait(STOP_TIMEOUT_S)
            raise AssertionError(
                f"kpi_server exited with {code} before listening; "
                f"stderr:\n{self.log}")
        self.port = int(self.address.rsplit(":", 1)[1])
        return self

    def stop(self):
        """Stops the server (by PID); returns its exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self._reader is not None:
            self._reader.join(5)
        if self.process.stderr is not None:
            self.process.stderr.close()
        return self.process.returncode


class ServerTestCase(unittest.TestCase):
    """Starts one server (temp SQLite file, builtin dataset) per class."""

    server_args = ()

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="kpi-e2e-")
        cls.server = ServerProcess(os.path.join(cls.tmp, "kpi.sqlite3"),
                                   cls.server_args)
        try:
            cls.server.start()
        except BaseException:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        # A graceful stop exits 0; anything else is a finding.
        if code != 0:
            raise AssertionError(
                f"kpi_server exited with {code} on SIGTERM; stderr:\n"
                f"{cls.server.log[-4000:]}")


def channel(address):
    """An insecure channel to `address` that never goes through an HTTP
    proxy from the environment (the servers under test are on loopback)."""
    import grpc
    return grpc.insecure_channel(address,
                                 options=[("grpc.enable_http_proxy", 0)])


def client_env():
    """The environment for client subprocesses (kpictl, buf): without proxy
    variables, which gRPC would otherwise apply to loopback addresses."""
    env = dict(os.environ)
    for name in ("http_proxy", "https_proxy", "grpc_proxy", "HTTP_PROXY",
                 "HTTPS_PROXY", "GRPC_PROXY", "all_proxy", "ALL_PROXY"):
        env.pop(name, None)
    return env


_STUBS_DIR = None


def generated_stubs():
    """Generates Python stubs once per process and puts them on sys.path.

    Reflection v1alpha (from grpc-proto) and google.rpc status and error
    details (from googleapis) are compiled with grpc_tools.protoc. The kpi.v1
    contracts use proto3 `optional`, which the protoc bundled in Debian 12's
    python3-grpc-tools (libprotoc 3.5.1) rejects, so they are compiled with
    Debian's protoc 3.21 and grpc_python_plugin (protobuf-compiler-grpc),
    the toolchain a city system on Debian 12 would have.
    """
    global _STUBS_DIR
    if _STUBS_DIR is not None:
        return _STUBS_DIR
    try:
        import grpc_tools
    except ImportError:
        require(False, "python3-grpc-tools is not installed")
    protoc = shutil.which("protoc")
    plugin = shutil.which("grpc_python_plugin")
    require(protoc is not None, "protoc (protobuf-compiler) is not on PATH")
    require(plugin is not None,
            "grpc_python_plugin (protobuf-compiler-grpc) is not on PATH")
    source = env_path("KPI_SOURCE_DIR")
    grpc_proto = env_path("KPI_GRPC_PROTO_DIR")
    googleapis = env_path("KPI_GOOGLEAPIS_DIR")
    out = tempfile.mkdtemp(prefix="kpi-e2e-stubs-")
    atexit.register(shutil.rmtree, out, True)
    # grpcio owns the Python package "grpc", so the reflection stubs cannot
    # live at grpc/reflection/...: compile a copy under another path (the
    # proto package, and so the wire protocol, is unchanged).
    include = os.path.join(out, "include")
    os.makedirs(os.path.join(include, "kpi_e2e_reflection"))
    shutil.copy(
        os.path.join(grpc_proto, "grpc/reflection/v1alpha/reflection.proto"),
        os.path.join(include, "kpi_e2e_reflection", "reflection.proto"))
    wkt = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    runs = [
        [sys.executable, "-m", "grpc_tools.protoc", f"-I{include}",
         f"-I{googleapis}", f"-I{wkt}", f"--python_out={out}",
         f"--grpc_python_out={out}", "kpi_e2e_reflection/reflection.proto",
         "google/rpc/status.proto", "google/rpc/error_details.proto"],
        [protoc, f"-I{os.path.join(source, 'proto')}", f"-I{googleapis}",
         f"--plugin=protoc-gen-grpc_python={plugin}", f"--python_out={out}",
         f"--grpc_python_out={out}", "kpi/v1/resources.proto",
         "kpi/v1/kpi_service.proto", "kpi/v1/forecast_service.proto",
         "kpi/v1/report_service.proto"],
    ]
    for command in runs:
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise AssertionError(
                f"{' '.join(command)} failed:\n{result.stderr}")
    sys.path.insert(0, out)
    _STUBS_DIR = out
    return out
