"""Shared set-up for the benchmarks: a throw-away database, Django, and a gunicorn server.

Benchmarks never touch the demo database: each run creates its own SQLite file or
PostgreSQL database and drops it at the end.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")


@contextlib.contextmanager
def bench_database(kind: str):
    """Yield a DATABASE_URL for a fresh database of KIND ('sqlite' or 'postgres')."""
    workdir = Path(tempfile.mkdtemp(prefix="gateway-bench-"))
    try:
        if kind == "sqlite":
            yield f"sqlite:///{workdir / 'bench.sqlite3'}", workdir
        else:
            import psycopg

            name = f"gateway_bench_{os.getpid()}"
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name}")
                conn.execute(f"CREATE DATABASE {name}")
            try:
                base = PG_ADMIN_URL.rsplit("/", 1)[0]
                yield f"{base}/{name}", workdir
            finally:
                from django.db import connections

                connections.close_all()
                with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                    conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def django_setup(database_url: str, workdir: Path) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["GATEWAY_VAR_DIR"] = str(workdir)
    os.environ["THROTTLE_SUBMISSION"] = "1000000/min"
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def gunicorn(workdir: Path, *, workers: int = 1, threads: int = 1, env: dict | None = None):
    """Serve the gateway on a free loopback port; ``env`` adds settings for this server only."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--log-level",
            "warning",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("gunicorn did not start")
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


@contextlib.contextmanager
def integrator():
    """Run ``manage.py audit_integrate`` beside the server, as in production."""
    process = subprocess.Popen(
        [sys.executable, "manage.py", "audit_integrate"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def post(conn: http.client.HTTPConnection, path: str, body: bytes, key: str) -> tuple[int, dict]:
    conn.request(
        "POST",
        path,
        body=body,
        headers={"Content-Type": "application/json", "Authorization": f"Api-Key {key}"},
    )
    response = conn.getresponse()
    return response.status, json.loads(response.read() or b"{}")


def identity_number(n: int) -> str:
    from gateway.identity import check_character

    body = f"3205{n % 100:02d}1990{(n // 28) % 12 + 1:02d}{n % 28 + 1:02d}{n % 1000:03d}"
    return body + check_character(body)
