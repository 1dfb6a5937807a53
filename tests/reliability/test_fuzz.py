"""Property-based fuzzing of the whole API against its own OpenAPI schema (schemathesis).

The schema is read from ``/api/schema/`` of the WSGI application, and every operation
in it is called in-process with cases generated from it: valid ones (positive) and
invalid ones (negative), the schema's examples and the boundary values of each
parameter (schemathesis's examples, coverage and fuzzing phases). Each case carries
valid credentials for the operation's security scheme (a department key, a resident's
or a reviewer's token, or a browser session with its CSRF token), and its path ids are
sometimes moved onto objects that exist, so the handlers run past the 404.

Every response must: not be a server error; have a status code the schema documents for
the operation; have the documented content type and headers; and have a body that
conforms to the documented schema for its status (one error shape for every error).

Deterministic: a fixed seed, derandomized Hypothesis and no example database, so CI
runs the same cases every time. At least 1,000 cases in total (checked at the end).

Run alone with ``pytest -m fuzz tests/reliability/test_fuzz.py``.
"""

from __future__ import annotations

import secrets
from collections import Counter

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from rest_framework.authtoken.models import Token

from tests import factories
from tests.gateway.people import make_account
from tests.reliability.cast import Cast, cast_create

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

MINIMUM_CASES = 1000
SEED = 20261126

# Fuzzing-phase examples per operation (by operationId); the examples and coverage
# phases add their own cases on top. Operations that take more input get more.
MAX_EXAMPLES = {
    "v1_submissions_create": 150,
    "v1_score_queries_create": 60,
    "v1_citizens_score_retrieve": 60,
    "v1_auth_token_create": 50,
    "v1_auth_token_destroy": 5,
    "v1_me_score_retrieve": 5,
    "v1_me_events_retrieve": 40,
    "v1_me_accesses_retrieve": 40,
    "v1_me_appeals_retrieve": 40,
    "v1_me_appeals_create": 60,
    "v1_me_repairs_list": 5,
    "v1_me_repairs_create": 60,
    "v1_appeals_retrieve": 40,
    "v1_appeals_decision_create": 60,
    "v1_appeals_extension_create": 60,
    "v1_appeals_review_request_create": 50,
    "v1_appeals_review_create": 60,
    "v1_reviewer_appeals_retrieve": 40,
    "v1_repairs_retrieve": 5,
    "v1_repairs_decision_create": 60,
    "v1_rules_list": 5,
    "v1_purposes_list": 5,
    "v1_audit_checkpoint_retrieve": 5,
    "v1_audit_proof_inclusion_retrieve": 50,
    "v1_audit_proof_consistency_retrieve": 50,
}

CONFIG = {
    "seed": SEED,
    "generation": {
        "mode": "all",
        "deterministic": True,
        "database": "none",
        "max-examples": 20,
    },
    "phases": {"stateful": {"enabled": False}},
    "checks": {
        "enabled": False,
        "not_a_server_error": {"enabled": True},
        "status_code_conformance": {"enabled": True},
        "content_type_conformance": {"enabled": True},
        "response_headers_conformance": {"enabled": True},
        "response_schema_conformance": {"enabled": True},
    },
    "operations": [
        {"include-operation-id": operation_id, "generation": {"max-examples": count}}
        for operation_id, count in MAX_EXAMPLES.items()
    ],
}

CASES: Counter[str] = Counter()


@pytest.fixture
def wsgi_app():
    """The production WSGI entry point, kept inside the test's transaction.

    Django closes the database connection at the end of each request; in a test that
    would end the transaction the test data lives in, so (as Django's test client does)
    the handler is run without that hook for the test's duration.
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(wsgi_app, fuzz_cast):
    config = schemathesis.Config.from_dict(CONFIG)
    from django.db import connection; print("SCHEMA0", connection.connection, connection.in_atomic_block)
    s = schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app, config=config)
    print("SCHEMA1", connection.connection, connection.in_atomic_block)
    from django.contrib.auth.models import User; print("USERS", User.objects.count())
    return s


# --- who calls each operation --------------------------------------------------------------
#
# Each operation's cases go round its callers in turn. A caller is (who, how): a department
# key, a person's token or session, or nobody. Some turns are deliberately wrong
# (nobody, or the other department) so the refusals are checked against the schema too.

DEPARTMENT = [("key_a", "key"), ("key_a", "key"), ("key_b", "key"), (None, "none")]
RESIDENT = [("alice", "token"), ("alice", "session"), ("bob", "token"), (None, "none")]
STAFF = [("rev_tax", "token"), ("reg", "session"), ("rev_traffic", "token"), ("alice", "token")]
PUBLIC = [(None, "none")]

CALLERS = {
    "v1_submissions_create": DEPARTMENT,
    "v1_score_queries_create": DEPARTMENT,
    "v1_citizens_score_retrieve": DEPARTMENT,
    "v1_repairs_retrieve": DEPARTMENT,
    "v1_repairs_decision_create": DEPARTMENT,
    "v1_auth_token_create": PUBLIC,
    "v1_auth_token_destroy": [("leaver", "token"), ("leaver", "session"), (None, "none")],
    "v1_me_score_retrieve": RESIDENT,
    "v1_me_events_retrieve": RESIDENT,
    "v1_me_accesses_retrieve": RESIDENT,
    "v1_me_appeals_retrieve": RESIDENT,
    "v1_me_appeals_create": RESIDENT,
    "v1_me_repairs_list": RESIDENT,
    "v1_me_repairs_create": RESIDENT,
    "v1_appeals_retrieve": [("alice", "token"), ("rev_tax", "session"), ("reg", "token")],
    "v1_appeals_decision_create": STAFF,
    "v1_appeals_extension_create": STAFF,
    "v1_appeals_review_request_create": RESIDENT,
    "v1_appeals_review_create": [("reg", "token"), ("reg", "session"), ("rev_tax", "token")],
    "v1_reviewer_appeals_retrieve": STAFF,
    "v1_rules_list": PUBLIC,
    "v1_purposes_list": PUBLIC,
    "v1_audit_checkpoint_retrieve": PUBLIC,
    "v1_audit_proof_inclusion_retrieve": PUBLIC,
    "v1_audit_proof_consistency_retrieve": PUBLIC,
}

CSRF_SECRET = "fuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzz"  # 32 characters, as Django's CSRF secret


class Callers:
    """Credentials of every caller, made fresh where a call may use them up (log-out)."""

    def __init__(self, cast: Cast, leaver):
        self.cast = cast
        self.accounts = {
            "alice": cast.alice,
            "bob": cast.bob,
            "rev_tax": cast.rev_tax,
            "rev_traffic": cast.rev_traffic,
            "reg": cast.reg,
            "leaver": leaver,
        }
        self.sessions: dict[str, str] = {}

    def _session(self, who: str) -> str:
        if who == "leaver" or who not in self.sessions:
            from django.test import Client

            client = Client()
            client.force_login(self.accounts[who].user)
            self.sessions[who] = client.cookies["sessionid"].value
        return self.sessions[who]

    def apply(self, case, who: str | None, how: str) -> None:
        case.headers = {
            name: value
            for name, value in (case.headers or {}).items()
            if name.lower() not in {"authorization", "cookie", "x-csrftoken"}
        }
        case.cookies = {}
        if how == "key":
            case.headers["Authorization"] = f"Api-Key {getattr(self.cast, who)}"
        elif how == "token":
            key = Token.objects.get_or_create(user=self.accounts[who].user)[0].key
            case.headers["Authorization"] = f"Token {key}"
        elif how == "session":
            case.cookies = {"sessionid": self._session(who), "csrftoken": CSRF_SECRET}
            case.headers["X-CSRFToken"] = CSRF_SECRET


# --- ids that exist ------------------------------------------------------------------------


def _onto(value, targets: list[int]):
    """Move a generated integer id onto an existing object three times in four."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return value
    number = value if isinstance(value, int) else (int(value) if value.isdigit() else None)
    if number is None or number % 4 == 0:
        return value
    target = targets[number % len(targets)]
    return str(target) if isinstance(value, str) else target


def _aim(case, cast: Cast, log_size: int) -> None:
    operation_id = case.operation.definition.raw.get("operationId")
    path = case.path_parameters or {}
    body = case.body if isinstance(case.body, dict) else None
    if "appeal_id" in path:
        appeals = [cast.pending.pk, cast.decided.pk, cast.under_review.pk, cast.bob_pending.pk]
        path["appeal_id"] = _onto(path["appeal_id"], appeals)
    if "repair_id" in path:
        path["repair_id"] = _onto(path["repair_id"], [cast.repair.pk, cast.repair.pk])
    if body is not None and "event" in body and operation_id in {
        "v1_me_appeals_create",
        "v1_me_repairs_create",
    }:
        events = [cast.open_deduction.pk, cast.pending.event_id, cast.bob_deduction.pk]
        body["event"] = _onto(body["event"], events)
    if operation_id and operation_id.startswith("v1_audit_proof") and case.query:
        for name, value in list(case.query.items()):
            if isinstance(value, int) and not isinstance(value, bool) and value % 2 == 0:
                case.query[name] = value % (log_size + 1)


# --- the test ------------------------------------------------------------------------------


@pytest.fixture
def fuzz_cast(world, settings) -> Cast:
    # Logins would otherwise cost a quarter of a second each in password hashing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    return cast_create(world)


@pytest.fixture
def callers(fuzz_cast) -> Callers:
    from django.db import connection; print("CALLERS", connection.connection, connection.in_atomic_block)
    leaver_id = factories.identity_number("110101", "19900307", 757)
    leaver = make_account("citizen", "leaver", citizen_id=leaver_id)
    return Callers(fuzz_cast, leaver)


@pytest.fixture
def case_count():
    CASES.clear()
    yield CASES
    total = sum(CASES.values())
    report = ", ".join(f"{name} {count}" for name, count in sorted(CASES.items()))
    print(f"\nschemathesis: {total} cases ({report})")
    assert total >= MINIMUM_CASES, f"only {total} generated cases ran: {report}"


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_every_response_is_documented_and_no_server_error(case, fuzz_cast, callers, case_count):
    from audit.selectors import log_size

    operation_id = case.operation.definition.raw["operationId"]
    turn = case_count[operation_id]
    case_count[operation_id] += 1
    rota = CALLERS[operation_id]
    who, how = rota[turn % len(rota)]
    # Rate limits are tested in test_production.py; here every case reaches its handler.
    cache.clear()
    callers.apply(case, who, how)
    _aim(case, fuzz_cast, log_size())
    case.call_and_validate()
