"""The audited requests' SQL replayed with pgbench: how far the database alone would carry them.

Usage: python bench/audit_sql.py [--clients 50] [--seconds 15] [--jobs 2]

Captures, in process with Django's test client against a fresh PostgreSQL database, the
SQL that one audited score read (``POST /api/v1/score-queries`` with a department key:
the resident's identity number travels in the body, never in a URL) and one single-record
submission send to the database, one capture per client, each for its own resident. Each
becomes a pgbench custom script with literal parameters in which every value that must be
unique per transaction (the audit entry's ``entry_id``, the submission's id and
idempotency key) is made from a ``\\set`` random number, and in which client ``n`` always
replays resident ``n``'s requests (``\\if :client_id = n``), so clients contend only where
the gateway makes them contend: on the audit log itself.

Each script is replayed with ``pgbench -n -c 50 -j 2 -T 15`` and its transactions/s is
printed beside pgbench's ceiling measured in the same run: one ~600-byte insert plus one
update of a row of the client's own, per transaction. Target: at least 0.5 of the ceiling.
Beside each, the same captured SQL less the audit entry's INSERT, so the log's own share
of the gap is visible.
Python, HTTP and gunicorn are out of the picture: this is the figure that says how far a
bigger machine or more hosts would carry the gateway.

With ``--integrator``, ``manage.py audit_integrate`` runs during the replays, as in
production, sequencing the entries the replayed requests queue (its work shares the
machine with pgbench and the database, so this is the more honest but noisier figure).

Needs ``pgbench`` (Debian: ``apt-get install postgresql-client``); exits 2 without it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from _harness import bench_database, django_setup, identity_number, integrator
from http_load import setup_purpose
from ingest import setup_catalogue

# pgbench's \set gives integers; twelve decimal digits are also twelve hex digits, so one
# variable can stand for the tail of an entry id, a UUID or an idempotency key alike.
UNIQUE = r"\set u random(100000000000, 999999999999)"
TAIL = 12

CEILING_SETUP = """
DROP TABLE IF EXISTS sqlbench_scratch, sqlbench_client;
CREATE TABLE sqlbench_scratch (id bigserial PRIMARY KEY, payload text NOT NULL);
CREATE TABLE sqlbench_client (client_id integer PRIMARY KEY, n bigint NOT NULL DEFAULT 0);
INSERT INTO sqlbench_client (client_id) SELECT g FROM generate_series(0, {last}) AS g;
"""

CEILING_SCRIPT = (
    UNIQUE
    + """
BEGIN;
INSERT INTO sqlbench_scratch (payload) VALUES (md5(:u::text) || repeat('x', 568));
UPDATE sqlbench_client SET n = n + 1 WHERE client_id = :client_id;
COMMIT;
"""
)


def submission_body(n: int, key: str) -> str:
    return json.dumps(
        {
            "idempotency_key": key,
            "records": [
                {
                    "citizen_id": identity_number(n),
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
    )


class Capture:
    """Every statement one request sends, with its parameters inlined, and whether it ran
    inside a transaction (autocommit statements stay outside BEGIN/COMMIT in the script)."""

    def __init__(self) -> None:
        self.statements: list[tuple[bool, str]] = []

    def __call__(self, execute, sql, params, many, context):
        from django.db import connection
        from psycopg import ClientCursor

        if many:
            raise RuntimeError("executemany is not captured")
        text = ClientCursor(connection.connection).mogrify(sql, params) if params else sql
        self.statements.append((connection.in_atomic_block, text))
        return execute(sql, params, many, context)

    def transaction_text(self, unique: dict[str, str], *, audited: bool = True) -> str:
        """The request as SQL; without ``audited``, less the audit entry's INSERT."""
        lines: list[str] = []
        inside = False
        for atomic, text in self.statements:
            if not audited and text.startswith('INSERT INTO "audit_auditentry"'):
                continue
            if atomic and not inside:
                lines.append("BEGIN;")
            elif not atomic and inside:
                lines.append("COMMIT;")
            inside = atomic
            for value, replacement in unique.items():
                text = text.replace(value, replacement)
            lines.append(text.rstrip().rstrip(";") + ";")
        if inside:
            lines.append("COMMIT;")
        return "\n".join(lines)


def _fresh(value: str) -> str:
    """``value`` with its last twelve characters replaced by the per-transaction number."""
    return value[:-TAIL] + ":u"


def capture_scripts(key: str, clients: int) -> tuple[dict[str, str], tuple[int, int]]:
    """Scripts by file name (audited and less the audit INSERT); statements per request."""
    from django.db import connection
    from django.test import Client

    from audit.models import AuditEntry
    from gateway.models import Submission

    client = Client(HTTP_AUTHORIZATION=f"Api-Key {key}", HTTP_HOST="localhost")
    reads, submits, reads_bare, submits_bare = [], [], [], []
    counts = (0, 0)
    for n in range(clients):
        # Register the resident (and warm every cache) before the captured requests.
        warm = client.post(
            "/api/v1/submissions",
            submission_body(n, f"sqlbench-warm-{n:04d}"),
            content_type="application/json",
        )
        assert warm.status_code == 201, warm.content

        last_entry = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first()
        capture = Capture()
        idempotency_key = f"sqlbench-{n:04d}-000000000000"
        with connection.execute_wrapper(capture):
            response = client.post(
                "/api/v1/submissions",
                submission_body(n, idempotency_key),
                content_type="application/json",
            )
        assert response.status_code == 201, response.content
        submission = Submission.objects.get(idempotency_key=idempotency_key)
        unique = {idempotency_key: _fresh(idempotency_key)}
        unique[submission.id.hex] = _fresh(submission.id.hex)
        unique[str(submission.id)] = _fresh(str(submission.id))
        for entry_id in AuditEntry.objects.filter(id__gt=last_entry).values_list(
            "entry_id", flat=True
        ):
            unique[entry_id] = _fresh(entry_id)
        submits.append(capture.transaction_text(unique))
        submits_bare.append(capture.transaction_text(unique, audited=False))
        submit_count = len(capture.statements)

        last_entry = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first()
        capture = Capture()
        with connection.execute_wrapper(capture):
            response = client.post(
                "/api/v1/score-queries",
                json.dumps({"citizen_id": identity_number(n), "purpose": "loan_eligibility"}),
                content_type="application/json",
            )
        assert response.status_code == 200, response.content
        unique = {
            entry_id: _fresh(entry_id)
            for entry_id in AuditEntry.objects.filter(id__gt=last_entry).values_list(
                "entry_id", flat=True
            )
        }
        reads.append(capture.transaction_text(unique))
        reads_bare.append(capture.transaction_text(unique, audited=False))
        counts = (len(capture.statements), submit_count)

    def per_client(bodies: list[str]) -> str:
        parts = [UNIQUE]
        for n, body in enumerate(bodies):
            parts.append(f"\\{'if' if n == 0 else 'elif'} :client_id = {n}")
            parts.append(body)
        parts.append("\\endif")
        return "\n".join(parts) + "\n"

    scripts = {
        "score_read.sql": per_client(reads),
        "submission.sql": per_client(submits),
        "score_read_no_audit.sql": per_client(reads_bare),
        "submission_no_audit.sql": per_client(submits_bare),
    }
    return scripts, counts


def pgbench(url: str, script: Path, clients: int, jobs: int, seconds: int) -> float:
    command = ["pgbench", "-n", "-c", str(clients), "-j", str(jobs), "-T", str(seconds)]
    command += ["-f", str(script), url]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"pgbench failed on {script.name} (exit {done.returncode})")
    match = re.search(r"tps = ([\d.]+) \(without initial connection time\)", done.stdout)
    if match is None:
        sys.stderr.write(done.stdout)
        raise SystemExit(f"could not read pgbench's tps for {script.name}")
    failed = re.search(r"number of failed transactions: (\d+)", done.stdout)
    if failed and int(failed.group(1)):
        print(f"  note: {failed.group(1)} failed transactions in {script.name}")
    return float(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument(
        "--integrator", action="store_true", help="run audit_integrate during the replays"
    )
    parser.add_argument("--keep", metavar="DIR", help="also copy the scripts to DIR")
    args = parser.parse_args()
    if shutil.which("pgbench") is None:
        sys.stderr.write(
            "audit_sql: pgbench not found; install it (Debian: apt-get install -y "
            "postgresql-client) and run again\n"
        )
        raise SystemExit(2)
    os.environ["DEBUG"] = "0"
    with bench_database("postgres") as (url, workdir):
        django_setup(url, workdir)
        key = setup_catalogue()
        setup_purpose()
        captured, (read_count, submit_count) = capture_scripts(key, args.clients)
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(CEILING_SETUP.format(last=args.clients - 1))
        connection.close()
        scripts = {"ceiling.sql": CEILING_SCRIPT, **captured}
        for name, text in scripts.items():
            (workdir / name).write_text(text, encoding="utf-8")
            if args.keep:
                Path(args.keep).mkdir(parents=True, exist_ok=True)
                (Path(args.keep) / name).write_text(text, encoding="utf-8")
        print(
            f"audit_sql: pgbench -n -c {args.clients} -j {args.jobs} -T {args.seconds}, "
            f"PostgreSQL on loopback, {os.cpu_count()} CPUs"
        )
        print(
            f"  captured: score read {read_count} statements, "
            f"single submission {submit_count} statements"
        )
        if args.integrator:
            print("  audit_integrate running during every replay, the ceiling's too")
        tps = {}
        with integrator() if args.integrator else contextlib.nullcontext():
            for name in scripts:
                tps[name] = pgbench(url, workdir / name, args.clients, args.jobs, args.seconds)
        ceiling = tps["ceiling.sql"]
        print(f"  {'ceiling: 600-byte insert + own-row update':<44} {ceiling:>9,.0f} tps")
        for label, name in (
            ("audited score read, replayed", "score_read"),
            ("audited single submission, replayed", "submission"),
        ):
            ratio = tps[f"{name}.sql"] / ceiling
            verdict = "met" if ratio >= 0.5 else "MISSED"
            print(
                f"  {label:<44} {tps[f'{name}.sql']:>9,.0f} tps   ratio to ceiling {ratio:5.2f}   "
                f"(target >= 0.5: {verdict})"
            )
            bare = tps[f"{name}_no_audit.sql"]
            print(
                f"    {'same SQL less the audit entry INSERT':<42} {bare:>9,.0f} tps   "
                f"ratio to ceiling {bare / ceiling:5.2f}   audited / this "
                f"{tps[f'{name}.sql'] / bare:5.2f}"
            )


if __name__ == "__main__":
    main()
