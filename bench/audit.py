"""Audit-log benchmarks: ``python bench/audit.py [--quick] [--entries N]``.

Every figure is printed beside its baseline and the ratio between them.

* verification: offline verification throughput vs bare ``hashlib.sha256`` over the
  same entry bytes (target: >= 500,000 entries/s and >= 1/4 of bare hashing);
* inclusion proofs: mean time per proof at tree size 1 vs 10,000,000 (``--quick``:
  1,000,000), to show proof cost stays logarithmic in the log size.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import io
import os
import random
import statistics
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
    """``n`` chained canonical entries of about 250 bytes, like the gateway writes."""
    from audit.canonical import GENESIS_PREVIOUS_HASH, encode_entry

    rnd = random.Random(seed)
    actions = ["credit.score.read", "credit.report.export", "consent.check", "dsar.respond"]
    entries = []
    previous = GENESIS_PREVIOUS_HASH
    sha = hashlib.sha256
    for i in range(n):
        fields = {
            "action": actions[i % 4],
            "actor": f"clerk-{rnd.randrange(300):03d}",
            "basis": "ordinance-12/4",
            "purpose": "loan-eligibility",
            "request": f"{rnd.getrandbits(64):016x}",
            "subject": f"{rnd.getrandbits(128):032x}",
            "ts": f"2025-03-{1 + i // 86400 % 28:02d}T{i // 3600 % 24:02d}:"
            f"{i // 60 % 60:02d}:{i % 60:02d}.{rnd.randrange(10**6):06d}Z",
        }
        entry = encode_entry(i, previous, fields)
        entries.append(entry)
        previous = sha(b"\x00" + entry).digest()
    return entries


def bench_verification(n: int = 200_000) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from audit.merkle import MemoryTree, leaf_hash
    from audit.note import checkpoint_body, sign_note, verifier_key
    from audit.verify import read_export, verify_export, verify_log, write_export

    print(f"\n[verification] {n:,} entries")
    entries = realistic_entries(n)
    mean_size = sum(map(len, entries)) / n
    key = Ed25519PrivateKey.generate()
    vkey = verifier_key(ORIGIN, key.public_key())
    tree = MemoryTree([leaf_hash(e) for e in entries])
    sizes = sorted({max(1, n * k // 10) for k in range(1, 11)})
    notes = [sign_note(checkpoint_body(ORIGIN, s, tree.root(s)), ORIGIN, key) for s in sizes]
    del tree
    print(f"  mean entry size {mean_size:.0f} bytes, {len(notes)} signed checkpoints")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.export"
        buf = io.BytesIO()
        write_export(buf, ORIGIN, notes, vkey, entries)
        path.write_bytes(buf.getvalue())
        del buf

        def end_to_end():
            result = verify_export(read_export(path), vkey)
            assert result.ok, result.line()

        def in_memory():
            result = verify_log(entries, notes, vkey, origin=ORIGIN)
            assert result.ok, result.line()

        def bare():
            sha = hashlib.sha256
            [sha(e).digest() for e in entries]

        t_bare = _best(bare)
        t_file = _best(end_to_end)
        t_mem = _best(in_memory)
    bare_rate = f"{n / t_bare:,.0f}/s"
    _row(
        "offline verify, export file",
        f"{n / t_file:,.0f}/s",
        "bare sha256",
        bare_rate,
        t_bare / t_file,
    )
    _row(
        "verify_log, entries in memory",
        f"{n / t_mem:,.0f}/s",
        "bare sha256",
        bare_rate,
        t_bare / t_mem,
    )
    met = n / t_file >= 500_000 and t_bare / t_file >= 0.25
    verdict = "met" if met else "MISSED"
    print(f"  target >= 500,000 entries/s and ratio >= 0.25 (export file): {verdict}")


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
    database; "without" replaces the audit append with a no-op in the same run.
    """
    import subprocess

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
        import audit.services
        from compliance.models import Department
        from gateway.principals import DepartmentPrincipal
        from gateway.services.submissions import submission_accept

        principal = DepartmentPrincipal(department=Department.objects.get(), key_id="bench")
        bodies = make_bodies(2 * batches + 2, 5000)
        real_append = audit.services.audit_append

        def run(chunk, *, audited: bool) -> float:
            audit.services.audit_append = (
                real_append
                if audited
                else (
                    lambda records: [audit.services.Receipt(index=0, leaf_hash="") for _ in records]
                )
            )
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
        audit.services.audit_append = real_append
        rate_with = statistics.median(with_audit)
        rate_without = statistics.median(without_audit)
        _row(
            f"ingest with audit ({db})",
            f"{rate_with:,.0f} records/s",
            "without",
            f"{rate_without:,.0f} records/s",
            rate_with / rate_without,
        )
        print(
            f"    audit cost: {100 * (1 - rate_with / rate_without):.1f}% of the ingest rate "
            "(target: at most 25%)"
        )
        from django.db import connections

        connections.close_all()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000,000-leaf proof tree")
    parser.add_argument("--entries", type=int, default=200_000, help="entries to verify")
    parser.add_argument("--batches", type=int, default=10, help="1,000-record batches each way")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--ingest-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.ingest_child:
        _ingest_child(args.batches, args.db)
        return
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    bench_ingest(args.batches, args.db)
    bench_verification(args.entries)
    bench_inclusion_proofs(quick=args.quick)


if __name__ == "__main__":
    main()
