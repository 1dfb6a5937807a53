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

Each operation must also reach its success at least once (its documented example, sent
by its rightful caller to the object it is meant for), so the 2xx bodies are checked too.

Deterministic: a fixed seed, derandomized Hypothesis and no example database, so CI runs
the same cases every time. Each operation runs at least its budget of generated cases and
the budgets add up to more than 1,000 (about 2,270 cases run in all, in under a minute).

Run alone with ``pytest -m fuzz tests/reliability/test_fuzz.py -s`` (``-s`` prints the
cases and statuses per operation), on PostgreSQL with DATABASE_URL set as usual.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import itertools
import json
import re
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

import pytest
import schemathesis
from axes.utils import reset as axes_reset
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.staticfiles import finders
from django.core import signals
from django.core.cache import cache
from django.core.management import call_command, get_commands, load_command_class
from django.core.management.base import CommandError
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.generation.meta import TestPhase
from schemathesis.pytest._test_builder import build_operation_test
from schemathesis.python._constants.orchestrator import make_constants_value_source

from audit import witness
from audit.actions import AuditAction
from audit.models import AuditEntry
from audit.services import checkpoint_create
from gateway.services.tokens import account_token_issue
from tests import factories
from tests.gateway.people import ALICE_ID, PASSWORD, make_account
from tests.reliability.cast import Cast, cast_create

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

MINIMUM_CASES = 1000
SEED = 20261126

# --- who calls each operation, and how many generated cases --------------------------------
#
# A caller is (who, how): a department key, a person's token or session, or nobody. An
# operation's cases go round its callers in turn; some turns are deliberately wrong (no
# credentials, the other department, a resident at a reviewer's door), so that refusals
# are held to the schema too.

DEPARTMENT = (("key_a", "key"), ("key_a", "key"), ("key_b", "key"), (None, "none"))
RESIDENT = (("alice", "token"), ("alice", "session"), ("bob", "token"), (None, "none"))
STAFF = (("rev_tax", "token"), ("reg", "session"), ("rev_traffic", "token"), ("alice", "token"))
APPEAL_READERS = (("alice", "token"), ("rev_tax", "session"), ("reg", "token"), ("bob", "token"))
REGULATOR = (("reg", "token"), ("reg", "session"), ("rev_tax", "token"), (None, "none"))
LEAVER = (("leaver", "token"), ("leaver", "session"), (None, "none"))
PUBLIC = ((None, "none"),)

# operationId: (examples of the fuzzing phase, callers). The examples and coverage phases
# add their own cases on top; an operation without input has nothing to vary, so 1.
OPERATIONS = {
    "v1_submissions_create": (250, DEPARTMENT),
    "v1_score_queries_create": (80, DEPARTMENT),
    "v1_citizens_score_retrieve": (80, DEPARTMENT),
    "v1_repairs_retrieve": (1, DEPARTMENT),
    "v1_repairs_decision_create": (80, DEPARTMENT),
    "v1_events_revocation_create": (80, DEPARTMENT),
    "v1_events_finality_create": (80, DEPARTMENT),
    "v1_auth_token_create": (80, PUBLIC),
    "v1_auth_token_destroy": (1, LEAVER),
    "v1_me_score_retrieve": (1, RESIDENT),
    "v1_me_events_retrieve": (60, RESIDENT),
    "v1_me_accesses_retrieve": (60, RESIDENT),
    "v1_me_appeals_retrieve": (60, RESIDENT),
    "v1_me_appeals_create": (80, RESIDENT),
    "v1_me_repairs_list": (1, RESIDENT),
    "v1_me_repairs_create": (80, RESIDENT),
    "v1_appeals_retrieve": (60, APPEAL_READERS),
    "v1_appeals_decision_create": (80, STAFF),
    "v1_appeals_extension_create": (80, STAFF),
    "v1_appeals_review_request_create": (60, RESIDENT),
    "v1_appeals_review_create": (80, REGULATOR),
    "v1_reviewer_appeals_retrieve": (60, STAFF),
    "v1_me_eligibility_explanation_retrieve": (30, RESIDENT),
    "v1_me_eligibility_review_create": (40, RESIDENT),
    "v1_me_eligibility_reviews_retrieve": (30, RESIDENT),
    "v1_eligibility_reviews_retrieve": (30, APPEAL_READERS),
    "v1_eligibility_reviews_decision_create": (40, STAFF),
    "v1_reviewer_eligibility_reviews_retrieve": (30, STAFF),
    "v1_rules_list": (1, PUBLIC),
    "v1_purposes_list": (1, PUBLIC),
    "v1_audit_checkpoint_retrieve": (1, PUBLIC),
    "v1_audit_receipts_retrieve": (60, PUBLIC),
    "v1_audit_proof_inclusion_retrieve": (60, PUBLIC),
    "v1_audit_proof_consistency_retrieve": (60, PUBLIC),
    "v1_audit_cosignatures_create": (60, PUBLIC),
}

CONFIG = {
    "seed": SEED,
    "generation": {"mode": "all", "deterministic": True, "database": "none"},
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
        {"include-operation-id": operation_id, "generation": {"max-examples": examples}}
        for operation_id, (examples, _callers) in OPERATIONS.items()
    ],
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
            key = account_token_issue(user=self.accounts[who].user)[1]
            case.headers["Authorization"] = f"Token {key}"
        elif how == "session":
            case.cookies = {"sessionid": self._session(who), "csrftoken": CSRF_SECRET}
            case.headers["X-CSRFToken"] = CSRF_SECRET


# --- ids that exist ------------------------------------------------------------------------


def _onto(value, targets: list[int], primary: bool):
    """Move a generated id onto an existing object: the first target for a documented
    example, else one of the targets three times in four."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return value
    number = value if isinstance(value, int) else (int(value) if value.isdigit() else None)
    if primary:
        target = targets[0]
    elif number is None or number % 4 == 0:
        return value
    else:
        target = targets[number % len(targets)]
    return str(target) if isinstance(value, str) else target


WITH_EVENT = {"v1_me_appeals_create", "v1_me_repairs_create"}
# The appeal an operation's documented example is meant for (else the pending one).
APPEAL_FOR = {
    "v1_appeals_review_request_create": "decided",
    "v1_appeals_review_create": "under_review",
}


# A witness the gateway trusts while fuzzing, so that posted cosignatures can succeed.
FUZZ_WITNESS_NAME = "fuzz.example/witness"
FUZZ_WITNESS_KEY = Ed25519PrivateKey.generate()


def _cosigned_checkpoint() -> str:
    signed = checkpoint_create().note
    body = signed.split("\n\n")[0] + "\n"
    line = witness.cosign(body, FUZZ_WITNESS_NAME, FUZZ_WITNESS_KEY, int(time.time()))
    return f"{signed}{line}\n"


def _aim(case, cast: Cast, log_size: int, *, primary: bool) -> None:
    """Point generated ids at objects that exist, and some logins at a real account."""
    operation_id = case.operation.definition.raw["operationId"]
    path = case.path_parameters or {}
    body = case.body if isinstance(case.body, dict) else None
    if "appeal_id" in path:
        first = getattr(cast, APPEAL_FOR.get(operation_id, "pending"))
        appeals = [first.pk, cast.pending.pk, cast.decided.pk, cast.under_review.pk]
        path["appeal_id"] = _onto(path["appeal_id"], [*appeals, cast.bob_pending.pk], primary)
    if "review_id" in path:
        path["review_id"] = _onto(path["review_id"], [cast.eligibility_review.pk], primary)
    if "threshold" in path and (primary or len(str(path["threshold"])) % 2 == 0):
        path["threshold"] = "civilization_loan"
    if "repair_id" in path:
        path["repair_id"] = _onto(path["repair_id"], [cast.repair.pk], primary)
    if "event_id" in path:
        events = [cast.open_deduction.pk, cast.bob_deduction.pk]
        if operation_id == "v1_events_finality_create":
            # A deduction sent as pending (ZJ 11), so that reporting it final can succeed.
            events = [_PENDING_DEDUCTION["id"], *events]
        path["event_id"] = _onto(path["event_id"], events, primary)
    if body is not None and "event" in body and operation_id in WITH_EVENT:
        events = [cast.open_deduction.pk, cast.pending.event_id, cast.bob_deduction.pk]
        body["event"] = _onto(body["event"], events, primary)
    # The example, and one other login in four, with a real account's credentials.
    login = operation_id == "v1_auth_token_create" and body is not None
    if login and (primary or len(str(body.get("username", ""))) % 4 == 0):
        case.body = {"username": "alice", "password": PASSWORD}
    # One cosignature post in three carries a real cosigned checkpoint.
    cosigning = operation_id == "v1_audit_cosignatures_create" and isinstance(case.body, str)
    if cosigning and (primary or len(case.body) % 3 == 0):
        case.body = _cosigned_checkpoint()
    if "leaf_hash" in path and (primary or len(str(path["leaf_hash"])) % 3 == 0):
        entry = AuditEntry.objects.order_by("id").first()
        path["leaf_hash"] = bytes(entry.leaf_hash).hex()
    if operation_id.startswith("v1_audit_proof") and case.query:
        for name, value in list(case.query.items()):
            if isinstance(value, int) and not isinstance(value, bool) and value % 2 == 0:
                case.query[name] = value % (log_size + 1)


# --- the test ------------------------------------------------------------------------------


@pytest.fixture
def fuzz_cast(world, settings) -> Cast:
    # Logins would otherwise cost a quarter of a second each in password hashing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.AUDIT_WITNESS_KEYS = [
        witness.cosigner_verifier_key(FUZZ_WITNESS_NAME, FUZZ_WITNESS_KEY)
    ]
    cache.clear()
    cast = cast_create(world)
    record = factories.deduction_record(ALICE_ID)
    ends = timezone.localdate() + dt.timedelta(days=30)
    record["evidence"]["finality"] = {"state": "pending", "review_period_ends": ends.isoformat()}
    response = world.submit(world.key_a, [record], idem="fuzz-pending")
    assert response.status_code == 201, response.content
    _PENDING_DEDUCTION["id"] = json.loads(response.content)["events"][0]["id"]
    return cast


_PENDING_DEDUCTION: dict[str, int] = {}


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


def test_every_operation_is_fuzzed_and_the_cases_reach_1000(api_schema):
    assert set(_operations(api_schema)) == set(OPERATIONS), "add new operations to OPERATIONS"
    # Each operation below runs at least its fuzzing examples, so this is a floor.
    assert sum(examples for examples, _callers in OPERATIONS.values()) >= MINIMUM_CASES


@pytest.mark.parametrize("operation_id", list(OPERATIONS))
def test_responses_are_documented_and_never_a_server_error(
    operation_id, api_schema, fuzz_cast, callers
):
    from audit.selectors import log_size

    operation = _operations(api_schema)[operation_id]
    examples, rota = OPERATIONS[operation_id]
    method = operation.method.upper()
    seen: Counter = Counter()

    def call(case) -> None:
        # A documented example is sent as meant: by the rightful caller (the first of the
        # rota) to the object it is for, so it must succeed.
        example = case.meta is not None and case.meta.phase.name == TestPhase.EXAMPLES
        who, how = rota[0 if example else seen["cases"] % len(rota)]
        seen["cases"] += 1
        # Rate limits and lockouts are tested in test_shared_limits.py, test_production.py
        # and tests/gateway/test_login_limits.py; here every case reaches its handler.
        cache.clear()
        axes_reset()
        callers.apply(case, who, how)
        _aim(case, fuzz_cast, log_size(), primary=example)
        response = case.call_and_validate()
        seen[response.status_code] += 1
        if 200 <= response.status_code < 300 and case.method.upper() == method:
            seen["success"] += 1

    # The Hypothesis test schemathesis's own pytest integration builds for an operation
    # (its examples, coverage and fuzzing phases under CONFIG), run from an ordinary
    # pytest item: with pytest 9.2, schemathesis 4.32's `schema.parametrize()` gives all
    # its items one node id and `from_fixture()` fails on the node's missing `_nodeid`.
    hypothesis_test = build_operation_test(
        config=api_schema.config,
        operation=operation,
        test_func=call,
        given_kwargs={},
        feedback=FeedbackSources(constants_value_source=make_constants_value_source(api_schema)),
    )
    hypothesis_test()
    statuses = {status: n for status, n in seen.items() if isinstance(status, int)}
    print(f"{operation_id}: {seen['cases']} cases, statuses {statuses}")
    assert seen["cases"] >= examples, seen
    # Not only refusals: the operation's success was reached and held to the schema too.
    assert seen["success"] > 0, seen


# --- the schema itself ---------------------------------------------------------------------


@pytest.fixture
def schema_document(client) -> dict:
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


EXPECTED_SECURITY = {
    "/api/v1/submissions": [{"DepartmentApiKey": []}],
    "/api/v1/me/score": [{"tokenAuth": []}, {"cookieAuth": []}],
    "/api/v1/appeals/{appeal_id}/decision": [{"tokenAuth": []}, {"cookieAuth": []}],
    "/api/v1/repairs/{repair_id}/decision": [{"DepartmentApiKey": []}],
    "/api/v1/rules": None,
    "/api/v1/audit/proof/inclusion": None,
}


def test_the_three_security_schemes_are_described_and_required(schema_document):
    schemes = schema_document["components"]["securitySchemes"]
    assert schemes["DepartmentApiKey"] | {"description": ""} == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "",
    }
    assert (
        schemes["tokenAuth"]["in"] == "header" and schemes["tokenAuth"]["name"] == "Authorization"
    )
    assert (
        schemes["cookieAuth"]["in"] == "cookie"
        and "X-CSRFToken" in schemes["cookieAuth"]["description"]
    )
    for path, security in EXPECTED_SECURITY.items():
        for operation in schema_document["paths"][path].values():
            assert operation.get("security") == security, path
    # Logging in needs no credentials.
    assert "security" not in schema_document["paths"]["/api/v1/auth/token"]["post"]


def _resolve(document: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def test_every_error_is_documented_in_the_one_error_shape(schema_document):
    for path, item in schema_document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            if "security" in operation:
                assert "401" in responses, (method, path)
            if "requestBody" in operation:
                assert {"400", "413", "415"} <= set(responses), (method, path)
            for status, response in responses.items():
                if int(status) < 400:
                    continue
                schema = _resolve(
                    schema_document, response["content"]["application/json"]["schema"]
                )
                assert {"error", "message"} <= set(schema["required"]), (method, path, status)
                assert response["description"], (method, path, status)


def test_swagger_ui_is_served_from_the_app_with_no_cdn(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert any(source.endswith("swagger-ui-bundle.js") for source in sources)
    # The page's start-up script is a file of its own (no inline script under the CSP).
    assert all(source.startswith(("/static/", "/api/docs/?script")) for source in sources), sources
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "//" not in "".join(sources)
    # Each asset is in the installed sidecar package, for collectstatic to serve.
    for source in sources:
        if source.startswith(settings.STATIC_URL):
            assert finders.find(source.removeprefix(settings.STATIC_URL)), source


# --- the admin: every change list's filters, search and paging, and the CSV export ---------
#
# Hypothesis draws query strings for every registered ModelAdmin (enumerated, never listed
# by hand): the model's own fields and its declared filters with real and made-up lookups,
# the search box, paging and ordering, and parameters no change list knows, with hostile
# values (NUL, malformed and huge numbers, malformed and far-off dates, any unicode). Every
# answer must be a page, a redirect or a clear 4xx, never a 500 or a traceback; U+0000 is
# always a 400. The export must be a whole CSV file or a 400 that records no export.

ADMIN_EXAMPLES = 20
COMMAND_EXAMPLES = 25

HOSTILE_WORDS = [
    "",
    " ",
    "abc",
    "-1",
    "0",
    "1.5",
    "99999999",
    "9" * 40,
    "-" + "9" * 40,
    "1e309",
    "nan",
    "inf",
    "0x1F",
    "１２３",  # full-width digits
    "true",
    "maybe",
    "2026-W47-5",
    "2026-334",
    "0001-01-01",
    "9999-12-31",
    "1948-12-31",
    "2101-01-01",
    "2026-02-30",
    "2026-13-01",
    "20261120",
    "2026-11-20T10:00:00+14:00",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "2026-11-20T10:00:00+08:00:30.5",
    "2026-11-20 10:00",
    "%",
    "_",
    "' OR 1=1 --",
    "a,b,c",
    "\u202eevil",
    "😀",
    "x" * 5000,
    "320505198506125215",
]
WITH_NUL = ["\x00", "a\x00b", "2026-11-20\x00", "1\x00"]
LOOKUPS = [
    "",
    "__exact",
    "__iexact",
    "__gte",
    "__lt",
    "__in",
    "__isnull",
    "__startswith",
    "__contains",
    "__year",
    "__date",
    "__range",
    "__nonexistent",
    "__id__gt",
    "__",
]
CHANGELIST_PARAMETERS = ["q", "o", "p", "e", "all", "_to_field", "_popup", "_changelist_filters"]


def _admin_names(model_admin) -> list[str]:
    model = model_admin.model
    names = {field.name for field in model._meta.get_fields() if not field.auto_created}
    names |= {field.attname for field in model._meta.concrete_fields}
    for spec in model_admin.list_filter:
        if isinstance(spec, str):
            names.add(spec)
        elif isinstance(spec, tuple):
            names.add(spec[0])
        else:
            names.add(spec.parameter_name)
    names |= {"no_such_field", "password", "id"}
    return sorted(names)


def hostile_text(with_nul: bool):
    words = HOSTILE_WORDS + (WITH_NUL if with_nul else [])
    return st.one_of(
        st.sampled_from(words),
        st.integers(min_value=-(10**30), max_value=10**30).map(str),
        st.text(max_size=40),
        st.dates().map(lambda day: day.isoformat()),
    )


def admin_queries(model_admin):
    names = st.one_of(
        st.builds(
            lambda name, lookup: name + lookup,
            st.sampled_from(_admin_names(model_admin)),
            st.sampled_from(LOOKUPS),
        ),
        st.sampled_from(CHANGELIST_PARAMETERS),
        st.text(min_size=1, max_size=20),
    )
    return st.dictionaries(names, hostile_text(with_nul=True), min_size=1, max_size=3)


def _admin_clients(cast: Cast):
    clients = []
    for user in (cast.reg.user, cast.admin):
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(user)
        clients.append(client)
    return clients


def _assert_a_clear_answer(response, query: dict, where: str) -> None:
    assert response.status_code < 500, where
    assert b"Traceback" not in b"".join([response.content] if not response.streaming else []), where
    if any("\x00" in name or "\x00" in value for name, value in query.items()):
        assert response.status_code == 400, where


def _registered_admins():
    return sorted(
        (model._meta.label_lower, model_admin)
        for model, model_admin in admin.site._registry.items()
    )


@pytest.mark.parametrize(
    "label", [label for label, _ in _registered_admins()], ids=lambda label: label
)
def test_no_generated_change_list_query_gives_a_500(fuzz_cast, label):
    model_admin = dict(_registered_admins())[label]
    app, model = label.split(".")
    url = reverse(f"admin:{app}_{model}_changelist")
    clients = _admin_clients(fuzz_cast)
    calls = Counter()

    @hypothesis_settings(
        max_examples=ADMIN_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(query=admin_queries(model_admin))
    def property_(query):
        client = clients[calls["n"] % len(clients)]
        calls["n"] += 1
        full = f"{url}?{urlencode(query)}"
        _assert_a_clear_answer(client.get(full), query, repr(full)[:300])

    property_()
    assert calls["n"] >= ADMIN_EXAMPLES


def test_no_generated_export_query_gives_a_500_or_half_an_export(fuzz_cast):
    url = reverse("admin:audit_auditentry_export")
    model_admin = admin.site._registry[AuditEntry]
    clients = _admin_clients(fuzz_cast)
    calls = Counter()

    def exports() -> int:
        return AuditEntry.objects.filter(action=AuditAction.AUDIT_EXPORTED).count()

    @hypothesis_settings(
        max_examples=ADMIN_EXAMPLES * 2,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(query=admin_queries(model_admin))
    def property_(query):
        client = clients[calls["n"] % len(clients)]
        calls["n"] += 1
        before = exports()
        response = client.get(url, query)
        _assert_a_clear_answer(response, query, repr(query)[:300])
        if response.status_code == 200:
            lines = b"".join(response.streaming_content).decode().splitlines()
            assert lines[0].startswith("sequence,")
            assert exports() == before + 1
            calls["exported"] += 1
        else:
            assert exports() == before, query
            calls["refused"] += 1

    property_()
    assert calls["exported"] and calls["refused"], calls


# --- every management command of the project ----------------------------------------------
#
# Each command (enumerated from the project's apps) is called as an operator would type it,
# with argv drawn from its own parser's options and positional arguments filled with
# hostile values, plus options and arguments it does not have. The only acceptable failure
# is CommandError (one line from manage.py, exit 1), and a refused command writes nothing.
# NUL is never drawn: an operating system cannot put U+0000 in a process's arguments.
# Undecodable bytes can be there (Python's argv holds them as lone surrogates), so they are.

PROJECT_APPS = ("audit", "compliance", "gateway")
# A well-formed Ed25519 public key, so that `department_signing_key add` reaches its dates.
A_PUBLIC_KEY = "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="
# Never run as a long-running service in a test: the integrator always integrates once.
ALWAYS = {"audit_integrate": ["--once"]}
# Django's own options of every command (--verbosity is drawn apart, with bad values).
BUILTIN_OPTIONS = {
    "-h",
    "--help",
    "--version",
    "--verbosity",
    "--settings",
    "--pythonpath",
    "--traceback",
    "--no-color",
    "--force-color",
}


def project_commands() -> list[str]:
    return sorted(name for name, app in get_commands().items() if app in PROJECT_APPS)


def _command_parser(name: str):
    return load_command_class(get_commands()[name], name).create_parser("manage.py", name)


def command_argv(name: str):
    parser = _command_parser(name)
    # Hostile values, undecodable bytes, and names that exist, so that a hostile option
    # reaches the command's own code beside a real department or account.
    values = st.one_of(
        hostile_text(with_nul=False),
        st.just("\udcff\udcfe"),
        st.sampled_from(["tax", "traffic_police", "alice", "reg", "k1", A_PUBLIC_KEY]),
    )
    # Files are named inside the test's own folder (the working directory), never elsewhere.
    files = st.sampled_from(["out.file", "no-such-folder/out.file", "état.file", "x" * 300])

    def for_parser(parser) -> st.SearchStrategy:
        pieces = []
        positionals = []
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                subs = sorted(action.choices.items())
                return st.one_of(
                    *[
                        st.just([sub]).flatmap(
                            lambda head, p=p: for_parser(p).map(lambda tail, head=head: head + tail)
                        )
                        for sub, p in subs
                    ],
                    values.map(lambda value: [value]),
                )
            if not action.option_strings:
                positionals.append(action)
                continue
            option = action.option_strings[-1]
            if set(action.option_strings) & BUILTIN_OPTIONS:
                continue
            if action.nargs == 0:
                pieces.append(st.just([option]))
            else:
                looks_like_file = action.type is Path or "witnessed" in option
                pieces.append(
                    (files if looks_like_file else values).map(
                        lambda value, option=option: [option, value]
                    )
                )
        strays = [
            st.just(["--no-such-option"]),
            st.builds(lambda v: ["--verbosity", v], st.sampled_from(["9", "abc", "-1"])),
            values.map(lambda value: [value]),
        ]
        heads = [
            st.sampled_from(list(action.choices))
            if action.choices
            else (files if action.dest in {"file", "path"} else values)
            for action in positionals
        ]
        head = st.tuples(*heads).map(list)
        own = st.lists(st.one_of(*pieces), max_size=3) if pieces else st.just([])
        # A command that takes no value at all always gets a stray one: never a plain run
        # (the demo's seeding would take the whole budget).
        takes_values = bool(positionals) or any(
            action.option_strings
            and action.nargs != 0
            and not set(action.option_strings) & BUILTIN_OPTIONS
            for action in parser._actions
        )
        stray = st.lists(st.one_of(*strays), min_size=0 if takes_values else 1, max_size=1)
        return st.tuples(head, own, stray).map(
            lambda parts: parts[0] + list(itertools.chain(*parts[1], *parts[2]))
        )

    return for_parser(parser)


def _row_counts() -> dict[str, int]:
    models = [
        model
        for app in (*PROJECT_APPS, "auth", "rest_framework_api_key")
        for model in apps.get_app_config(app).get_models()
        if not model._meta.proxy
    ]
    return {model._meta.label: model.objects.count() for model in models}


@pytest.mark.parametrize("name", project_commands())
def test_no_generated_command_line_gives_a_traceback_or_half_a_write(
    fuzz_cast, name, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ACCOUNT_PASSWORD", "a long enough passphrase 42")
    outcomes = Counter()

    @hypothesis_settings(
        max_examples=COMMAND_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(argv=command_argv(name))
    def property_(argv):
        argv = argv + ALWAYS.get(name, [])
        before = _row_counts()
        try:
            call_command(name, *argv, stdout=io.StringIO(), stderr=io.StringIO())
        except CommandError as refused:
            message = str(refused)
            assert message and "Traceback" not in message, ascii(argv)
            # (argparse may echo a stray argument, undecodable bytes too: manage.py prints
            # them to stderr, which escapes what is not UTF-8.)
            assert _row_counts() == before, ascii((argv, message))
            outcomes["refused"] += 1
        else:
            outcomes["ran"] += 1

    property_()
    assert outcomes["refused"] > 0, outcomes
