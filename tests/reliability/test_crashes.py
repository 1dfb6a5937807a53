"""SIGKILL the server mid-batch, restart it, retry (issue "Proof under load", item 2).

RELIABILITY_CRASH_CYCLES times (default 20): start gunicorn, send 1,000-record and
small batches from two client lanes, SIGKILL the master and every worker at a random
moment while a large batch is in flight, restart. A request cut off by the kill is
retried after the restart with the same idempotency key and body. In the end every
batch must have been applied exactly once and in full, and the log must verify.
RELIABILITY_SEED replays one run's kill moments and batches.
"""

from __future__ import annotations

import http.client
import os
import random
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

import pytest

from audit import merkle
from tests.reliability import workload
from tests.reliability.harness import Server, database_kinds, gateway, http_json, server_errors

pytestmark = pytest.mark.slow

CYCLES = int(os.environ.get("RELIABILITY_CRASH_CYCLES", 20))
BIG = 1000


@dataclass
class Batch:
    key: str
    lane: str
    records: list[dict]
    body: bytes
    attempts: int = 0
    cut_off: int = 0  # attempts the kill interrupted after the request was sent
    response: dict | None = None
    replayed: bool = False


@dataclass
class Lane:
    name: str
    queue: list[Batch] = field(default_factory=list)  # unacknowledged, oldest first


class Run:
    def __init__(self, key: str, seed: int) -> None:
        self.key = key
        self.rng = random.Random(seed)
        self.population = workload.residents()
        self.batches: dict[str, Batch] = {}
        self.lanes = {"big": Lane("big"), "small": Lane("small")}
        self.unexpected: list[str] = []
        self.big_seconds = 0.0  # a large batch's round trip on a fresh server (calibrate)
        self.big_started: float | None = None  # when the large batch in flight was sent
        self.last_seconds = 0.0
        self.attempts: list[tuple[str, str]] = []  # (lane, outcome) of every attempt
        self.serial = 0

    def new_batch(self, lane: str) -> Batch:
        self.serial += 1
        count = BIG if lane == "big" else self.rng.randint(1, 5)
        records = workload.random_records(
            self.rng, "traffic_police", count, f"K{self.serial:05d}", self.population
        )
        key = f"crash-{lane}-{self.serial}"
        batch = Batch(key, lane, records, workload.encode(key, records))
        self.batches[key] = batch
        self.lanes[lane].queue.append(batch)
        return batch

    def send(self, port: int, batch: Batch) -> bool:
        """One attempt; True when acknowledged, False when the server went away."""
        batch.attempts += 1
        started = time.monotonic()
        if batch.lane == "big":
            self.big_started = started
        try:
            status, replayed, payload = workload.post(port, batch.body, self.key, timeout=120)
        except ConnectionRefusedError:
            self.attempts.append((batch.lane, "refused"))
            return False  # never reached a server
        except (OSError, http.client.HTTPException):
            batch.cut_off += 1  # sent, then cut off: the outcome is unknown to the client
            self.attempts.append((batch.lane, "cut off"))
            return False
        finally:
            if batch.lane == "big":
                self.big_started = None
        self.attempts.append((batch.lane, "replayed" if replayed else str(status)))
        if status != 201 or payload.get("accepted") != len(batch.records):
            self.unexpected.append(f"{batch.key}: HTTP {status} {str(payload)[:300]}")
            return True
        batch.response, batch.replayed = payload, replayed
        self.lanes[batch.lane].queue.remove(batch)
        self.last_seconds = time.monotonic() - started
        return True

    def calibrate(self, server: Server) -> None:
        """Time large batches on a freshly started server: the first one is the slowest."""
        port = server.start()
        try:
            for _ in range(2):
                assert self.send(port, self.new_batch("big"))
                self.big_seconds = max(self.big_seconds, self.last_seconds)
        finally:
            server.stop()

    def drive(self, port: int, lane: str, stop: threading.Event) -> None:
        """Send pending batches, then new ones, until the server dies or STOP is set."""
        queue = self.lanes[lane].queue
        while not stop.is_set():
            batch = queue[0] if queue else self.new_batch(lane)
            if not self.send(port, batch):
                return

    def drain(self, port: int) -> None:
        for lane in self.lanes.values():
            for batch in list(lane.queue):
                if not self.send(port, batch):
                    self.unexpected.append(f"{batch.key}: no answer after the last restart")


def crash_cycle(run: Run, server: Server, rng: random.Random) -> float:
    """Serve, SIGKILL while a large batch is in flight; return how long it had been."""
    port = server.start()
    stop = threading.Event()
    lanes = [
        threading.Thread(target=run.drive, args=(port, "big", stop)),
        threading.Thread(target=run.drive, args=(port, "small", stop)),
    ]
    for thread in lanes:
        thread.start()
    # A random moment of the cycle's first seconds, so of the cold first large batch's
    # round trip (receive, parse, validate, write, commit, respond) or a later one's,
    # taken only while a large batch is in flight.
    delay = rng.uniform(0.0, 3.0 * run.big_seconds)
    first_sent, into = None, None
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            started = run.big_started
            if started is not None:
                first_sent = first_sent or started
                if time.monotonic() - first_sent >= delay:
                    into = time.monotonic() - started
                    break
            time.sleep(0.002)
    finally:
        server.kill()
        stop.set()
        for thread in lanes:
            thread.join(timeout=150)
    assert not any(thread.is_alive() for thread in lanes), "a client lane hung"
    assert into is not None, "no large batch was in flight within a minute"
    return into


@pytest.mark.parametrize("kind", database_kinds())
def test_sigkill_mid_batch_then_retry_applies_each_batch_once_and_whole(kind):
    seed = int(os.environ.get("RELIABILITY_SEED", random.SystemRandom().randrange(10**6)))
    rng = random.Random(seed)
    context = f"(RELIABILITY_SEED={seed})"
    started = time.monotonic()
    with gateway(kind) as gw:
        run = Run(gw.world("setup")["keys"]["traffic_police"], seed)
        server = Server(gw, workers=2)
        delays = []
        try:
            run.calibrate(server)
            for cycle in range(CYCLES):
                delays.append(crash_cycle(run, server, rng))
                if cycle % 5 == 4:
                    gw.manage("audit_checkpoint")  # checkpoints across crashes, verified below
            port = server.start()
            run.drain(port)
            checkpoint = gw.manage("audit_checkpoint").stdout
            size = int(checkpoint.split("size=", 1)[1].split()[0])
            root = bytes.fromhex(checkpoint.split("root=", 1)[1].split()[0])
            for batch in run.batches.values():
                if batch.response is None:
                    continue
                receipt = batch.response["receipt"]
                status, _, proof = http_json(
                    port, "GET", f"/api/v1/audit/receipts/{receipt['leaf_hash']}"
                )
                assert status == 200, proof
                assert proof["status"] == "included" and proof["tree_size"] == size, proof
                assert merkle.verify_inclusion(
                    bytes.fromhex(receipt["leaf_hash"]), proof["index"], size,
                    [bytes.fromhex(h) for h in proof["inclusion_proof"]], root,
                ), f"{batch.key} {context}"  # fmt: skip
        finally:
            server.stop()
        log = server.log_tail(500_000)
        assert not server_errors(log), f"{context}\n{log[-6000:]}"
        assert not run.unexpected, f"{context} {run.unexpected[:5]}"
        assert all(batch.response is not None for batch in run.batches.values()), context

        state = gw.world("inspect", {"residents": workload.residents(), "keys": list(run.batches)})
        submissions = {s["key"]: s for s in state["submissions"]}
        # One submission per idempotency key: each retried batch completed exactly once.
        assert sorted(submissions) == sorted(run.batches), context
        expected_points: dict[str, int] = defaultdict(int)
        for key, batch in run.batches.items():
            submission = submissions[key]
            # All or nothing: a batch cut off by a kill left no rows, or all of them.
            assert submission["ledger_rows"] == submission["record_count"] == len(batch.records)
            assert submission["id"] == batch.response["submission_id"], f"{key} {context}"
            assert state["accepted_entries"].get(f"submission:{submission['id']}") == 1
            if batch.replayed:
                assert batch.cut_off, f"{key} was replayed but never cut off {context}"
            for event in batch.response["events"]:
                expected_points[batch.records[event["record"]]["citizen_id"]] += event["points"]
        assert state["ledger_total"] == sum(len(b.records) for b in run.batches.values())
        assert state["ledger_without_submission"] == state["orphan_ledger_rows"] == 0
        assert len(state["accepted_entries"]) == len(submissions)
        for citizen, points_sum in expected_points.items():
            assert state["scores"][citizen][0] == points_sum, f"{citizen} {context}"
        recompute = gw.manage("recompute_scores", check=False)
        assert recompute.returncode == 0, recompute.stdout + recompute.stderr
        verify = gw.manage("audit_verify", check=False)
        assert verify.returncode == 0, verify.stdout + verify.stderr

    cut_off = [b for b in run.batches.values() if b.cut_off]
    assert cut_off, f"no kill landed while a batch was in flight {context}"
    outcomes: dict[tuple[str, str], int] = defaultdict(int)
    for lane, outcome in run.attempts:
        outcomes[lane, outcome] += 1
    print(
        f"\n{kind}: {CYCLES} kills {context}, {len(run.batches)} batches "
        f"({sum(b.lane == 'big' for b in run.batches.values())} of {BIG} records), "
        f"{state['ledger_total']} ledger rows; attempts "
        + ", ".join(f"{lane} {outcome}: {n}" for (lane, outcome), n in sorted(outcomes.items()))
        + f"; batches cut off at least once: {len(cut_off)}, of which "
        f"{sum(b.replayed for b in cut_off)} had committed before the kill (replayed on retry), "
        f"{sum(not b.replayed for b in cut_off)} had rolled back (applied on retry); "
        f"kills {min(delays):.2f}-{max(delays):.2f} s into a large batch "
        f"(fresh-server round trip {run.big_seconds:.2f} s); "
        f"{time.monotonic() - started:.0f} s"
    )
