"""Rate limits hold for a pool of workers: gunicorn with three workers, on SQLite.

Each request opens a new connection, so the workers share them out between them; the
limits are counted in the database (submissions and score reads in its cache table,
failed logins in django-axes's table), so the pool as a whole lets through exactly the
limit (with a per-process count, three workers let through three times it).
"""

from __future__ import annotations

import json

import pytest

from tests import factories
from tests.reliability.harness import Server, gateway, http_json

LIMIT = 4
WORKERS = 3
PASSWORD = "a long pool passphrase 42"


@pytest.fixture(scope="module")
def pool():
    with gateway("sqlite") as gw:
        keys = gw.world("setup")["keys"]
        gw.env["ACCOUNT_PASSWORD"] = PASSWORD
        gw.manage("create_account", "regulator", "pool_reg")
        gw.manage("create_account", "regulator", "pool_reg2")
        del gw.env["ACCOUNT_PASSWORD"]
        rates = f"{LIMIT}/min"
        env = {
            "LOGIN_FAILURE_LIMIT": str(LIMIT),
            "THROTTLE_SUBMISSION": rates,
            "THROTTLE_SCORE_READ": rates,
        }
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


def login(port: int, username: str, password: str):
    return http_json(
        port,
        "POST",
        "/api/v1/auth/token",
        json.dumps({"username": username, "password": password}).encode(),
        {"Content-Type": "application/json"},
    )


def test_failed_logins_lock_out_across_the_pool(pool):
    server, _ = pool
    answers = [login(server.port, "pool_reg", "wrong") for _ in range(LIMIT * WORKERS)]
    codes = [status for status, _, _ in answers]
    # The failure that reaches the limit is refused already: the lockout starts there.
    assert codes[: LIMIT - 1] == [400] * (LIMIT - 1), codes
    assert codes[LIMIT - 1 :] == [429] * (len(codes) - LIMIT + 1), codes
    _, headers, payload = answers[LIMIT - 1]
    assert int(headers["Retry-After"]) >= 1
    assert payload["error"] == "throttled"
    # Then the right password, on whichever worker takes it, is refused too.
    for _ in range(WORKERS):
        status, headers, payload = login(server.port, "pool_reg", PASSWORD)
        assert status == 429 and "token" not in payload
        assert int(headers["Retry-After"]) >= 1


def test_a_success_clears_the_failures_for_the_whole_pool(pool):
    server, _ = pool
    for _ in range(LIMIT - 1):
        assert login(server.port, "pool_reg2", "wrong")[0] == 400
    status, _, payload = login(server.port, "pool_reg2", PASSWORD)
    assert status == 200 and payload["token"]
    # Counted from nought on every worker: as many failures again before the lockout.
    codes = [login(server.port, "pool_reg2", "wrong")[0] for _ in range(LIMIT)]
    assert codes == [400] * (LIMIT - 1) + [429], codes


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
