"""HTTP load benchmark: gunicorn on loopback, PostgreSQL, many concurrent clients.

Usage: python bench/http_load.py [--workers 4] [--clients 50] [--seconds 15] [--db postgres]

Runs each phase twice in one run, against two servers on the same fresh database:

* audited: the gateway as in production, with ``manage.py audit_integrate`` running as a
  separate process during the phase, sequencing the queued entries and signing checkpoints;
* unaudited: a second gunicorn started with ``AUDIT_BENCHMARK_SKIP_WRITES=1`` (the audited
  acts compute their entries but store nothing), the baseline.

For single submissions, score reads and ``/healthz`` it prints requests/s with p50/p99,
the mean latency Little's law gives for the measured rate (clients / rate) beside p99, and
the audited/unaudited ratio (target >= 0.8). After the audited phases it checks that the
integrator caught up (no entry left unsequenced) and prints the integration lag: the time
from an entry being queued to the first signed checkpoint that covers it. Last, records/s
for 1,000-record batches on the audited server.

The audited server runs first; the unaudited one then finds tables the audited phases
have grown, which if anything favours the unaudited side. Each server gets one second
of unmeasured requests of each kind first.
"""

from __future__ import annotations

import argparse
import bisect
import http.client
import json
import multiprocessing
import statistics
import threading
import time
from dataclasses import dataclass

from _harness import bench_database, django_setup, gunicorn, identity_number, integrator
from ingest import make_bodies, setup_catalogue

PHASES = (("healthz", "health"), ("single submissions", "submit"), ("score reads", "read"))


def _client_process(args) -> tuple[list[float], float, float]:
    port, key, kind, seconds, threads, offset, tag = args
    latencies: list[float] = []
    spans: list[float] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker(thread_no: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Content-Type": "application/json", "Authorization": f"Api-Key {key}"}
        n = 0
        mine = []
        first = time.time()
        while time.monotonic() < deadline:
            n += 1
            citizen = identity_number((offset * 1000 + thread_no * 37 + n) % 5000)
            if kind == "submit":
                body = json.dumps(
                    {
                        "idempotency_key": f"load-{tag}-{offset}-{thread_no}-{n}",
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
            spans.extend((first, time.time()))

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return latencies, min(spans), max(spans)


@dataclass
class Figure:
    rate: float
    p50: float
    p99: float
    mean: float


def drive(port: int, key: str, kind: str, clients: int, seconds: float, tag: str) -> Figure:
    processes = 5
    per_process = [
        clients // processes + (1 if i < clients % processes else 0) for i in range(processes)
    ]
    jobs = [(port, key, kind, seconds, n, i, tag) for i, n in enumerate(per_process) if n]
    with multiprocessing.get_context("spawn").Pool(len(jobs)) as pool:
        results = pool.map(_client_process, jobs)
    latencies = sorted(x for chunk, _, _ in results for x in chunk)
    # The rate over the wall time the clients were actually at work: a slow last request
    # runs past the deadline, and the client processes start at different moments.
    elapsed = max(end for _, _, end in results) - min(start for _, start, _ in results)
    return Figure(
        rate=len(latencies) / elapsed,
        p50=statistics.median(latencies) * 1000,
        p99=latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000,
        mean=statistics.fmean(latencies) * 1000,
    )


def warm_up(port: int, key: str, clients: int, tag: str) -> None:
    """Unmeasured requests of each kind, so workers have imported and connected."""
    for _, kind in PHASES:
        drive(port, key, kind, clients, 1.0, f"warm-{tag}")


def _figure_line(label: str, figure: Figure, clients: int) -> str:
    little = clients / figure.rate * 1000 if figure.rate else float("inf")
    return (
        f"  {label:<30} {figure.rate:>8,.0f} req/s   p50 {figure.p50:7.1f} ms   "
        f"p99 {figure.p99:7.1f} ms   Little {little:7.1f} ms (measured mean {figure.mean:7.1f})"
    )


def integrator_catch_up(timeout: float = 120) -> tuple[int, float]:
    """Wait for the integrator to sequence every queued entry; (left at the end, seconds)."""
    from django.db import connections

    from audit.models import AuditEntry

    started = time.perf_counter()
    pending = AuditEntry.objects.filter(sequence__isnull=True).count()
    while pending and time.perf_counter() - started < timeout:
        time.sleep(0.2)
        pending = AuditEntry.objects.filter(sequence__isnull=True).count()
    connections.close_all()
    return pending, time.perf_counter() - started


def integration_lag(since_id: int) -> list[float]:
    """Seconds from each entry's queueing to the first signed checkpoint covering it."""
    from audit.models import AuditEntry, Checkpoint

    checkpoints = sorted(Checkpoint.objects.values_list("size", "created_at"))
    sizes = [size for size, _ in checkpoints]
    lags = []
    rows = AuditEntry.objects.filter(id__gt=since_id, sequence__isnull=False).values_list(
        "sequence", "recorded_at"
    )
    for sequence, recorded_at in rows.iterator(chunk_size=10_000):
        at = bisect.bisect_right(sizes, sequence)
        if at < len(checkpoints):
            lags.append((checkpoints[at][1] - recorded_at).total_seconds())
    return sorted(lags)


def last_entry_id() -> int:
    from audit.models import AuditEntry

    return AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0


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


def batches_phase(port: int, key: str, batches: int) -> float:
    bodies = make_bodies(batches, 5000)
    conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=120) for _ in range(2)]
    started = time.perf_counter()

    def send(conn, chunk):
        for body in chunk:
            conn.request(
                "POST",
                "/api/v1/submissions",
                body=body,
                headers={"Content-Type": "application/json", "Authorization": f"Api-Key {key}"},
            )
            response = conn.getresponse()
            response.read()
            assert response.status == 201, response.status

    threads = [threading.Thread(target=send, args=(conns[i], bodies[i::2])) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return batches * 1000 / (time.perf_counter() - started)


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
        figures: dict[tuple[str, str], Figure] = {}
        print(" audited (audit_integrate running as a separate process):")
        first_id = last_entry_id()
        connections.close_all()
        with integrator(), gunicorn(workdir, workers=args.workers) as port:
            warm_up(port, key, args.clients, "audited")
            for label, kind in PHASES:
                figure = drive(port, key, kind, args.clients, args.seconds, "audited")
                figures["audited", kind] = figure
                print(_figure_line(label, figure, args.clients))
            left, waited = integrator_catch_up()
        lags = integration_lag(first_id)
        state = "caught up" if left == 0 else f"NOT caught up: {left:,} entries unsequenced"
        print(f"  integrator {state} {waited:.1f} s after the last request")
        if lags:
            print(
                f"  integration lag, queued -> signed checkpoint, {len(lags):,} entries: "
                f"p50 {statistics.median(lags) * 1000:.0f} ms   "
                f"p99 {lags[max(0, int(len(lags) * 0.99) - 1)] * 1000:.0f} ms   "
                f"max {lags[-1] * 1000:.0f} ms"
            )
        connections.close_all()
        print(" unaudited (AUDIT_BENCHMARK_SKIP_WRITES=1, the baseline):")
        with gunicorn(
            workdir, workers=args.workers, env={"AUDIT_BENCHMARK_SKIP_WRITES": "1"}
        ) as port:
            warm_up(port, key, args.clients, "unaudited")
            for label, kind in PHASES:
                figure = drive(port, key, kind, args.clients, args.seconds, "unaudited")
                figures["unaudited", kind] = figure
                print(_figure_line(label, figure, args.clients))
        print(" audited / unaudited (target >= 0.8 for submissions and score reads):")
        for label, kind in PHASES:
            audited, unaudited = figures["audited", kind], figures["unaudited", kind]
            ratio = audited.rate / unaudited.rate
            verdict = "" if kind == "health" else ("  met" if ratio >= 0.8 else "  MISSED")
            print(
                f"  {label:<30} {audited.rate:>8,.0f} / {unaudited.rate:>8,.0f} req/s   "
                f"ratio {ratio:5.2f}{verdict}"
            )
        with integrator(), gunicorn(workdir, workers=args.workers) as port:
            rate = batches_phase(port, key, args.batches)
        print(
            f"  {'1,000-record batches, audited':<30} {rate:>8,.0f} records/s "
            f"({args.batches} batches, 2 concurrent clients)"
        )


if __name__ == "__main__":
    main()
