"""Client benchmark: `credit-gateway submit` of a CSV, signed, against the gateway's own
ingest ceiling measured in the same run.

Usage: python bench/client.py [--db sqlite|postgres] [--records N] [--small N]

One gunicorn worker serves a throw-away database, as in bench/ingest.py. The ceiling is
bench/ingest.py's method: pre-built 1,000-record bodies posted over one connection, no
signing, no file. The client runs as its own process, as a department would run it: it
reads the CSV twice (check, then send), builds and signs 1,000-record batches and writes
its results file; its figure is records/s from start to exit. The ceiling is measured
before and after the client and averaged, since the ledger grows in between. Memory is
the client process's peak RSS (VmHWM), for a small file and for the large one: flat
means the two are close.
"""

from __future__ import annotations

import argparse
import base64
import csv
import http.client
import os
import subprocess
import sys
import time
from pathlib import Path

from _harness import bench_database, django_setup, gunicorn, identity_number, post
from ingest import RECORDS_PER_BATCH, make_bodies, setup_catalogue

RESIDENTS = 5000
# Runs the client's command line, then prints the process's own peak RSS (VmHWM). A
# forked child's ru_maxrss would count this benchmark's memory from before the exec.
CLIENT = """
import sys
from credit_gateway_client.cli import main
code = main(sys.argv[1:])
peak = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0].split()[1]
print("peak-kib", peak, file=sys.stderr)
sys.exit(code)
"""


def write_csv(path: Path, records: int, offset: int) -> Path:
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(
            ["citizen_id", "rule", "occurred_at", "evidence.document", "evidence.issued_by",
             "evidence.issued_on", "evidence.procedure", "data.location", "data.plate"]
        )  # fmt: skip
        for i in range(records):
            n = offset + i
            writer.writerow(
                [identity_number(n % RESIDENTS), "traffic.failure_to_yield",
                 "2026-11-20T08:30:00+08:00", f"苏公交决字〔2026〕第{n:07d}号",
                 "苏州市公安局交通警察支队", "2026-11-21", "general", "干将路与人民路交叉口",
                 f"苏E{n % 100000:05d}"]
            )  # fmt: skip
    return path


def register_signing_key(workdir: Path) -> Path:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from compliance.models import Department
    from gateway.services.signing import signature_policy_set, signing_key_add

    private_key = Ed25519PrivateKey.generate()
    path = workdir / "signing.pem"
    path.write_bytes(
        private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    raw = private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    department = Department.objects.get()
    signing_key_add(department=department, public_key=base64.b64encode(raw).decode())
    signature_policy_set(department=department, policy="required")
    return path


def ceiling(port: int, key: str, batches: int, tag: str) -> float:
    bodies = make_bodies(batches, RESIDENTS)
    bodies = [body.replace(b'"bench-', f'"{tag}-'.encode(), 1) for body in bodies]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    started = time.perf_counter()
    for body in bodies:
        status, payload = post(conn, "/api/v1/submissions", body, key)
        assert status == 201, payload
    elapsed = time.perf_counter() - started
    conn.close()
    return batches * RECORDS_PER_BATCH / elapsed


def run_client(port: int, key: str, signing_key: Path, source: Path) -> tuple[float, int, int]:
    """(records/s, peak RSS in KiB, records accepted) of one `credit-gateway submit`."""
    env = {
        **os.environ,
        "CREDIT_GATEWAY_URL": f"http://127.0.0.1:{port}",
        "CREDIT_GATEWAY_API_KEY": key,
        "CREDIT_GATEWAY_SIGNING_KEY": str(signing_key),
    }
    command = [sys.executable, "-c", CLIENT, "--lang", "en", "submit", str(source)]
    started = time.perf_counter()
    process = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"client failed: {process.stdout} {process.stderr}")
    accepted = int(process.stdout.split(" records accepted")[0].split()[-1])
    peak = int(process.stderr.split("peak-kib ")[1].split()[0])
    return accepted / elapsed, peak, accepted


def policy(value: str) -> None:
    from compliance.models import Department
    from gateway.services.signing import signature_policy_set

    signature_policy_set(department=Department.objects.get(), policy=value)


def bench(kind: str, records: int, small: int, batches: int) -> None:
    with bench_database(kind) as (url, workdir):
        django_setup(url, workdir)
        key = setup_catalogue()
        signing_key = register_signing_key(workdir)
        small_csv = write_csv(workdir / "small.csv", small, offset=10_000_000)
        large_csv = write_csv(workdir / "large.csv", records, offset=20_000_000)
        with gunicorn(workdir) as port:
            # The ceiling is bench/ingest.py's unsigned path; the client runs under the
            # "required" policy, so every one of its batches is verified.
            policy("optional")
            ceiling(port, key, 1, "warm")
            before = ceiling(port, key, batches, "before")
            policy("required")
            _, small_rss, _ = run_client(port, key, signing_key, small_csv)
            rate, large_rss, accepted = run_client(port, key, signing_key, large_csv)
            policy("optional")
            after = ceiling(port, key, batches, "after")
        assert accepted == records, accepted
        gateway_ceiling = (before + after) / 2
        print(
            f"{kind:<9} client (signed, {records:,} records from CSV) {rate:>7,.0f} records/s   "
            f"gateway ceiling {gateway_ceiling:>7,.0f} records/s "
            f"(before {before:,.0f}, after {after:,.0f})   ratio {rate / gateway_ceiling:.2f}"
        )
        print(
            f"{kind:<9} client peak RSS: {small:,} records {small_rss / 1024:,.0f} MiB, "
            f"{records:,} records {large_rss / 1024:,.0f} MiB   "
            f"ratio {large_rss / small_rss:.2f} for {records / small:.0f}x the rows"
        )
        from django.db import connections

        connections.close_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=5_000)
    parser.add_argument("--batches", type=int, default=10, help="batches per ceiling run")
    args = parser.parse_args()
    print(
        f"client: {args.records:,} signed records from a CSV vs the ingest ceiling, "
        "1 gunicorn worker on loopback"
    )
    bench(args.db, args.records, args.small, args.batches)


if __name__ == "__main__":
    main()
