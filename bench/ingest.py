"""Ingest benchmark: 1,000-record batches through the full HTTP path vs bare bulk_create.

Usage: python bench/ingest.py [--db sqlite|postgres|both] [--batches N]

The gateway side runs a real gunicorn worker on loopback and posts batches over
HTTP (authentication, parsing, screening, validation, resident registration,
ledger, scores, notices, audit). The baseline inserts the same ledger rows with
one bare ``bulk_create`` per batch into the same database. Both print records/s;
the ratio is gateway / baseline.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import time

from _harness import bench_database, django_setup, gunicorn, identity_number, post

RECORDS_PER_BATCH = 1000


def make_bodies(batches: int, residents: int) -> list[bytes]:
    bodies = []
    n = 0
    for b in range(batches):
        records = []
        for _ in range(RECORDS_PER_BATCH):
            records.append(
                {
                    "citizen_id": identity_number(n % residents),
                    "rule": "traffic.failure_to_yield",
                    "occurred_at": "2026-11-20T08:30:00+08:00",
                    "evidence": {
                        "document": f"苏公交决字〔2026〕第{n:06d}号",
                        "issued_by": "苏州市公安局交通警察支队",
                        "issued_on": "2026-11-21",
                        "procedure": "general",
                    },
                    "data": {"location": "干将路与人民路交叉口", "plate": f"苏E{n % 100000:05d}"},
                }
            )
            n += 1
        bodies.append(
            json.dumps(
                {"idempotency_key": f"bench-{b}", "records": records}, ensure_ascii=False
            ).encode()
        )
    return bodies


def setup_catalogue() -> str:
    from compliance.models import Rule
    from compliance.services import catalogue_object_save, department_create, grant_set
    from gateway.services.keys import department_key_create

    actor = {"actor_kind": "system", "actor_id": "bench"}
    department = department_create(
        code="traffic_police", title_zh="交警", title_en="Traffic", **actor
    )
    rule = Rule(
        code="traffic.failure_to_yield",
        version=1,
        title_zh="未礼让行人",
        title_en="Failure to yield",
        points=-3,
        legal_basis_law="道路交通安全法",
        legal_basis_article="第四十七条",
        status="published",
        comment_opens_on=dt.date(2025, 10, 1),
        comment_closes_on=dt.date(2025, 10, 30),
        published_at=dt.datetime(2025, 11, 1, tzinfo=dt.UTC),
        effective_from=dt.date(2026, 1, 1),
    )
    catalogue_object_save(rule, **actor)
    grant_set(rule, [department], **actor)
    return department_key_create(department=department, name="bench", expires_at=None, **actor)[1]


def run_gateway(workdir, key: str, bodies: list[bytes]) -> float:
    with gunicorn(workdir) as port:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        status, payload = post(conn, "/api/v1/submissions", bodies[0], key)  # warm-up
        assert status == 201, payload
        started = time.perf_counter()
        for body in bodies[1:]:
            status, payload = post(conn, "/api/v1/submissions", body, key)
            assert status == 201, payload
        elapsed = time.perf_counter() - started
        conn.close()
    return (len(bodies) - 1) * RECORDS_PER_BATCH / elapsed


def run_baseline(batches: int) -> float:
    from django.db import transaction
    from django.utils import timezone

    from compliance.models import Department, Rule
    from gateway.models import Citizen, ScoreEvent

    department = Department.objects.get()
    rule = Rule.objects.get()
    citizen_ids = list(Citizen.objects.values_list("id", flat=True))
    occurred = dt.datetime(2026, 11, 20, 0, 30, tzinfo=dt.UTC)
    evidence = {
        "document": "苏公交决字〔2026〕第000001号",
        "issued_by": "苏州市公安局交通警察支队",
        "issued_on": "2026-11-21",
        "procedure": "general",
    }
    started = time.perf_counter()
    for b in range(batches):
        now = timezone.now()
        rows = [
            ScoreEvent(
                citizen_id=citizen_ids[(b * RECORDS_PER_BATCH + i) % len(citizen_ids)],
                department=department,
                rule=rule,
                points=-3,
                occurred_at=occurred,
                recorded_at=now,
                expires_at=occurred.replace(year=2031),
                evidence=evidence,
                data={"location": "干将路与人民路交叉口", "plate": f"苏E{i:05d}"},
            )
            for i in range(RECORDS_PER_BATCH)
        ]
        with transaction.atomic():
            ScoreEvent.objects.bulk_create(rows)
    return batches * RECORDS_PER_BATCH / (time.perf_counter() - started)


def bench(kind: str, batches: int, residents: int) -> None:
    with bench_database(kind) as (url, workdir):
        django_setup(url, workdir)
        key = setup_catalogue()
        bodies = make_bodies(batches + 1, residents)
        gateway_rate = run_gateway(workdir, key, bodies)
        baseline_rate = run_baseline(batches)
        print(
            f"{kind:<9} gateway {gateway_rate:>9,.0f} records/s   "
            f"bare bulk_create {baseline_rate:>9,.0f} records/s   "
            f"ratio {gateway_rate / baseline_rate:.2f}"
        )
        from django.db import connections

        connections.close_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--residents", type=int, default=5000)
    parser.add_argument("--quiet", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.quiet:
        print(
            f"ingest: {args.batches} batches x {RECORDS_PER_BATCH} records, "
            f"{args.residents} residents, 1 gunicorn worker on loopback"
        )
    if args.db == "both":
        # Django is set up once per process: each database runs in its own child.
        import subprocess
        import sys

        for kind in ("sqlite", "postgres"):
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--db",
                    kind,
                    "--batches",
                    str(args.batches),
                    "--residents",
                    str(args.residents),
                    "--quiet",
                ],
                check=True,
            )
        return
    bench(args.db, args.batches, args.residents)


if __name__ == "__main__":
    main()
