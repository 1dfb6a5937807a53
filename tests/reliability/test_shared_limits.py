"""Rate limits hold for a pool of workers: gunicorn with three workers, on SQLite.

Each request opens a new connection, so the workers share them out between them; the
limits are counted in the database's cache table, so the pool as a whole lets through
exactly the limit (with a per-process count, three workers let through three times it).
"""

from __future__ import annotations

import json

import pytest

from tests import factories
from tests.reliability.harness import Server, gateway, http_json

LIMIT = 4
WORKERS = 3


@pytest.fixture(scope="module")
def pool():
    with gateway("sqlite") as gw:
        keys = gw.world("setup")["keys"]
        rates = f"{LIMIT}/min"
        env = {"THROTTLE_LOGIN": rates, "THROTTLE_SUBMISSION": rates, "THROTTLE_SCORE_READ": rates}
        with Server(gw, workers=WORKERS, env=env) as server:
            yield server, keys


def statuses(port: int, method: str, path: str, body: dict, headers: dict, times: int):
    answers = []
    for _ in range(times):
        status, response_headers, payload = http_json(
            port,
            method,
            path,
            json.dumps(body).encode(),
            {"Content-Type": "application/json", **headers},
        )
        answers.append((status, response_headers, payload))
    return answers


def assert_limit_held(answers) -> None:
    codes = [status for status, _, _ in answers]
    assert 429 not in codes[:LIMIT], codes
    assert codes[LIMIT:] == [429] * (len(codes) - LIMIT), codes
    _, headers, payload = answers[LIMIT]
    assert int(headers["Retry-After"]) >= 1
    assert payload["error"] == "throttled"


def test_token_logins_are_limited_across_the_pool(pool):
    server, _ = pool
    answers = statuses(
        server.port,
        "POST",
        "/api/v1/auth/token",
        {"username": "nobody", "password": "wrong"},
        {},
        LIMIT * WORKERS,
    )
    assert_limit_held(answers)


def test_submissions_are_limited_per_key_across_the_pool(pool):
    server, keys = pool
    answers = statuses(
        server.port,
        "POST",
        "/api/v1/submissions",
        {"idempotency_key": "k", "records": []},  # refused as invalid, but counted
        {"Authorization": f"Api-Key {keys['traffic_police']}"},
        LIMIT * WORKERS,
    )
    assert_limit_held(answers)


def test_score_reads_are_limited_per_key_across_the_pool(pool):
    server, keys = pool
    answers = statuses(
        server.port,
        "POST",
        "/api/v1/score-queries",
        {"citizen_id": factories.identity_number(), "purpose": "licensing_review"},
        {"Authorization": f"Api-Key {keys['tax']}"},
        LIMIT * WORKERS,
    )
    assert_limit_held(answers)
    # Per key: the other department's key still reads (or is refused for its purpose).
    status, _, _ = http_json(
        server.port,
        "POST",
        "/api/v1/score-queries",
        json.dumps({"citizen_id": factories.identity_number(), "purpose": "x"}).encode(),
        {"Content-Type": "application/json", "Authorization": f"Api-Key {keys['traffic_police']}"},
    )
    assert status != 429
