"""HTTP load benchmark: gunicorn on loopback, PostgreSQL, many concurrent clients.

Usage: python bench/http_load.py [--workers 4] [--clients 50] [--seconds 15] [--db postgres]

Prints requests/s with p50/p99 latency for single-record submissions and for score
reads at the given concurrency, records/s for 1,000-record batches, and, as the
baseline measured in the same run, the same figures for /healthz (no database work):
the server's ceiling on this machine.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import statistics
import threading
import time

from _harness import bench_database, django_setup, gunicorn, identity_number
from ingest import make_bodies, setup_catalogue


def _client_process(args) -> list[float]:
    port, key, kind, seconds, threads, offset = args
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker(thread_no: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Content-Type": "application/json", "Authorization": f"Api-Key {key}"}
        n = 0
        mine = []
        while time.monotonic() < deadline:
            n += 1
            citizen = identity_number((offset * 1000 + thread_no * 37 + n) % 5000)
            if kind == "submit":
                body = json.dumps(
                    {
                        "idempotency_key": f"load-{offset}-{thread_no}-{n}",
                        "records": [
                            {
                                "citizen_id": citizen,
                                "rule": "traffic.failure_to_yield",
                                "occurred_at": "2026-11-20T08:30:00+08:00",
                                "evidence": {
                                    "document": f"苏公交决字〔2026〕第{n:06d}号",
                                    "issued_by": "苏州市公安局交通警察支队",
                                    "issued_on": "2026-11-21",
                                    "procedure": "general",
                                },
                                "data": {"location": "干将路"},
                            }
                        ],
                    },
                    ensure_ascii=False,
                ).encode()
                method, path = "POST", "/api/v1/submissions"
            elif kind == "read":
                body = json.dumps({"citizen_id": citizen, "purpose": "loan_eligibility"}).encode()
                method, path = "POST", "/api/v1/score-queries"
            else:
                body, method, path = None, "GET", "/healthz"
            started = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            if response.status >= 400:
                raise RuntimeError(f"{kind}: HTTP {response.status}")
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return latencies


def drive(
    port: int, key: str, kind: str, clients: int, seconds: float
) -> tuple[float, float, float]:
    processes = 5
    per_process = [
        clients // processes + (1 if i < clients % processes else 0) for i in range(processes)
    ]
    jobs = [(port, key, kind, seconds, n, i) for i, n in enumerate(per_process) if n]
    with multiprocessing.get_context("spawn").Pool(len(jobs)) as pool:
        results = pool.map(_client_process, jobs)
    latencies = sorted(x for chunk in results for x in chunk)
    rate = len(latencies) / seconds
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    return rate, p50, p99


def setup_purpose() -> None:
    from compliance.models import Department, EligibilityThreshold, Purpose
    from compliance.services import catalogue_object_save, grant_set

    actor = {"actor_kind": "system", "actor_id": "bench"}
    threshold = catalogue_object_save(
        EligibilityThreshold(
            code="civilization_loan", title_zh="文明贷", title_en="Loan", minimum_score=100
        ),
        **actor,
    )
    purpose = catalogue_object_save(
        Purpose(
            code="loan_eligibility",
            title_zh="贷款",
            title_en="Loan",
            legal_basis_law="ZJ",
            legal_basis_article="19",
            discloses="eligibility",
        ),
        **actor,
    )
    purpose.thresholds.set([threshold])
    grant_set(purpose, [Department.objects.get()], **actor)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--batches", type=int, default=10)
    args = parser.parse_args()
    with bench_database(args.db) as (url, workdir):
        django_setup(url, workdir)
        key = setup_catalogue()
        setup_purpose()
        from django.db import connections

        connections.close_all()
        print(
            f"http_load: gunicorn {args.workers} workers on loopback, {args.db}, "
            f"{args.clients} concurrent clients, {args.seconds:.0f} s per phase"
        )
        with gunicorn(workdir, workers=args.workers) as port:
            for label, kind in (
                ("healthz (baseline)", "health"),
                ("single submissions", "submit"),
                ("score reads", "read"),
            ):
                rate, p50, p99 = drive(port, key, kind, args.clients, args.seconds)
                print(f"  {label:<20} {rate:>8,.0f} req/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms")
            bodies = make_bodies(args.batches, 5000)
            conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=120) for _ in range(2)]
            started = time.perf_counter()

            def send(conn, chunk):
                for body in chunk:
                    conn.request(
                        "POST",
                        "/api/v1/submissions",
                        body=body,
                        headers={
                            "Content-Type": "application/json",
                            "Authorization": f"Api-Key {key}",
                        },
                    )
                    response = conn.getresponse()
                    response.read()
                    assert response.status == 201, response.status

            threads = [
                threading.Thread(target=send, args=(conns[i], bodies[i::2])) for i in range(2)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - started
            print(
                f"  {'1,000-record batches':<20} {args.batches * 1000 / elapsed:>8,.0f} records/s "
                f"({args.batches} batches, 2 concurrent clients)"
            )


if __name__ == "__main__":
    main()
