"""Batches a department system would send, and the concurrency suite's client process.

Nothing here imports Django: clients are plain HTTP processes.

Run as a client: python -m tests.reliability.workload PORT CLIENT BATCHES KEYS.json OUT.json
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import random
import sys
import threading
import time
from pathlib import Path
from typing import Any

from gateway.identity import check_character

SUBMISSIONS = "/api/v1/submissions"
DEPARTMENTS = ("traffic_police", "tax")
RULES = {
    "traffic_police": ("traffic.failure_to_yield", "traffic.red_light", "volunteer.service_hours"),
    "tax": ("tax.late_filing", "volunteer.service_hours"),
}
FOREIGN_RULE = {"traffic_police": "tax.late_filing", "tax": "traffic.red_light"}
RESIDENTS = 100

# Acts a few days ago, decided the day after: valid whenever the suite runs.
_ACT_DAY = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=5)
OCCURRED_AT = f"{_ACT_DAY.isoformat()}T08:30:00+08:00"
ISSUED_ON = (_ACT_DAY + dt.timedelta(days=1)).isoformat()


def identity_number(n: int) -> str:
    """The Nth synthetic resident: a valid GB 11643 number, distinct for n < 1000."""
    body = f"320505{1960 + n % 40}{(n // 40) % 12 + 1:02d}{n % 28 + 1:02d}{n % 1000:03d}"
    return body + check_character(body)


def residents(count: int = RESIDENTS) -> list[str]:
    return [identity_number(n) for n in range(count)]


def record(citizen: str, rule: str, serial: str) -> dict[str, Any]:
    if rule == "volunteer.service_hours":
        return {
            "citizen_id": citizen,
            "rule": rule,
            "occurred_at": OCCURRED_AT,
            "evidence": {"reference": f"VF-{serial}", "issued_by": "志愿者总会"},
            "data": {"hours": 4},
        }
    return {
        "citizen_id": citizen,
        "rule": rule,
        "occurred_at": OCCURRED_AT,
        "evidence": {
            "document": f"苏公交决字〔2026〕第{serial}号",
            "issued_by": "苏州市公安局交通警察支队",
            "issued_on": ISSUED_ON,
            "procedure": "general",
        },
        "data": {"location": "干将路与人民路交叉口"},
    }


def random_records(
    rng: random.Random, department: str, count: int, serial: str, population: list[str]
) -> list[dict[str, Any]]:
    return [
        record(rng.choice(population), rng.choice(RULES[department]), f"{serial}-{j}")
        for j in range(count)
    ]


def encode(idempotency_key: str, records: list[dict[str, Any]]) -> bytes:
    return json.dumps(
        {"idempotency_key": idempotency_key, "records": records}, ensure_ascii=False
    ).encode()


def post(port: int, body: bytes, key: str, timeout: float = 120) -> tuple[int, bool, dict]:
    """POST a batch on a fresh connection; (status, replayed, JSON body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(
            "POST",
            SUBMISSIONS,
            body=body,
            headers={"Content-Type": "application/json", "Authorization": f"Api-Key {key}"},
        )
        response = conn.getresponse()
        raw = response.read()
        replayed = response.getheader("Idempotent-Replayed") == "true"
        try:
            payload = json.loads(raw or b"{}")
        except ValueError:
            payload = {"unparsed": raw[:500].decode("utf-8", "replace")}
        return response.status, replayed, payload
    finally:
        conn.close()


# ---------------------------------------------------------------- concurrency client

# What each kind of request must get back (README, "The department API").
EXPECTED = {
    "fresh": {(201, False)},
    "replay": {(201, True)},
    "conflict": {(409, False)},
    "invalid": {(400, False)},
    "unauthorized": {(403, False)},
    "prohibited": {(422, False)},
    # Two threads (and other clients) race on one key with one body: one applies it.
    "race_same": {(201, False), (201, True)},
    # Two threads race on one key with different bodies: one wins, the other conflicts.
    "race_diff": {(201, False), (409, False)},
}
ERROR_CODES = {
    400: "invalid",
    403: "rule_not_authorized",
    409: "idempotency_conflict",
    422: "prohibited_data",
}


class Client:
    def __init__(self, port: int, number: int, keys: dict[str, str]) -> None:
        self.port = port
        self.number = number
        self.department = DEPARTMENTS[number % len(DEPARTMENTS)]
        self.key = keys[self.department]
        self.rng = random.Random(f"client-{number}")
        self.population = residents()
        self.accepted: list[tuple[str, bytes, dict]] = []  # (idempotency key, body, response)
        self.results: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def send(self, op: str, idem: str, records: list[dict], body: bytes | None = None) -> dict:
        body = body if body is not None else encode(idem, records)
        result: dict[str, Any] = {
            "op": op,
            "department": self.department,
            "key": idem,
            "citizens": [r.get("citizen_id") for r in records],
            "records": len(records),
        }
        started = time.monotonic()
        try:
            status, replayed, payload = post(self.port, body, self.key)
        except Exception as exc:  # a connection error is a failure of the run
            result.update(status=None, error=f"{type(exc).__name__}: {exc}")
        else:
            result.update(status=status, replayed=replayed)
            if status == 201:
                result["response"] = payload
                if not replayed:
                    with self.lock:
                        self.accepted.append((idem, body, payload))
            elif status in ERROR_CODES and payload.get("error") != ERROR_CODES[status]:
                result["unexpected"] = f"error code {payload.get('error')!r}"
            if status >= 500 or (status, replayed) not in EXPECTED[op]:
                result["unexpected"] = f"HTTP {status} replayed={replayed}: {str(payload)[:300]}"
        result["seconds"] = round(time.monotonic() - started, 4)
        with self.lock:
            self.results.append(result)
        return result

    def race(self, op: str, idem: str, bodies: list[tuple[list[dict], bytes]]) -> None:
        barrier = threading.Barrier(len(bodies))

        def one(records, body):
            barrier.wait(timeout=30)
            self.send(op, idem, records, body)

        threads = [threading.Thread(target=one, args=pair) for pair in bodies]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)

    def step(self, i: int) -> None:
        rng, dept = self.rng, self.department
        serial = f"{self.number:02d}{i:05d}"
        if i % 50 == 25:
            # Every client of the department sends this same body under this same key.
            k = i // 50
            shared = random.Random(f"race-same-{dept}-{k}")
            records = random_records(shared, dept, shared.randint(1, 5), f"S{k}", self.population)
            body = encode(f"race-same-{k}", records)
            self.race("race_same", f"race-same-{k}", [(records, body), (records, body)])
            return
        if i % 50 == 40:
            k = i // 50
            pairs = []
            for thread in range(2):
                records = random_records(rng, dept, rng.randint(1, 5), f"{serial}{thread}",
                                         self.population)  # fmt: skip
                pairs.append((records, encode(f"race-diff-{k}", records)))
            self.race("race_diff", f"race-diff-{k}", pairs)
            return
        roll = rng.random()
        if roll < 0.08 and self.accepted:
            idem, body, _ = rng.choice(self.accepted)
            records = json.loads(body)["records"]
            self.send("replay", idem, records, body)
        elif roll < 0.11 and self.accepted:
            idem, _, _ = rng.choice(self.accepted)
            records = random_records(rng, dept, rng.randint(1, 5), serial, self.population)
            self.send("conflict", idem, records)
        elif roll < 0.13:
            records = random_records(rng, dept, rng.randint(1, 5), serial, self.population)
            bad = rng.randrange(len(records))
            if rng.random() < 0.5:
                number = records[bad]["citizen_id"]
                records[bad]["citizen_id"] = number[:-1] + ("0" if number[-1] != "0" else "1")
            else:
                records[bad]["rule"] = "traffic.no_such_rule"
            self.send("invalid", f"c{self.number}-b{i}", records)
        elif roll < 0.14:
            records = random_records(rng, dept, rng.randint(1, 5), serial, self.population)
            records[rng.randrange(len(records))]["rule"] = FOREIGN_RULE[dept]
            self.send("unauthorized", f"c{self.number}-b{i}", records)
        elif roll < 0.15:
            records = random_records(rng, dept, rng.randint(1, 5), serial, self.population)
            records[rng.randrange(len(records))]["data"]["person"] = {"religion": "佛教"}
            self.send("prohibited", f"c{self.number}-b{i}", records)
        else:
            records = random_records(rng, dept, rng.randint(1, 5), serial, self.population)
            self.send("fresh", f"c{self.number}-b{i}", records)

    def run(self, batches: int) -> None:
        for i in range(batches):
            self.step(i)
        # The replay check also compares bodies: a replay is the first response, verbatim.
        first = {idem: response for idem, _, response in self.accepted}
        for result in self.results:
            key = result["key"]
            if result.get("replayed") and key in first and result["response"] != first[key]:
                result["unexpected"] = "a replay differs from the first response"


def main(argv: list[str]) -> None:
    port, number, batches = int(argv[0]), int(argv[1]), int(argv[2])
    keys = json.loads(Path(argv[3]).read_text(encoding="utf-8"))
    client = Client(port, number, keys)
    client.run(batches)
    Path(argv[4]).write_text(json.dumps(client.results, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
