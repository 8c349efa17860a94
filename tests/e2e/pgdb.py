"""Fresh PostgreSQL databases for the e2e tests, made with Debian's psql.

KPI_TEST_POSTGRES_URL is an admin URL (tests/pg/cluster.sh exports one for a
throwaway cluster; tests/run-all.sh starts it). Without it a test is skipped,
except under CI=true, where it fails: CI runs every test.
"""

import os
import secrets
import shutil
import subprocess
import unittest
import urllib.parse

import harness

PSQL_TIMEOUT_S = 60


def admin_url():
    """KPI_TEST_POSTGRES_URL; skips (outside CI) or fails when it is unset."""
    url = os.environ.get("KPI_TEST_POSTGRES_URL", "")
    if url:
        return url
    what = ("KPI_TEST_POSTGRES_URL is not set: run `make test`, or "
            "eval \"$(tests/pg/cluster.sh start)\" first")
    if harness.IN_CI:
        raise AssertionError(f"{what} (CI=true: every test runs)")
    raise unittest.SkipTest(what)


def _psql(url, sql):
    psql = shutil.which("psql")
    harness.require(psql is not None,
                    "psql (Debian package postgresql-client) is not on PATH")
    result = subprocess.run(
        [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
        stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=PSQL_TIMEOUT_S, env=harness.client_env())
    if result.returncode != 0:
        raise AssertionError(f"psql {sql!r} failed: {result.stderr.strip()}")


class TemporaryDatabase:
    """An empty database on the admin URL's server; drop() removes it, even
    while servers under test still hold connections to it."""

    def __init__(self, prefix):
        self._admin = admin_url()
        # Unique across concurrent ctest runs on the same cluster.
        self.name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
        _psql(self._admin, f'CREATE DATABASE "{self.name}"')
        parts = urllib.parse.urlsplit(self._admin)
        self.url = urllib.parse.urlunsplit(
            parts._replace(path=f"/{self.name}"))

    def drop(self):
        _psql(self._admin,
              f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
