"""Audit-log benchmarks: ``python bench/audit.py [--quick] [--sizes 100000,1000000]``.

Every figure is printed beside its baseline measured in the same run, and the ratio.

* ingest: 1,000-record batches through ``submission_accept`` with the audit entries
  stored vs with ``AUDIT_BENCHMARK_SKIP_WRITES`` (entries computed, nothing stored);
* verification: the offline verifier on a version 2 export file (streaming) vs bare
  ``hashlib.sha256`` over the same entry bytes (target: ratio >= 0.5);
* inclusion proofs: mean time per proof at tree size 1 vs 10,000,000 (``--quick``:
  1,000,000), to show proof cost stays logarithmic in the log size;
* memory at scale (SQLite): peak RSS of ``log_export``, of ``verification_run`` (the
  database path) and of the offline verifier on the export, each in its own process, at
  each of ``--sizes`` entries, side by side with the growth (target: flat);
* score reads during an export: latency of audited score reads (in process) while
  ``log_export`` of the largest log runs in another process vs idle (target <= 2x).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# This file is named like the package it measures: make sure ``import audit`` finds the
# package at the repository root, not this script's folder.
_HERE = Path(__file__).resolve().parent
REPO = _HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or os.curdir).resolve() != _HERE]
sys.path.insert(0, str(REPO))

ORIGIN = "bench.city.example/credit-log"


def _best(fn, repeat: int = 3) -> float:
    """Best wall time of ``repeat`` runs (the same treatment for figure and baseline)."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _row(label: str, value: str, baseline_label: str, baseline: str, ratio: float) -> None:
    print(f"  {label:<34} {value:>16}   {baseline_label:<28} {baseline:>16}   ratio {ratio:6.3f}")


def realistic_entries(n: int, seed: int = 1) -> list[bytes]:
    """``n`` version 2 entries (``b"\\x02" + canonical JSON``) like the gateway queues."""
    from audit.canonical import encode_entry_v2

    rnd = random.Random(seed)
    start = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    actions = [(200, "loan_eligibility", "ZJ 19"), (100, "", "道路交通安全法 第四十七条")]
    entries = []
    for i in range(n):
        action, purpose, basis = actions[i % 2]
        details = (
            {"key": "20wZXkyW", "disclosed": ["as_of", "eligibility"]}
            if action == 200
            else {"idempotency_key": f"load-{rnd.getrandbits(48):x}", "records": 1}
        )
        recorded_at = start + dt.timedelta(microseconds=i * 1500 + rnd.randrange(1000))
        # The fields of audit.services.entry_fields (not imported: it needs Django).
        fields = {
            "time": recorded_at.isoformat(timespec="microseconds"),
            "actor_kind": "department",
            "actor_id": f"department-{rnd.randrange(20):02d}",
            "action": action,
            "subject": f"{rnd.getrandbits(256):064x}",
            "purpose": purpose,
            "legal_basis": basis,
            "object": "" if action == 200 else f"submission:{rnd.getrandbits(128):032x}",
            "details": details,
            "id": f"{rnd.getrandbits(128):032x}",
        }
        entries.append(encode_entry_v2(fields))
    return entries


def write_v2_export(path: Path, entries: list[bytes], every: int) -> str:
    """Write ``entries`` as a version 2 export signed every ``every`` entries; its key."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from audit.merkle import CompactRange, leaf_hash
    from audit.note import checkpoint_body, sign_note, verifier_key
    from audit.verify import ExportWriter

    key = Ed25519PrivateKey.generate()
    vkey = verifier_key(ORIGIN, key.public_key())
    sizes = list(range(every, len(entries) + 1, every))
    if not sizes or sizes[-1] != len(entries):
        sizes.append(len(entries))
    tree = CompactRange()
    with open(path, "wb") as fh:
        writer = ExportWriter(
            fh,
            origin=ORIGIN,
            size=len(entries),
            verifier_key=vkey,
            exported_at="2026-03-02T00:00:00+00:00",
            checkpoints=len(sizes),
        )
        done = 0
        for size in sizes:
            chunk = entries[done:size]
            writer.entries(chunk)
            for entry in chunk:
                tree.append(leaf_hash(entry))
            done = size
            writer.checkpoint(sign_note(checkpoint_body(ORIGIN, size, tree.root()), ORIGIN, key))
    return vkey


def bench_verification(n: int = 200_000) -> None:
    from audit.verify import verify_export_file

    print(f"\n[verification] {n:,} version 2 entries")
    entries = realistic_entries(n)
    mean_size = sum(map(len, entries)) / n
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.export"
        vkey = write_v2_export(path, entries, max(1, n // 10))
        print(f"  mean entry size {mean_size:.0f} bytes, a signed checkpoint every {n // 10:,}")

        def offline_file():
            result = verify_export_file(path, vkey)
            assert result.ok and result.size == n, result.line()

        def bare():
            sha = hashlib.sha256
            [sha(e).digest() for e in entries]

        t_bare = _best(bare)
        t_file = _best(offline_file)
    _row(
        "offline verify, v2 export file",
        f"{n / t_file:,.0f}/s",
        "bare sha256, same bytes",
        f"{n / t_bare:,.0f}/s",
        t_bare / t_file,
    )
    verdict = "met" if t_bare / t_file >= 0.5 else "MISSED"
    print(f"  target: ratio >= 0.5: {verdict}")


def _synthetic_leaves(n: int) -> list[bytes]:
    """``n`` distinct pseudo-random 32-byte leaf hashes, cheaply (one urandom call)."""
    blob = os.urandom(32 * n)
    return [blob[i : i + 32] for i in range(0, 32 * n, 32)]


def _mean_proof_us(tree, proofs: int, seed: int = 7) -> tuple[float, int]:
    from audit.merkle import verify_inclusion

    size = tree.size
    rnd = random.Random(seed)
    indices = [rnd.randrange(size) for _ in range(proofs)]
    proof = tree.inclusion_proof
    gc.collect()
    start = time.perf_counter()
    for i in indices:
        proof(i, size)
    elapsed = time.perf_counter() - start
    # Sanity: the proofs are real.
    root = tree.root()
    leaves = tree.leaf_hashes()
    for i in indices[:100]:
        assert verify_inclusion(leaves[i], i, size, proof(i, size), root)
    return elapsed / proofs * 1e6, len(proof(indices[0], size))


def bench_inclusion_proofs(quick: bool = False, proofs: int = 50_000) -> None:
    from audit.merkle import MemoryTree

    big = 1_000_000 if quick else 10_000_000
    print(f"\n[inclusion proofs] tree sizes 1 and {big:,}, mean of {proofs:,} proofs")
    small_tree = MemoryTree(_synthetic_leaves(1))
    start = time.perf_counter()
    big_tree = MemoryTree(_synthetic_leaves(big))
    build = time.perf_counter() - start
    print(f"  built the {big:,}-leaf tree in {build:.1f} s")
    t_small, len_small = _mean_proof_us(small_tree, proofs)
    t_big, len_big = _mean_proof_us(big_tree, proofs)
    _row(
        f"proof at size {big:,} ({len_big} hashes)",
        f"{t_big:.2f} us",
        f"size 1 ({len_small} hashes)",
        f"{t_small:.2f} us",
        t_big / t_small,
    )
    print(
        f"  {big:,}x more entries cost {t_big / t_small:.1f}x the time per proof "
        f"(log2 {big:,} = {big.bit_length() - 1}); proofs read O(log n) stored nodes"
    )
    del big_tree


def bench_ingest(batches: int = 10, db: str = "sqlite") -> None:
    """Ingest records/s through submission_accept with and without its audit entries.

    Runs in a child process (Django is configured once per process) against a fresh
    database; "without" sets ``AUDIT_BENCHMARK_SKIP_WRITES`` in the same run, so the
    entries are still computed but not stored.
    """
    subprocess.run(
        [sys.executable, __file__, "--ingest-child", "--batches", str(batches), "--db", db],
        check=True,
    )


def _ingest_child(batches: int, db: str) -> None:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _harness import bench_database, django_setup
    from ingest import make_bodies, setup_catalogue

    os.environ["DEBUG"] = "0"
    with bench_database(db) as (url, workdir):
        django_setup(url, workdir)
        setup_catalogue()
        from django.test import override_settings

        from compliance.models import Department
        from gateway.principals import DepartmentPrincipal
        from gateway.services.submissions import submission_accept

        principal = DepartmentPrincipal(department=Department.objects.get(), key_id="bench")
        bodies = make_bodies(2 * batches + 2, 5000)

        def run(chunk, *, audited: bool) -> float:
            with override_settings(AUDIT_BENCHMARK_SKIP_WRITES=not audited):
                started = time.perf_counter()
                for body in chunk:
                    outcome = submission_accept(principal=principal, body=body)
                    assert outcome.status == 201
                return len(chunk) * 1000 / (time.perf_counter() - started)

        run(bodies[:2], audited=True)  # warm-up: residents registered, caches filled
        # Alternate so that growth of the tables favours neither side.
        with_audit, without_audit = [], []
        for i in range(batches):
            with_audit.append(run(bodies[2 + 2 * i : 3 + 2 * i], audited=True))
            without_audit.append(run(bodies[3 + 2 * i : 4 + 2 * i], audited=False))
        rate_with = statistics.median(with_audit)
        rate_without = statistics.median(without_audit)
        _row(
            f"ingest with audit ({db})",
            f"{rate_with:,.0f} records/s",
            "without (skip writes)",
            f"{rate_without:,.0f} records/s",
            rate_with / rate_without,
        )
        print(
            f"    audit cost: {100 * (1 - rate_with / rate_without):.1f}% of the ingest rate "
            "(target: at most 25%)"
        )
        from django.db import connections

        connections.close_all()


# --- the log at scale (SQLite) -----------------------------------------------------------

FILL_BATCH = 20_000


def _memory_kb() -> dict[str, int]:
    """This process's resident set now and its peak so far (Linux)."""
    out = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line[:5]] = int(line.split()[1])
    return out


def _child(*args: str, env: dict[str, str]) -> dict:
    """Run this script in a fresh process with ``args``; its last stdout line is JSON."""
    done = subprocess.run(
        [sys.executable, __file__, *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"bench child {args} failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _django_child() -> None:
    """Configure Django in a child on the database named by the parent's environment."""
    sys.path.append(str(_HERE))
    from _harness import django_setup

    django_setup(os.environ["DATABASE_URL"], Path(os.environ["GATEWAY_VAR_DIR"]))


def _fill_child(size: int) -> dict:
    """Set up a department, a purpose and a resident, queue ``size`` entries, integrate."""
    _django_child()
    from django.db import transaction
    from django.test import Client
    from http_load import setup_purpose
    from ingest import setup_catalogue

    from audit.actions import AuditAction
    from audit.services import AuditRecord, audit_append, integrate_all

    key = setup_catalogue()
    setup_purpose()
    from audit_sql import submission_body

    client = Client(HTTP_AUTHORIZATION=f"Api-Key {key}", HTTP_HOST="localhost")
    response = client.post(
        "/api/v1/submissions", submission_body(1, "scale-1"), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    rnd = random.Random(3)
    started = time.perf_counter()
    queued = 0
    while queued < size:
        count = min(FILL_BATCH, size - queued)
        records = [
            AuditRecord(
                action=AuditAction.SCORE_READ_BY_DEPARTMENT,
                actor_kind="department",
                actor_id=f"department-{rnd.randrange(20):02d}",
                subject=f"{rnd.getrandbits(256):064x}",
                purpose="loan_eligibility",
                legal_basis="ZJ 19",
                details={"key": "20wZXkyW", "disclosed": ["as_of", "eligibility"]},
            )
            for _ in range(count)
        ]
        with transaction.atomic():
            audit_append(records)
        queued += count
    queue_seconds = time.perf_counter() - started
    started = time.perf_counter()
    checkpoint = integrate_all()
    return {
        "key": key,
        "queue_s": queue_seconds,
        "integrate_s": time.perf_counter() - started,
        "size": checkpoint.size,
    }


def _rss_child(what: str, path: str) -> dict:
    """Run one of export / verify-db / verify-file and report its memory."""
    _django_child()
    from audit.services import log_export, verification_run
    from audit.verify import read_export_header, verify_export_file

    gc.collect()
    before = _memory_kb()
    started = time.perf_counter()
    if what == "export":
        with open(path, "wb") as fh:
            size, _, _ = log_export(fh, actor_id="bench")
    elif what == "verify-db":
        run = verification_run()
        assert run.ok, run.message
        size = run.size
    else:
        header = read_export_header(path)
        result = verify_export_file(path, header.verifier_key)
        assert result.ok, result.line()
        size = result.size
    seconds = time.perf_counter() - started
    after = _memory_kb()
    return {"size": size, "seconds": seconds, "rss_before_kb": before["VmRSS"],
            "peak_kb": after["VmHWM"]}  # fmt: skip


def _latency_child(key: str, export_path: str, reads: int) -> dict:
    """Score-read latency idle, then while another process exports the whole log."""
    _django_child()
    from _harness import identity_number
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Api-Key {key}", HTTP_HOST="localhost")
    body = json.dumps({"citizen_id": identity_number(1), "purpose": "loan_eligibility"})

    def read() -> float:
        started = time.perf_counter()
        response = client.post("/api/v1/score-queries", body, content_type="application/json")
        assert response.status_code == 200, response.content
        return time.perf_counter() - started

    for _ in range(5):
        read()
    idle = [read() for _ in range(reads)]
    exporter = subprocess.Popen(
        [sys.executable, __file__, "--rss-child", "export", "--path", export_path],
        stdout=subprocess.DEVNULL,
    )
    # Let the exporter import Django and reach its first chunk before reading under it.
    time.sleep(2.0)
    during = []
    while exporter.poll() is None:
        during.append(read())
    assert exporter.returncode == 0, "export failed"
    return {"idle": idle, "during": during}


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * q) - 1)]


def _latency_line(size: int, figures: dict) -> None:
    idle, during = figures["idle"], figures["during"]
    if not during:
        print(f"    {size:,}: the export finished before any read under it")
        return
    ratio = statistics.median(during) / statistics.median(idle)
    _row(
        f"score read during export ({len(during)})",
        f"p50 {statistics.median(during) * 1000:.1f} ms",
        f"idle ({len(idle)} reads)",
        f"p50 {statistics.median(idle) * 1000:.1f} ms",
        ratio,
    )
    print(
        f"    p99 {_pct(during, 0.99) * 1000:.1f} ms during vs {_pct(idle, 0.99) * 1000:.1f} ms "
        f"idle; max {max(during) * 1000:.1f} ms; target p50 ratio <= 2: "
        f"{'met' if ratio <= 2 else 'MISSED'}"
    )


OPERATIONS = (
    ("log_export (database -> file)", "export"),
    ("verification_run (database)", "verify-db"),
    ("offline verifier (export file)", "verify-file"),
)


def bench_scale(sizes: list[int], quick: bool = False) -> None:
    print(f"\n[the log at scale, SQLite] sizes {', '.join(f'{n:,}' for n in sizes)}")
    print("  each size: a fresh database filled through audit_append, then integrate_all;")
    print("  each operation in its own process (peak RSS = VmHWM, Django loaded included)")
    rows: dict[int, dict[str, dict]] = {}
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="gateway-bench-") as tmp:
            env = {"DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3", "GATEWAY_VAR_DIR": tmp}
            fill = _child("--fill-child", str(size), env=env)
            print(
                f"  {size:,} entries: queued in {fill['queue_s']:.1f} s "
                f"({size / fill['queue_s']:,.0f}/s), integrated in {fill['integrate_s']:.1f} s "
                f"({size / fill['integrate_s']:,.0f}/s)"
            )
            export = f"{tmp}/log.export"
            rows[size] = {
                "export": _child("--rss-child", "export", "--path", export, env=env),
                "verify-db": _child("--rss-child", "verify-db", env=env),
                "verify-file": _child("--rss-child", "verify-file", "--path", export, env=env),
            }
            before = rows[size]["export"]["rss_before_kb"] / 1024
            for label, what in OPERATIONS:
                row = rows[size][what]
                print(
                    f"    {label:<34} peak {row['peak_kb'] / 1024:7.1f} MB "
                    f"(process before: {before:.1f} MB)   {row['seconds']:7.1f} s"
                )
            latency = _child("--latency-child", fill["key"], "--path", f"{tmp}/second.export",
                             *(["--quick"] if quick else []), env=env)  # fmt: skip
            _latency_line(size, latency)
    if len(sizes) < 2:
        return
    small, big = sizes[0], sizes[-1]
    print(f"  peak RSS (MB) side by side; growth = at {big:,} / at {small:,} (target: flat)")
    header = "".join(f"{f'{n:,} entries':>17}" for n in sizes)
    print(f"  {'':<34}{header}   growth")
    for label, what in OPERATIONS:
        peaks = "".join(f"{rows[n][what]['peak_kb'] / 1024:>17.1f}" for n in sizes)
        growth = rows[big][what]["peak_kb"] / rows[small][what]["peak_kb"]
        print(f"  {label:<34}{peaks}   {growth:6.2f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="small sizes, 1,000,000-leaf proof tree (< 2 min)"
    )
    parser.add_argument("--entries", type=int, default=None, help="entries to verify")
    parser.add_argument(
        "--sizes", default=None, help="log sizes for memory and latency (100000,1000000)"
    )
    parser.add_argument("--batches", type=int, default=None, help="1,000-record batches each way")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--only", choices=["ingest", "verification", "proofs", "scale"],
                        action="append", help="run only these parts (repeatable)")  # fmt: skip
    parser.add_argument("--ingest-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--fill-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--rss-child", help=argparse.SUPPRESS)
    parser.add_argument("--latency-child", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    batches = args.batches or (3 if args.quick else 10)
    if args.ingest_child:
        _ingest_child(batches, args.db)
        return
    if args.fill_child is not None:
        print(json.dumps(_fill_child(args.fill_child)))
        return
    if args.rss_child:
        print(json.dumps(_rss_child(args.rss_child, args.path)))
        return
    if args.latency_child:
        print(json.dumps(_latency_child(args.latency_child, args.path, 30 if args.quick else 100)))
        return
    entries = args.entries or (30_000 if args.quick else 200_000)
    default_sizes = "2000,20000" if args.quick else "100000,1000000"
    sizes = sorted({int(n.replace("_", "")) for n in (args.sizes or default_sizes).split(",")})
    parts = set(args.only or ["ingest", "verification", "proofs", "scale"])
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    if "ingest" in parts:
        bench_ingest(batches, args.db)
    if "verification" in parts:
        bench_verification(entries)
    if "proofs" in parts:
        bench_inclusion_proofs(quick=args.quick)
    if "scale" in parts:
        bench_scale(sizes, args.quick)


if __name__ == "__main__":
    main()
