"""Input that once reached a 500 (found by tests/reliability/test_fuzz.py), now a 400.

- U+0000 anywhere PostgreSQL would have to store or compare it: its text and jsonb
  types refuse the character, so a refusal's own audit entry (a member name in a
  problem's path), the idempotency-key lookup, a record's data, a statement or a login
  failed with DataError. Refused on SQLite too, so the two databases answer alike; a
  submission is screened first, so prohibited data behind a NUL is still a 422.
- Every JSON body of the residents', reviewers' and login API went through DRF's own
  parser: nesting 100,000 levels deep raised RecursionError, and a lone surrogate
  escape could not be encoded. They now go through the submission path's bounded parser.
- An unknown ``status`` filter on the reviewer's queue (and U+0000 in it) reached the
  database; it is now checked against the appeal states.
- A failed login is recorded under the typed username (django-axes's table): any text,
  folded and cut to a username's length, is stored on both databases.
"""

from __future__ import annotations

import json

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from rest_framework.test import APIClient

from audit.actions import AuditAction
from audit.models import AuditEntry
from tests import factories
from tests.gateway.people import ALICE_ID
from tests.reliability.cast import Cast, cast_create

pytestmark = pytest.mark.django_db

NUL = "\x00"


@pytest.fixture
def cast(world, settings) -> Cast:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    return cast_create(world)


def refused(response, path: str | None = None) -> dict:
    assert response.status_code == 400, response.content
    body = json.loads(response.content)
    assert body["error"] == "invalid"
    if path is not None:
        assert path in [problem["path"] for problem in body["problems"]], body
    return body


def holds_nul(value) -> bool:
    if isinstance(value, dict):
        return any(holds_nul(k) or holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(holds_nul(item) for item in value)
    return isinstance(value, str) and NUL in value


def raw(client, path: str, text: str):
    return client.generic("POST", path, text.encode(), content_type="application/json")


# --- U+0000 ------------------------------------------------------------------------------


def test_a_nul_in_a_member_name_of_a_refused_submission_is_refused_and_audited(world):
    body = json.dumps({"idempotency_key": "nul-1", "records": [], "a\u0000b": 1})
    response = raw(world.client(world.key_a), "/api/v1/submissions", body)
    body = refused(response)
    # The pointer would carry the character: the problem names the parent instead.
    assert [p["path"] for p in body["problems"]] == [""]
    entry = AuditEntry.objects.filter(action=AuditAction.SUBMISSION_REFUSED_INVALID).last()
    assert entry is not None and not holds_nul(entry.details)


@pytest.mark.parametrize(
    "document",
    [
        # Refused by the byte-level bounds, under a member name the log must still hold.
        {"idempotency_key": "nul-2", "records": [], "a\u0000b": "x" * 10_001},
        {"idempotency_key": "nul-3", "records": [], "a\u0000b": {"c": "x" * 10_001}},
        # A key no accepted submission can have: never looked up.
        {"idempotency_key": "nul\u00004", "records": [1]},
    ],
    ids=["long-string", "nested", "idempotency-key"],
)
def test_every_refusal_of_a_body_with_nul_is_a_400_and_recorded(world, document):
    before = AuditEntry.objects.filter(action=AuditAction.SUBMISSION_REFUSED_INVALID).count()
    refused(raw(world.client(world.key_a), "/api/v1/submissions", json.dumps(document)))
    entries = AuditEntry.objects.filter(action=AuditAction.SUBMISSION_REFUSED_INVALID)
    assert entries.count() == before + 1
    assert not holds_nul(entries.last().details)


def test_a_nul_in_a_record_is_refused_before_anything_is_stored(world):
    record = factories.deduction_record(ALICE_ID, data={"location": f"Gan{NUL}jiang Road"})
    refused(world.submit(world.key_a, [record]), "/records/0/data/location")


@pytest.mark.parametrize(
    ("who", "path", "body", "pointer"),
    [
        (None, "/api/v1/auth/token", {"username": f"alice{NUL}", "password": "x"}, "/username"),
        ("key_a", "/api/v1/score-queries", {"citizen_id": ALICE_ID, "purpose": NUL}, "/purpose"),
        ("alice", "/api/v1/me/appeals", {"event": 1, "statement": f"not{NUL}mine"}, "/statement"),
        ("alice", "/api/v1/me/repairs", {"event": 1, "statement": "x", "reference": NUL}, None),
        ("alice", "/api/v1/appeals/{decided}/review-request", {"statement": NUL}, "/statement"),
        ("rev_tax", "/api/v1/appeals/{pending}/extension", {"reason": f"a{NUL}"}, "/reason"),
        ("rev_tax", "/api/v1/appeals/{pending}/decision", {"outcome": NUL, "reason": "x"}, None),
        ("reg", "/api/v1/appeals/{under_review}/review", {"outcome": "x", "reason": NUL}, None),
        ("key_a", "/api/v1/repairs/{repair}/decision", {"decision": NUL}, "/decision"),
    ],
)
def test_a_nul_in_any_json_body_is_refused(cast, who, path, body, pointer):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    if who in ("key_a", "key_b"):
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {getattr(cast, who)}")
    elif who is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {cast.token(getattr(cast, who))}")
    path = path.format(
        decided=cast.decided.pk,
        pending=cast.pending.pk,
        under_review=cast.under_review.pk,
        repair=cast.repair.pk,
    )
    refused(raw(client, path, json.dumps(body)), pointer)


def test_a_nul_in_the_purpose_of_a_score_read_by_path_is_refused(world):
    response = world.client(world.key_a).get(
        f"/api/v1/citizens/{ALICE_ID}/score", {"purpose": f"loan{NUL}"}
    )
    refused(response, "purpose")


# --- bodies DRF's own parser could not take -----------------------------------------------

DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (DEEP, "nested more than"),
        ('{"username": "\\ud800", "password": "x"}', "surrogate"),
        ('{"username": "alice", "password": "x",}', "not valid JSON"),
        ("\xff", "not valid UTF-8"),
    ],
    ids=["deep", "lone-surrogate", "trailing-comma", "not-utf8"],
)
def test_a_hostile_login_body_is_a_400(text, message):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    payload = text.encode("latin-1") if text == "\xff" else text.encode()
    response = client.generic(
        "POST", "/api/v1/auth/token", payload, content_type="application/json"
    )
    body = refused(response)
    assert message in json.dumps(body), body


def test_an_oversized_body_to_the_account_api_is_a_413(settings, cast):
    settings.GATEWAY_MAX_BODY_BYTES = 2048
    client = cast.token_client(cast.alice)
    text = json.dumps({"event": cast.open_deduction.pk, "statement": "x" * 4000})
    response = raw(client, "/api/v1/me/appeals", text)
    assert response.status_code == 413, response.content
    assert json.loads(response.content)["error"] == "too_large"


# --- the reviewer's queue ------------------------------------------------------------------


@pytest.mark.parametrize("status", ["pendng", f"pending{NUL}"])
def test_an_unknown_status_filter_is_refused_not_an_empty_queue(cast, status):
    response = cast.token_client(cast.rev_tax).get("/api/v1/reviewer/appeals", {"status": status})
    refused(response, "/status")


def test_a_known_status_filter_still_filters(cast):
    response = cast.token_client(cast.rev_tax).get(
        "/api/v1/reviewer/appeals", {"status": "pending"}
    )
    assert response.status_code == 200
    ids = [item["id"] for item in json.loads(response.content)["results"]]
    assert cast.pending.pk in ids and cast.decided.pk not in ids


# --- what a failed login is recorded under (django-axes's table) --------------------------


@pytest.mark.parametrize("username", ["alice", "a lice\t\n", "\U0001d4d0" * 150, "x" * 5000])
def test_any_typed_username_is_recorded_without_error(cast, username):
    response = APIClient().post(
        "/api/v1/auth/token", {"username": username, "password": "x"}, format="json"
    )
    assert response.status_code == 400
    (recorded,) = AccessAttempt.objects.values_list("username", flat=True)
    assert recorded == username.strip().lower()[:150]


def test_a_failed_login_is_counted_under_the_username_folded():
    for username in (" Alice ", "alice", "ALICE", "bob"):
        APIClient().post(
            "/api/v1/auth/token", {"username": username, "password": "x"}, format="json"
        )
    counts = dict(AccessAttempt.objects.values_list("username", "failures_since_start"))
    assert counts == {"alice": 3, "bob": 1}


# --- dates and keys: strict RFC 3339 instants and ISO 8601 calendar dates, 1949 to 2100 ---


@pytest.mark.parametrize(
    "occurred_at",
    [
        "0001-01-01T00:00:00+14:00",  # OverflowError once, on both databases
        "9999-12-31T23:59:59-14:00",
        "2026-11-20T08:30:00+08:00:30.5",  # an offset with seconds: DataError on PostgreSQL
        "2026-11-20T08:30:00+08:00:30",
        "2026-11-20T08:30:00",  # no offset
        "2026-11-20 08:30:00+08:00",  # not RFC 3339's "T"
        "2026-11-20T08:30+08:00",  # no seconds
        "2026-W47-5T08:30:00+08:00",  # a week date
        "2026-324T08:30:00+08:00",  # an ordinal date
        "20261120T083000+0800",  # ISO 8601 basic format
        "2026-11-20T24:00:00+08:00",
        "2026-11-20T23:59:60+08:00",  # a leap second no database keeps
        "2026-11-20T08:30:00+24:00",
        "２０２６-11-20T08:30:00+08:00",  # full-width digits
        "2026-11-20T08:30:00+08:00\n",
        "1948-12-31T23:59:59+08:00",
    ],
)
def test_an_instant_that_is_not_strict_rfc_3339_in_range_is_refused(world, occurred_at):
    record = factories.deduction_record(factories.identity_number(), occurred_at=occurred_at)
    refused(world.submit(world.key_a, [record]), "/records/0/occurred_at")


@pytest.mark.parametrize(
    "issued_on", ["2026-W47-5", "2026-325", "20261121", "0001-01-01", "2026-11-21\n", "2026-2-1"]
)
def test_a_date_that_is_not_an_iso_calendar_date_in_range_is_refused(world, issued_on):
    record = factories.deduction_record(factories.identity_number())
    record["evidence"]["issued_on"] = issued_on
    refused(world.submit(world.key_a, [record]), "/records/0/evidence/issued_on")


@pytest.mark.parametrize(
    "issued_on",
    # The accepted "2026-12-01" written as a week date and as an ordinal date (the same
    # length, so a length check let them through to Python's parser), and other forms.
    ["2026-W49-2", "2026-335", "2026-W492", "20261201", "2026-12-01\n", "2026-12-1"],
)
def test_a_revocation_dated_other_than_by_an_iso_calendar_date_is_refused(world, issued_on):
    from gateway.models import Revocation
    from gateway.services.revocations import Why
    from tests.gateway.test_revocations import REVOCATION, deduct, revoke

    event = deduct(world)
    response = revoke(world, world.key_a, event.pk, {**REVOCATION, "issued_on": issued_on})
    assert response.status_code == 400, response.content
    problems = json.loads(response.content)["problems"]
    assert [p["path"] for p in problems] == ["/issued_on"]
    assert problems[0]["message"] == str(Why.DATE)
    assert not Revocation.objects.exists()


def test_a_date_outside_the_years_says_which_years(world):
    record = factories.deduction_record(
        factories.identity_number(), occurred_at="1900-01-01T00:00:00Z"
    )
    body = refused(world.submit(world.key_a, [record]), "/records/0/occurred_at")
    assert "1949" in body["problems"][0]["message"] and "2100" in body["problems"][0]["message"]


@pytest.mark.parametrize(
    "occurred_at",
    ["2026-11-20T08:30:00Z", "2026-11-20t00:30:00z", "2026-11-20T08:30:00.123456789+08:00"],
)
def test_every_rfc_3339_form_is_accepted(world, occurred_at):
    record = factories.deduction_record(factories.identity_number(), occurred_at=occurred_at)
    assert world.submit(world.key_a, [record]).status_code == 201


@pytest.mark.parametrize("key", ["key-1\n", "key-1\r\n", "key 1", "\nkey-1"])
def test_an_idempotency_key_with_a_line_break_or_space_is_refused(world, key):
    record = factories.deduction_record(factories.identity_number())
    refused(world.submit(world.key_a, [record], idem=key), "/idempotency_key")
