"""Many department systems at once against a real server (issue "Proof under load", item 1).

gunicorn with several workers on loopback, a fresh database, and client processes
posting small batches of mixed rules over 100 shared residents, with replays,
conflicts, racing duplicates and bad input mixed in. Afterwards the ledger, the
scores and the audit log must agree with exactly what the clients were told.

PostgreSQL: RELIABILITY_PG_CLIENTS x RELIABILITY_PG_BATCHES (default 8 x 500).
SQLite (one writer at a time, queued on the busy timeout): RELIABILITY_SQLITE_CLIENTS x
RELIABILITY_SQLITE_BATCHES (default 4 x 250).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest

from audit import merkle, note
from tests.reliability import workload
from tests.reliability.harness import (
    PYTHON,
    REPO,
    Server,
    database_kinds,
    gateway,
    http_json,
    server_errors,
)

pytestmark = pytest.mark.slow

PLAN = {
    "postgres": (
        int(os.environ.get("RELIABILITY_PG_CLIENTS", 8)),
        int(os.environ.get("RELIABILITY_PG_BATCHES", 500)),
        4,  # gunicorn workers
    ),
    "sqlite": (
        int(os.environ.get("RELIABILITY_SQLITE_CLIENTS", 4)),
        int(os.environ.get("RELIABILITY_SQLITE_BATCHES", 250)),
        4,
    ),
}
CLIENT_TIMEOUT = int(os.environ.get("RELIABILITY_CLIENT_TIMEOUT", 900))


def clamp(points_sum: int) -> int:
    return max(0, min(200, 100 + points_sum))


def run_clients(port: int, keys_path, workdir, clients: int, batches: int) -> list[dict]:
    processes, outputs = [], []
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    try:
        for number in range(clients):
            out = workdir / f"client-{number}.json"
            outputs.append(out)
            processes.append(
                subprocess.Popen(
                    [
                        PYTHON,
                        "-m",
                        "tests.reliability.workload",
                        str(port),
                        str(number),
                        str(batches),
                        str(keys_path),
                        str(out),
                    ],
                    cwd=REPO,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    start_new_session=True,
                )
            )
        deadline = time.monotonic() + CLIENT_TIMEOUT
        for process in processes:
            _, stderr = process.communicate(timeout=max(1, deadline - time.monotonic()))
            assert process.returncode == 0, f"a client failed:\n{stderr.decode()[-3000:]}"
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, 9)
                process.wait()
    results = []
    for out in outputs:
        results.extend(json.loads(out.read_text(encoding="utf-8")))
    return results


def fetch_proofs(port: int, receipts: list[dict], size: int) -> list[dict]:
    def one(receipt):
        status, _, payload = http_json(
            port, "GET", f"/api/v1/audit/receipts/{receipt['leaf_hash']}"
        )
        return receipt, status, payload

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, receipts))


@pytest.mark.parametrize("kind", database_kinds())
def test_concurrent_departments_keep_ledger_scores_and_log_consistent(kind):
    clients, batches, workers = PLAN[kind]
    timings = {}
    with gateway(kind) as gw:
        world = gw.world("setup")
        keys_path = gw.workdir / "keys.json"
        keys_path.write_text(json.dumps(world["keys"]), encoding="utf-8")
        # INFO: the service logs each retry of a transient conflict; counted below.
        server = Server(gw, workers=workers, env={"LOG_LEVEL": "INFO"})
        try:
            port = server.start()
            started = time.monotonic()
            results = run_clients(port, keys_path, gw.workdir, clients, batches)
            timings["clients"] = time.monotonic() - started

            # --- what every client was told
            failures = [r for r in results if r.get("status") is None or r.get("unexpected")]
            assert not failures, (
                f"{len(failures)} unexpected responses, e.g. {failures[:3]}\n"
                f"server log:\n{server.log_tail()}"
            )
            assert all(r["status"] < 500 for r in results)
            ops = defaultdict(int)
            for r in results:
                ops[r["op"], r["status"], bool(r.get("replayed"))] += 1

            by_key: dict[tuple[str, str], list[dict]] = defaultdict(list)
            for r in results:
                if r["status"] == 201:
                    by_key[r["department"], r["key"]].append(r)
            expected_points: dict[str, int] = defaultdict(int)
            expected_rows = 0
            accepted: dict[tuple[str, str], dict] = {}
            for dept_key, answers in by_key.items():
                fresh = [a for a in answers if not a["replayed"]]
                assert len(fresh) == 1, f"{dept_key}: applied {len(fresh)} times"
                first = fresh[0]["response"]
                assert all(a["response"] == first for a in answers), f"{dept_key}: replay differs"
                accepted[dept_key] = first
                assert first["accepted"] == fresh[0]["records"] == len(first["events"])
                expected_rows += first["accepted"]
                for event in first["events"]:
                    expected_points[fresh[0]["citizens"][event["record"]]] += event["points"]
            assert ops["replay", 201, True] > 0 and ops["conflict", 409, False] > 0
            assert ops["race_same", 201, True] > 0 and ops["race_diff", 409, False] > 0

            # --- every receipt provably in the log, against a signed checkpoint
            checkpoint_out = gw.manage("audit_checkpoint").stdout
            size = int(checkpoint_out.split("size=", 1)[1].split()[0])
            root = bytes.fromhex(checkpoint_out.split("root=", 1)[1].split()[0])
            status, _, latest = http_json(port, "GET", "/api/v1/audit/checkpoint")
            assert status == 200
            signed = note.parse_checkpoint(note.open_note(latest["note"], latest["verifier_key"]))
            assert (signed.size, signed.root_hash) == (size, root)
            receipts = [response["receipt"] for response in accepted.values()]
            started = time.monotonic()
            indexes = set()
            for receipt, status, proof in fetch_proofs(port, receipts, size):
                assert status == 200, proof
                assert proof["status"] == "included" and proof["tree_size"] == size, proof
                assert proof["leaf_hash"] == receipt["leaf_hash"]
                indexes.add(proof["index"])
                assert merkle.verify_inclusion(
                    bytes.fromhex(receipt["leaf_hash"]),
                    proof["index"],
                    size,
                    [bytes.fromhex(h) for h in proof["inclusion_proof"]],
                    root,
                ), receipt
            assert len(indexes) == len(receipts)
            timings["proofs"] = time.monotonic() - started
        finally:
            server.stop()
        log = server.log_tail(10_000_000)
        assert not server_errors(log), log[-6000:]
        retries = log.count("retrying submission after a transient database conflict")

        # --- the database, read by separate processes once the server has stopped
        started = time.monotonic()
        state = gw.world(
            "inspect",
            {"residents": workload.residents(), "keys": [key for _, key in accepted]},
        )
        assert state["ledger_total"] == expected_rows
        assert state["ledger_without_submission"] == state["orphan_ledger_rows"] == 0
        submissions = {(s["department"], s["key"]): s for s in state["submissions"]}
        assert set(submissions) == set(accepted)
        for dept_key, submission in submissions.items():
            assert submission["ledger_rows"] == submission["record_count"], dept_key
            assert submission["record_count"] == accepted[dept_key]["accepted"], dept_key
            assert submission["id"] == accepted[dept_key]["submission_id"], dept_key
            assert state["accepted_entries"].get(f"submission:{submission['id']}") == 1
        assert len(state["accepted_entries"]) == len(submissions)
        assert state["citizens"] == len(state["scores"]) == len(expected_points)
        for citizen, points_sum in expected_points.items():
            assert state["scores"][citizen] == [points_sum, clamp(points_sum)], citizen
        recompute = gw.manage("recompute_scores", check=False)
        assert recompute.returncode == 0, recompute.stdout + recompute.stderr
        verify = gw.manage("audit_verify", check=False)
        assert verify.returncode == 0, verify.stdout + verify.stderr
        timings["checks"] = time.monotonic() - started

    print(
        f"\n{kind}: {clients} clients x {batches} batches, {workers} workers: "
        f"{len(results)} requests in {timings['clients']:.1f} s "
        f"({len(results) / timings['clients']:.0f}/s), {len(accepted)} submissions, "
        f"{expected_rows} ledger rows, {retries} transient conflicts retried by the service, "
        f"{len(receipts)} proofs in {timings['proofs']:.1f} s, "
        f"checks {timings['checks']:.1f} s; "
        + ", ".join(
            f"{op} {status}{'R' if rep else ''}: {n}"
            for (op, status, rep), n in sorted(ops.items())
        )
    )
