"""How the gateway scales with its log: ``python bench/scale.py [--sizes 100k,1m]``.

For each size (audit entries; residents are a tenth of that, so 10m has 1m residents)
a fresh PostgreSQL database ``scale_<pid>_<size>`` is built through the gateway's own
write paths, measured, and dropped:

* residents, their records and the submissions' audit entries: 1,000-record batches
  posted to ``/api/v1/submissions`` (the full API path, in process); one resident, the
  heaviest, gets a whole batch of records of their own;
* the rest of the log: audited department score reads. One is made through
  ``/api/v1/score-queries``; its stored entry is then repeated for other residents with
  a fresh entry id, time and leaf hash, written by COPY (``gateway.services.bulk``):
  the same row the API writes, without the HTTP round trip. The heaviest resident is
  read 30,000 times (at most a thirtieth of the log);
* the integrator sequences everything (``audit.services.integrate_pending``), signing a
  checkpoint every tenth of the log.

Then it measures, in process with Django's test client (p95 of ``--repeat`` requests
after two warm-ups): a department score read, a resident's score, records and "who saw
my data" (a typical and the heaviest resident), inclusion and consistency proofs, every
regulator page of the audit log (list, each filter, a search, a deep page) and the other
admin change lists; and, each in its own process, every management command with its
wall time and peak memory (RSS, from ``wait4``). Every figure is printed beside the same
at the smallest size, as a growth ratio (the target is flat: within 2x).

Timing on the 2-core development host (shared): 100k and 1m together take about ten
minutes; ``--sizes 10m`` about an hour (most of it building). CI does not run this.
Needs PostgreSQL at ``BENCH_PG_URL`` (default postgres://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_HERE = Path(__file__).resolve().parent
REPO = _HERE.parent
# ``bench/audit.py`` is named like the package: the repository root must come first.
sys.path[:] = [str(REPO), *(p for p in sys.path if Path(p or os.curdir).resolve() != _HERE)]
sys.path.append(str(_HERE))

PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
BATCH = 1000
HEAVY_READS = 30_000


def parse_size(text: str) -> int:
    text = text.strip().lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * factor)


def label(size: int) -> str:
    if size % 1_000_000 == 0:
        return f"{size // 1_000_000}m"
    return f"{size // 1_000}k" if size % 1_000 == 0 else str(size)


# --- the child: build one database and measure it ------------------------------------------


def submission_body(start: int, count: int, batch: int, *, heavy: bool = False) -> str:
    from _harness import identity_number

    records = []
    for i in range(count):
        n = 0 if heavy else start + i
        records.append(
            {
                "citizen_id": identity_number(n),
                "rule": "traffic.failure_to_yield",
                "occurred_at": "2026-11-20T08:30:00+08:00",
                "evidence": {
                    "document": f"苏公交决字〔2026〕第{batch:04d}{i:04d}号",
                    "issued_by": "苏州市公安局交通警察支队",
                    "issued_on": "2026-11-21",
                    "procedure": "general",
                },
                "data": {"location": "干将路与人民路交叉口"},
            }
        )
    return json.dumps({"idempotency_key": f"scale-{batch}", "records": records}, ensure_ascii=False)


def build(size: int, key: str, progress) -> dict:
    """Fill the log to ``size`` entries; the resident numbers and the build's timings."""
    from _harness import identity_number
    from django.db import connection, transaction
    from django.test import Client

    from audit import services
    from audit.models import AuditEntry
    from gateway.identity import subject_for_search
    from gateway.models import Citizen
    from gateway.services.bulk import db_json, insert_rows

    residents = max(1_000, size // 10)
    client = Client(HTTP_AUTHORIZATION=f"Api-Key {key}", HTTP_HOST="localhost")
    timings = {}
    started = time.perf_counter()
    batches = 0
    for batch, start in enumerate(range(0, residents, BATCH)):
        body = submission_body(start, min(BATCH, residents - start), batch)
        response = client.post("/api/v1/submissions", body, content_type="application/json")
        assert response.status_code == 201, response.content[:300]
        batches += 1
        progress(f"residents {start + BATCH:,}/{residents:,}")
    heavy = submission_body(0, BATCH, batches, heavy=True)
    response = client.post("/api/v1/submissions", heavy, content_type="application/json")
    assert response.status_code == 201, response.content[:300]
    timings["residents (API)"] = time.perf_counter() - started

    # One real audited read; its entry is the template of the rest.
    response = client.post(
        "/api/v1/score-queries",
        json.dumps({"citizen_id": identity_number(1), "purpose": "loan_eligibility"}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content[:300]
    template = AuditEntry.objects.order_by("-id").first()
    assert template.action == 200 and template.subject, template.action

    started = time.perf_counter()
    subjects = list(Citizen.objects.order_by("id").values_list("identity_index", flat=True))
    heavy_subject = subject_for_search(identity_number(0))
    missing = size - AuditEntry.objects.count()
    heavy_reads = min(HEAVY_READS, size // 30)
    end = template.recorded_at
    begin = end - dt.timedelta(days=365)
    step = (end - begin) / max(missing, 1)
    fields = [
        "entry_id",
        "format_version",
        "recorded_at",
        "actor_kind",
        "actor_id",
        "action",
        "subject",
        "purpose",
        "legal_basis",
        "object_ref",
        "details",
        "previous_hash",
        "leaf_hash",
    ]
    details_db = db_json(template.details)
    done = 0
    while done < missing:
        rows = []
        for i in range(done, min(done + 20_000, missing)):
            subject = heavy_subject if i % max(missing // heavy_reads, 1) == 0 else None
            subject = subject or subjects[(i * 7919) % len(subjects)]
            recorded_at = begin + step * i
            entry_id = services.new_entry_id()
            data = services.encode_entry_v2(
                services.entry_fields(
                    recorded_at=recorded_at,
                    actor_kind=template.actor_kind,
                    actor_id=template.actor_id,
                    action=template.action,
                    subject=subject,
                    purpose=template.purpose,
                    legal_basis=template.legal_basis,
                    object_ref=template.object_ref,
                    details=template.details,
                    entry_id=entry_id,
                )
            )
            rows.append(
                (
                    entry_id,
                    2,
                    recorded_at,
                    template.actor_kind,
                    template.actor_id,
                    template.action,
                    subject,
                    template.purpose,
                    template.legal_basis,
                    template.object_ref,
                    details_db,
                    b"",
                    services.merkle.leaf_hash(data),
                )
            )
        with transaction.atomic():
            insert_rows(AuditEntry, fields, rows)
        done += len(rows)
        progress(f"reads {done:,}/{missing:,}")
    timings["audited reads (COPY)"] = time.perf_counter() - started

    started = time.perf_counter()
    sequenced = 0
    next_checkpoint = size // 10
    while True:
        batch = services.integrate_pending(limit=20_000)
        if not batch.sequenced:
            break
        sequenced += batch.sequenced
        if batch.size >= next_checkpoint:
            services.checkpoint_create()
            next_checkpoint += size // 10
        progress(f"integrated {sequenced:,}")
    services.checkpoint_create()
    timings["integrator"] = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return {"residents": residents, "heavy_reads": heavy_reads, "build": timings}


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def time_requests(make, repeat: int) -> float:
    """p95 wall time (ms) of ``make()``, which sends one request and checks it."""
    for _ in range(2):
        make()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        make()
        samples.append((time.perf_counter() - started) * 1000)
    return p95(samples)


def measure_requests(key: str, repeat: int, progress) -> dict[str, float]:
    from _harness import identity_number
    from django.contrib import admin
    from django.contrib.auth import get_user_model
    from django.test import Client

    from audit import selectors
    from audit.models import AuditEntry
    from gateway.identity import subject_for_search
    from gateway.models import Account
    from gateway.services.accounts import account_create

    figures: dict[str, float] = {}

    def ok(client: Client, method: str, url: str, **kwargs):
        def send():
            response = getattr(client, method)(url, **kwargs)
            assert response.status_code == 200, (url, response.status_code)

        return send

    department = Client(HTTP_AUTHORIZATION=f"Api-Key {key}", HTTP_HOST="localhost")
    body = json.dumps({"citizen_id": identity_number(1), "purpose": "loan_eligibility"})
    figures["department score read (POST score-queries)"] = time_requests(
        ok(department, "post", "/api/v1/score-queries", data=body, content_type="application/json"),
        repeat,
    )
    progress("department read")

    residents = {"typical": 1, "heaviest": 0}
    for name, n in residents.items():
        account = account_create(
            role="citizen",
            username=f"scale-{name}",
            password=secrets.token_urlsafe(16),
            citizen_id=identity_number(n),
        )
        assert isinstance(account, Account)
        client = Client(HTTP_HOST="localhost")
        client.force_login(account.user)
        for path in ("/api/v1/me/score", "/api/v1/me/events", "/api/v1/me/accesses"):
            figures[f"resident {name}: GET {path}"] = time_requests(ok(client, "get", path), repeat)
        # The page after the first, by the cursor the first page gave.
        first = client.get("/api/v1/me/accesses").json()
        if first["next"] is not None:
            figures[f"resident {name}: GET /api/v1/me/accesses (page 2 by cursor)"] = time_requests(
                ok(client, "get", f"/api/v1/me/accesses?before={first['next']}"), repeat
            )
        for path in ("/portal/events/", "/portal/accesses/"):
            figures[f"resident {name}: portal {path}"] = time_requests(
                ok(client, "get", path), repeat
            )
        progress(f"resident {name}")

    public = Client(HTTP_HOST="localhost")
    size = selectors.log_size()
    first_checkpoint = selectors.latest_checkpoint()
    figures["inclusion proof (middle of the log)"] = time_requests(
        ok(public, "get", f"/api/v1/audit/proof/inclusion?index={size // 2}&size={size}"), repeat
    )
    figures["consistency proof (a tenth to all)"] = time_requests(
        ok(public, "get", f"/api/v1/audit/proof/consistency?from={size // 10}&to={size}"), repeat
    )
    assert first_checkpoint is not None
    progress("proofs")

    users = get_user_model()
    regulator = users.objects.create_superuser("scale-regulator", "r@example.org", "x")
    staff = Client(HTTP_HOST="localhost")
    staff.force_login(regulator)
    heavy = subject_for_search(identity_number(0))
    recent = AuditEntry.objects.order_by("-id").values_list("recorded_at", flat=True)[0]
    since = (recent - dt.timedelta(days=7)).date().isoformat()
    until = (recent + dt.timedelta(days=1)).date().isoformat()
    log = "/admin/audit/auditentry/"
    middle = AuditEntry.objects.filter(sequence=size // 2).values_list("id", flat=True).get()
    pages = {
        "list": "",
        "filter action=score read": "?action=200",
        "filter actor kind=department": "?actor_kind=department",
        "filter department": "?department=traffic_police",
        "filter resident (heaviest)": f"?subject={heavy}",
        "filter past 7 days": f"?recorded_at__gte={since}&recorded_at__lt={until}",
        "search by object": "?q=nothing-matches",
        # The deepest page number offered (200, 50 a page), or the middle of a small log.
        "deepest numbered page": f"?p={min(200, size // 100)}",
        # "Older entries" from the middle of the log: a keyset, however deep.
        "older than the middle (cursor)": f"?before={middle}",
    }
    for name, query in pages.items():
        figures[f"admin log: {name}"] = time_requests(ok(staff, "get", log + query), repeat)
    progress("admin log")
    for model in admin.site._registry:
        if model is AuditEntry:
            continue
        meta = model._meta
        url = f"/admin/{meta.app_label}/{meta.model_name}/"
        figures[f"admin list: {meta.app_label}.{meta.model_name}"] = time_requests(
            ok(staff, "get", url), max(5, repeat // 4)
        )
    progress("admin lists")
    return figures


def run_command(args: list[str], env: dict) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of ``manage.py ARGS`` in its own process."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    errors = process.stderr.read().decode(errors="replace")
    process.stderr.close()
    if process.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed: {errors[-800:]}")
    return elapsed, usage.ru_maxrss / 1024


def measure_commands(workdir: Path, progress) -> dict[str, tuple[float, float]]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    commands = {
        "audit_integrate --once": ["audit_integrate", "--once"],
        "audit_verify": ["audit_verify"],
        "audit_export": ["audit_export", str(workdir / "export.bin")],
        "recompute_scores": ["recompute_scores"],
        "expire_events": ["expire_events"],
        "escalate_overdue_appeals": ["escalate_overdue_appeals"],
    }
    figures = {}
    for name, args in commands.items():
        figures[name] = run_command(args, env)
        progress(name)
    return figures


def child(size: int, repeat: int, out: Path) -> None:
    import warnings

    import psycopg

    # The admin's date filter sends dates; Django warns that they are naive.
    warnings.filterwarnings("ignore", "DateTimeField", RuntimeWarning)
    # Stopped from outside, the database is still dropped (see ``finally`` below).
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: sys.exit(1))

    name = f"scale_{os.getpid()}_{label(size)}"
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    workdir = Path(tempfile.mkdtemp(prefix="gateway-scale-"))
    tty = sys.stderr.isatty()

    def progress(text: str) -> None:
        if tty:
            sys.stderr.write(f"\r  {label(size)}: {text:<60}")
            sys.stderr.flush()

    try:
        from _harness import django_setup

        django_setup(f"{base}/{name}", workdir)
        from http_load import setup_purpose
        from ingest import setup_catalogue

        key = setup_catalogue()
        setup_purpose()
        started = time.perf_counter()
        facts = build(size, key, progress)
        facts["build seconds"] = time.perf_counter() - started
        facts["requests"] = measure_requests(key, repeat, progress)
        facts["commands"] = measure_commands(workdir, progress)
        from audit import selectors

        facts["entries"] = selectors.log_size()
        with psycopg.connect(f"{base}/{name}") as conn:
            facts["database MB"] = (
                conn.execute("SELECT pg_database_size(current_database())").fetchone()[0] / 2**20
            )
            # The log's own share: entries with their indexes, and the tree's nodes.
            facts["log bytes per entry"] = (
                conn.execute(
                    "SELECT pg_total_relation_size('audit_auditentry')"
                    " + pg_total_relation_size('audit_treenode')"
                ).fetchone()[0]
                / facts["entries"]
            )
        out.write_text(json.dumps(facts))
        if tty:
            sys.stderr.write("\r" + " " * 72 + "\r")
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)


# --- the parent: one child per size, then the table ------------------------------------------


def report(results: dict[int, dict]) -> None:
    sizes = sorted(results)
    base = results[sizes[0]]
    heads = "".join(f"{label(s):>12}" for s in sizes)
    growth = "".join(f"{'x ' + label(s):>9}" for s in sizes[1:])
    print(f"\nscale: PostgreSQL on loopback, {os.cpu_count()} CPUs (shared)")
    for size in sizes:
        facts = results[size]
        build = ", ".join(f"{k} {v:.0f} s" for k, v in facts["build"].items())
        print(
            f"  {label(size)}: {facts['entries']:,} entries, {facts['residents']:,} residents, "
            f"heaviest read {facts['heavy_reads']:,} times, database "
            f"{facts['database MB']:,.0f} MB (the log: {facts['log bytes per entry']:,.0f} "
            f"bytes an entry); built in {facts['build seconds']:.0f} s ({build})"
        )
    print(f"\n  {'request (p95, ms)':<58}{heads}   growth vs {label(sizes[0])}{growth}")
    for name in base["requests"]:
        values = [results[s]["requests"].get(name) for s in sizes]
        cells = "".join(f"{v:>12.1f}" if v is not None else f"{'-':>12}" for v in values)
        ratios = "".join(
            f"{v / values[0]:>9.2f}" if v is not None else f"{'-':>9}" for v in values[1:]
        )
        print(f"  {name:<58}{cells}   {'':<11}{ratios}")
    print(
        f"\n  {'command (wall s / peak RSS MB)':<58}{heads}   growth vs {label(sizes[0])}{growth}"
    )
    for name in base["commands"]:
        walls = [results[s]["commands"][name][0] for s in sizes]
        rss = [results[s]["commands"][name][1] for s in sizes]
        cells = "".join(f"{w:>6.1f}/{m:<5.0f}" for w, m in zip(walls, rss, strict=True))
        ratios = "".join(
            f"{w / walls[0]:>4.1f}/{m / rss[0]:<4.1f}"
            for w, m in zip(walls[1:], rss[1:], strict=True)
        )
        print(f"  {name:<58}{cells}   {'time/memory':<11}{ratios}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100k,1m", help="audit entries, e.g. 100k,1m,10m")
    parser.add_argument("--repeat", type=int, default=20, help="requests timed per figure")
    parser.add_argument("--one", type=parse_size, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        child(args.one, args.repeat, args.out)
        return
    sizes = sorted(parse_size(s) for s in args.sizes.split(","))
    results = {}
    with tempfile.TemporaryDirectory(prefix="gateway-scale-") as tmp:
        try:
            for size in sizes:
                out = Path(tmp) / f"{size}.json"
                started = time.perf_counter()
                command = [sys.executable, __file__, "--one", str(size), "--out", str(out)]
                subprocess.run([*command, "--repeat", str(args.repeat)], check=True)
                results[size] = json.loads(out.read_text())
                elapsed = time.perf_counter() - started
                print(f"  {label(size)} done in {elapsed:.0f} s", flush=True)
        except (KeyboardInterrupt, subprocess.CalledProcessError) as exc:
            # Interrupted (a 10m run is long): what was measured is still reported.
            print(f"  stopped ({type(exc).__name__}); reporting the sizes done", flush=True)
    if results:
        report(results)


if __name__ == "__main__":
    main()
