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

from collections import Counter

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from rest_framework.authtoken.models import Token
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.pytest._test_builder import build_operation_test
from schemathesis.python._constants.orchestrator import make_constants_value_source

from tests import factories
from tests.gateway.people import PASSWORD, make_account
from tests.reliability.cast import Cast, cast_create

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

MINIMUM_CASES = 1000
CASES: Counter[str] = Counter()  # cases run per operation, for the report
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
    if (
        body is not None
        and "event" in body
        and operation_id
        in {
            "v1_me_appeals_create",
            "v1_me_repairs_create",
        }
    ):
        events = [cast.open_deduction.pk, cast.pending.event_id, cast.bob_deduction.pk]
        body["event"] = _onto(body["event"], events)
    if operation_id == "v1_auth_token_create" and isinstance(case.body, dict):
        # One login in four with a real account's credentials, so the 200 is checked too.
        if len(str(case.body.get("username", ""))) % 4 == 0:
            case.body = {"username": "alice", "password": PASSWORD}
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
    leaver_id = factories.identity_number("110101", "19900307", 757)
    leaver = make_account("citizen", "leaver", citizen_id=leaver_id)
    return Callers(fuzz_cast, leaver)


@pytest.fixture
def in_process(fuzz_cast, callers):
    """Run the production WSGI handler inside the test's transaction.

    Django closes the database connection at the end of each request; in a test that
    would end the transaction the test data lives in, so (as Django's test client does)
    requests run without that hook for the test's duration. The test client puts the
    hook back after each of its own requests, so this comes after the set-up using one.
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


_loaded: dict[str, object] = {}


@pytest.fixture
def api_schema(in_process):
    """The schema as /api/schema/ serves it, loaded once per process."""
    if "schema" not in _loaded:
        config = schemathesis.Config.from_dict(CONFIG)
        _loaded["schema"] = schemathesis.openapi.from_wsgi(
            "/api/schema/", get_wsgi_application(), config=config
        )
    return _loaded["schema"]


def _operations(schema) -> dict[str, object]:
    return {
        operation.definition.raw["operationId"]: operation
        for operation in (result.ok() for result in schema.get_all_operations())
    }


def test_every_operation_is_fuzzed_and_the_budget_reaches_1000(api_schema):
    assert set(_operations(api_schema)) == set(MAX_EXAMPLES), (
        "add new operations to MAX_EXAMPLES and CALLERS"
    )
    assert set(CALLERS) == set(MAX_EXAMPLES)
    assert sum(MAX_EXAMPLES.values()) >= MINIMUM_CASES


@pytest.mark.parametrize("operation_id", list(MAX_EXAMPLES))
def test_responses_are_documented_and_never_a_server_error(
    operation_id, api_schema, fuzz_cast, callers
):
    from audit.selectors import log_size

    operation = _operations(api_schema)[operation_id]
    rota = CALLERS[operation_id]
    calls = Counter()

    def call(case) -> None:
        who, how = rota[calls["cases"] % len(rota)]
        calls["cases"] += 1
        # Rate limits are tested in test_production.py; here every case reaches its handler.
        cache.clear()
        callers.apply(case, who, how)
        _aim(case, fuzz_cast, log_size())
        response = case.call_and_validate()
        calls[response.status_code] += 1

    # The same Hypothesis test schemathesis's pytest plugin builds for an operation (its
    # examples, coverage and fuzzing phases under the project config), run from an
    # ordinary pytest item: the plugin's own items lose their ids under pytest 9.2.
    hypothesis_test = build_operation_test(
        config=api_schema.config,
        operation=operation,
        test_func=call,
        given_kwargs={},
        feedback=FeedbackSources(constants_value_source=make_constants_value_source(api_schema)),
    )
    hypothesis_test()
    budget = MAX_EXAMPLES[operation_id]
    assert calls["cases"] >= min(budget, 1 if budget <= 5 else budget), calls
    CASES[operation_id] = calls["cases"]
    print(f"{operation_id}: {calls['cases']} cases", dict(calls))
