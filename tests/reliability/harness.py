"""A real gateway for the reliability suites: a throw-away database, gunicorn, manage.py.

The server and every management command run in child processes with their own
environment (DATABASE_URL, GATEWAY_VAR_DIR, ...), so the test process never talks to
the server's database through its own Django connection. The database kind follows
``RELIABILITY_DATABASES`` (comma-separated ``sqlite``/``postgres``), else the engine of
``DATABASE_URL`` (SQLite when unset), like the rest of the suite.
"""

from __future__ import annotations

import contextlib
import http.client
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
_names = itertools.count(1)


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def selected_kinds() -> set[str]:
    chosen = os.environ.get("RELIABILITY_DATABASES")
    if chosen:
        return {kind.strip() for kind in chosen.split(",") if kind.strip()}
    url = os.environ.get("DATABASE_URL", "")
    return {"postgres"} if url.startswith(("postgres://", "postgresql://")) else {"sqlite"}


def database_kinds():
    """Parameters for a test that runs on both databases, the unselected one skipped."""
    kinds = selected_kinds()
    return [
        pytest.param(
            kind,
            id=kind,
            marks=[]
            if kind in kinds
            else pytest.mark.skip(
                reason=f"{kind} not selected (RELIABILITY_DATABASES or DATABASE_URL)"
            ),
        )
        for kind in ("sqlite", "postgres")
    ]


def pg_admin_url() -> str:
    """A maintenance database on the server of DATABASE_URL (never a database we use)."""
    explicit = os.environ.get("RELIABILITY_PG_URL")
    if explicit:
        return explicit
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        parts = urlsplit(url)
        return urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
    return "postgres://postgres@127.0.0.1:5432/postgres"


@contextlib.contextmanager
def throwaway_database(kind: str) -> Iterator[tuple[str, Path]]:
    """Yield (DATABASE_URL, work directory) of a fresh database, dropped afterwards."""
    workdir = Path(tempfile.mkdtemp(prefix=f"gateway-reliability-{kind}-"))
    try:
        if kind == "sqlite":
            yield f"sqlite:///{workdir / 'gateway.sqlite3'}", workdir
            return
        import psycopg

        admin = pg_admin_url()
        name = f"gateway_reliability_{os.getpid()}_{next(_names)}"
        try:
            with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                conn.execute(f"CREATE DATABASE {name}")
        except psycopg.OperationalError as exc:
            # Selected but unreachable is a failure: CI must not pass by testing nothing.
            pytest.fail(f"PostgreSQL is not reachable at {admin}: {exc}")
        try:
            parts = urlsplit(admin)
            yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, "")), workdir
        finally:
            with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Gateway:
    """One database and the environment every process of the gateway runs with."""

    kind: str
    database_url: str
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "PYTEST_", "GATEWAY_"))
        }
        env.update(
            DATABASE_URL=self.database_url,
            GATEWAY_VAR_DIR=str(self.workdir / "var"),
            GATEWAY_ENV="development",
            DJANGO_SETTINGS_MODULE="config.settings",
            DEBUG="0",
            THROTTLE_SUBMISSION="10000000/min",
            LOG_LEVEL="WARNING",
            PYTHONPATH=str(REPO),
            PYTHONHASHSEED="0",
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        )
        self.env = env

    def run(self, *args: str, timeout: float = 300, check: bool = True):
        """Run a Python module or script in the gateway's environment; return the result."""
        result = subprocess.run(
            [PYTHON, *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            start_new_session=True,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(args)} exited {result.returncode}\n"
                f"stdout:\n{result.stdout[-4000:]}\nstderr:\n{result.stderr[-4000:]}"
            )
        return result

    def manage(self, *args: str, timeout: float = 300, check: bool = True):
        return self.run("manage.py", *args, timeout=timeout, check=check)

    def world(self, command: str, payload: dict | None = None, timeout: float = 600) -> dict:
        """Run tests/reliability/_world.py COMMAND with PAYLOAD; return its JSON answer."""
        source = self.workdir / f"world-{command}-in.json"
        answer = self.workdir / f"world-{command}-out.json"
        source.write_text(json.dumps(payload or {}), encoding="utf-8")
        self.run(str(HERE / "_world.py"), command, str(source), str(answer), timeout=timeout)
        return json.loads(answer.read_text(encoding="utf-8"))


@contextlib.contextmanager
def gateway(kind: str) -> Iterator[Gateway]:
    with throwaway_database(kind) as (url, workdir):
        yield Gateway(kind, url, workdir)


class Server:
    """gunicorn in its own process group, so a SIGKILL takes the master and every worker."""

    def __init__(
        self, gw: Gateway, *, workers: int, timeout: int = 120, env: dict | None = None
    ) -> None:
        self.gw = gw
        self.env = {**gw.env, **(env or {})}
        self.workers = workers
        self.timeout = timeout
        self.port = 0
        self.process: subprocess.Popen | None = None
        self.log_path = gw.workdir / "gunicorn.log"

    def start(self, wait: float = 60) -> int:
        self.port = free_port()
        log = self.log_path.open("ab")
        try:
            self.process = subprocess.Popen(
                [
                    PYTHON,
                    "-m",
                    "gunicorn",
                    "config.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--workers",
                    str(self.workers),
                    "--timeout",
                    str(self.timeout),
                    "--graceful-timeout",
                    "10",
                    "--log-level",
                    "warning",
                ],
                cwd=REPO,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        finally:
            log.close()
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"gunicorn exited at start:\n{self.log_tail()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/api/v1/rules")
                response = conn.getresponse()
                response.read()
                conn.close()
                if response.status == 200:
                    return self.port
            time.sleep(0.1)
        self.kill()
        raise AssertionError(f"gunicorn did not answer within {wait} s:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL the whole process group (master and workers) and reap the master."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=30)
        self._wait_group_gone()
        self.process = None

    def stop(self) -> None:
        """Graceful stop (SIGTERM), then SIGKILL whatever is left."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=30)
        self.kill()

    def _wait_group_gone(self, wait: float = 10) -> None:
        """Workers are not our children: wait until none of the group is left."""
        assert self.process is not None
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                return
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            time.sleep(0.05)

    def log_tail(self, chars: int = 6000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def http_json(
    port: int, method: str, path: str, body: bytes | None = None, headers=None, timeout=60
) -> tuple[int, dict, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        raw = response.read()
        return response.status, dict(response.getheaders()), json.loads(raw or b"{}")
    finally:
        conn.close()


def server_errors(log_text: str) -> list[str]:
    """Tracebacks and 5xx lines the server logged."""
    lines = log_text.splitlines()
    return [
        line
        for line in lines
        if "Traceback" in line or "Internal Server Error" in line or "Service Unavailable" in line
    ]
