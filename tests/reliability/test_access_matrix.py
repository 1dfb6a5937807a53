# ruff: noqa: E501  (the table below is wider than a line, to read as a table)
"""Who may do what: every role against every door and object, as one table.

Each row is a request (the JSON API, a portal page, or a page of the regulator's admin)
and the answer each role gets. Anything not allowed is refused with 401, 403 or 404 (a
page sends an anonymous caller to its login page instead of a 401), and a refusal never
tells whether the object exists: the same request for an id that does not exist gets the
same status and the same body. The one exception is marked ``SEES``: a role that may read
the object anyway (a regulator reading a pending appeal) is told 403 for an act it may
not do, as docs/residents-rights.md says.

The objects are those of tests/reliability/cast.py: alice (citizen A) and bob (citizen B),
alice's pending appeal assigned to ``reviewer``, ``reviewer_b`` of the department whose
record it is (never assigned: separation of duties), and department A's pending repair.

How each role calls: departments send their API key (to pages too, where it means
nothing); people use a token on the API and a logged-in session on pages; the
administrator (a superuser with no account) uses a session everywhere. Sessions send
their CSRF token, as a browser would. Every cell runs in a savepoint that is rolled
back, so each starts from the same state.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import get_resolver, resolve
from django.utils import timezone
from rest_framework.test import APIClient

from audit.actions import AuditAction
from audit.models import AuditEntry
from gateway.models import DepartmentAPIKey, Notification
from tests import factories
from tests.gateway.people import ALICE_ID, PASSWORD
from tests.reliability.cast import ADMIN_PASSWORD, Cast, cast_create

ROLES = (
    "anonymous",
    "dept_a",
    "dept_b",
    "citizen_a",
    "citizen_b",
    "reviewer",
    "reviewer_b",
    "regulator",
    "admin",
)

LOGIN = "login"  # a page redirects to its login page: a page's 401
SEES = "403*"  # refused, to a role that may read the object (may differ from a missing id)
L = LOGIN
# An admin action the role may not run: the change list again, saying no action was
# selected (Django offers the role no such action), and nothing done.
REFUSED_ACTION = 200

DEDUCTION = {"idempotency_key": "matrix-1", "records": [factories.deduction_record(ALICE_ID)]}
DECISION = {"outcome": "upheld", "reason": "The record stands."}


def own_credentials(objects: dict, role: str) -> dict:
    """Each role logs in as itself; those without an account try what they have."""
    username = {**PERSONS, "admin": "admin"}.get(role)
    if username is None:  # a department system or nobody: a guess
        return {"username": "alice", "password": "not the password"}
    return {"username": username, "password": ADMIN_PASSWORD if role == "admin" else PASSWORD}


@dataclass(frozen=True)
class Row:
    request: str  # "METHOD /path", with {object} placeholders
    outcomes: tuple  # one per role, in ROLES order
    body: Any = None  # a dict, or a callable (objects, role) -> dict
    # (object, roles): in a 2xx answer, the object is listed for these roles and no other.
    lists: tuple[str, frozenset] | None = None
    expect: dict = field(default_factory=dict)

    def __post_init__(self):
        assert len(self.outcomes) == len(ROLES), self.request
        object.__setattr__(self, "expect", dict(zip(ROLES, self.outcomes, strict=True)))


def row(request: str, *outcomes, body=None, lists=None) -> Row:
    if lists is not None:
        lists = (lists[0], frozenset(lists[1]))
    return Row(request, outcomes, body, lists)


# fmt: off
TABLE = [
    #   request                                                anon  deptA deptB citA  citB  rev   revB  reg   admin
    # --- the department API: key holders only; department B has neither the rule nor the purpose
    row("POST /api/v1/submissions",                            401,  201,  403,  401,  401,  401,  401,  401,  401,
        body=DEDUCTION),
    row("GET /api/v1/citizens/{alice_id}/score?purpose=licensing_review",
                                                               401,  200,  403,  401,  401,  401,  401,  401,  401),
    row("POST /api/v1/score-queries",                          401,  200,  403,  401,  401,  401,  401,  401,  401,
        body=lambda o, r: {"citizen_id": o["alice_id"], "purpose": "licensing_review"}),
    row("GET /api/v1/repairs",                                 401,  200,  200,  401,  401,  401,  401,  401,  401,
        lists=("repair", {"dept_a"})),
    row("POST /api/v1/repairs/{repair}/decision",              401,  200,  404,  401,  401,  401,  401,  401,  401,
        body={"decision": "confirmed"}),
    row("POST /api/v1/events/{open_deduction}/revocation",     401,  201,  403,  401,  401,  401,  401,  401,  401,
        body=lambda o, r: {"document": "苏府复决字〔2026〕第12号", "issued_by": "苏州市人民政府",
                           "issued_on": timezone.localdate().isoformat()}),
    # the deduction was sent final, so its department is told 409 not_pending (ZJ 11)
    row("POST /api/v1/events/{open_deduction}/finality",       401,  409,  403,  401,  401,  401,  401,  401,  401,
        body=lambda o, r: {"final_on": timezone.localdate().isoformat()}),
    # --- public: the catalogue, the audit log's proofs, health, the schema and its docs
    row("GET /api/v1/rules",                                   200,  200,  200,  200,  200,  200,  200,  200,  200),
    row("GET /api/v1/purposes",                                200,  200,  200,  200,  200,  200,  200,  200,  200),
    row("GET /api/v1/audit/checkpoint",                        200,  200,  200,  200,  200,  200,  200,  200,  200),
    row("GET /api/v1/audit/proof/inclusion?index=0&size=2",    200,  200,  200,  200,  200,  200,  200,  200,  200),
    row("GET /api/v1/audit/receipts/{leaf}",                   200,  200,  200,  200,  200,  200,  200,  200,  200),
    row("GET /api/v1/audit/proof/consistency?from=1&to=2",     200,  200,  200,  200,  200,  200,  200,  200,  200),
    # the tlog-tiles resources are public; a cosignature is authenticated by the witness's
    # signature alone, so no credential changes the answer (and a JSON body is no note: 415)
    row("GET /checkpoint",                                     200,  200,  200,  200,  200,  200,  200,  200,  200),
    row("GET /tile/0/000.p/1",                                 200,  200,  200,  200,  200,  200,  200,  200,  200),
    row("POST /api/v1/audit/cosignatures",                     415,  415,  415,  415,  415,  415,  415,  415,  415,
        body={"note": "not a note"}),
    row("GET /api/schema/",                                    200,  200,  200,  200,  200,  200,  200,  200,  200),
    row("GET /api/docs/",                                      200,  200,  200,  200,  200,  200,  200,  200,  200),
    row("GET /healthz",                                        200,  200,  200,  200,  200,  200,  200,  200,  200),
    row("GET /readyz",                                         200,  200,  200,  200,  200,  200,  200,  200,  200),
    row("GET /catalogue/",                                     200,  200,  200,  200,  200,  200,  200,  200,  200),
    # --- logging in and out: a wrong login is 400 invalid_credentials (an administrator has
    # no account, so no token); logging out needs a login with an account
    row("POST /api/v1/auth/token",                             400,  400,  400,  200,  200,  200,  200,  200,  400,
        body=own_credentials),
    row("DELETE /api/v1/auth/token",                           401,  401,  401,  204,  204,  204,  204,  204,  403),
    # --- the resident's own data: residents only, each their own
    row("GET /api/v1/me/score",                                401,  401,  401,  200,  200,  403,  403,  403,  403),
    row("GET /api/v1/me/events",                               401,  401,  401,  200,  200,  403,  403,  403,  403,
        lists=("open_deduction", {"citizen_a"})),
    row("GET /api/v1/me/accesses",                             401,  401,  401,  200,  200,  403,  403,  403,  403),
    row("GET /api/v1/me/appeals",                              401,  401,  401,  200,  200,  403,  403,  403,  403,
        lists=("pending", {"citizen_a"})),
    row("POST /api/v1/me/appeals",                             401,  401,  401,  201,  404,  403,  403,  403,  403,
        body=lambda o, r: {"event": o["open_deduction"], "statement": "Not mine."}),
    row("GET /api/v1/me/repairs",                              401,  401,  401,  200,  200,  403,  403,  403,  403,
        lists=("repair", {"citizen_a"})),
    row("POST /api/v1/me/repairs",                             401,  401,  401,  201,  404,  403,  403,  403,  403,
        body=lambda o, r: {"event": o["open_deduction"], "statement": "Paid on the day."}),
    # --- appeals: the appellant, the assigned reviewer, regulators
    row("GET /api/v1/appeals/{pending}",                       401,  401,  401,  200,  404,  200,  404,  200,  403),
    row("POST /api/v1/appeals/{pending}/decision",             401,  401,  401,  403,  403,  200,  404,  SEES, 403,
        body=DECISION),
    row("POST /api/v1/appeals/{pending}/extension",            401,  401,  401,  403,  403,  200,  404,  SEES, 403,
        body={"reason": "Waiting for the department's file."}),
    row("POST /api/v1/appeals/{decided}/review-request",       401,  401,  401,  200,  404,  403,  403,  403,  403,
        body={"statement": "Please look again."}),
    row("POST /api/v1/appeals/{under_review}/review",          401,  401,  401,  403,  403,  403,  403,  200,  403,
        body=DECISION),
    row("GET /api/v1/reviewer/appeals",                        401,  401,  401,  403,  403,  200,  200,  200,  403,
        lists=("pending", {"reviewer"})),
    # --- the portal: residents' pages and reviewers' pages, by session
    row("GET /portal/login/",                                  200,  200,  200,  302,  302,  302,  302,  302,  302),
    row("GET /portal/",                                        L,    L,    L,    200,  200,  302,  302,  302,  403),
    row("GET /portal/events/",                                 L,    L,    L,    200,  200,  403,  403,  403,  403),
    row("GET /portal/events/{open_deduction}/objection/",      L,    L,    L,    200,  404,  403,  403,  403,  403),
    row("POST /portal/events/{open_deduction}/objection/",     L,    L,    L,    302,  404,  403,  403,  403,  403,
        body={"statement": "Not mine."}),
    row("GET /portal/events/{open_deduction}/repair/",         L,    L,    L,    200,  404,  403,  403,  403,  403),
    row("POST /portal/events/{open_deduction}/repair/",        L,    L,    L,    302,  404,  403,  403,  403,  403,
        body={"statement": "Paid on the day.", "reference": "R-1"}),
    row("GET /portal/repairs/",                                L,    L,    L,    200,  200,  403,  403,  403,  403),
    row("GET /portal/accesses/",                               L,    L,    L,    200,  200,  403,  403,  403,  403),
    row("GET /portal/appeals/",                                L,    L,    L,    200,  200,  403,  403,  403,  403),
    row("GET /portal/appeals/{pending}/",                      L,    L,    L,    200,  404,  403,  403,  403,  403),
    row("POST /portal/appeals/{decided}/",                     L,    L,    L,    302,  404,  403,  403,  403,  403,
        body={"statement": "Please look again."}),
    row("GET /portal/notifications/",                          L,    L,    L,    200,  200,  403,  403,  403,  403),
    row("POST /portal/notifications/{notification}/read/",     L,    L,    L,    302,  404,  403,  403,  403,  403),
    row("GET /portal/report/",                                 L,    L,    L,    200,  200,  403,  403,  403,  403),
    row("GET /portal/review/",                                 L,    L,    L,    403,  403,  200,  200,  200,  403),
    row("GET /portal/review/{pending}/",                       L,    L,    L,    403,  403,  200,  404,  200,  403),
    row("POST /portal/review/{pending}/decision/",             L,    L,    L,    403,  403,  302,  404,  SEES, 403,
        body=DECISION),
    row("POST /portal/review/{pending}/extension/",            L,    L,    L,    403,  403,  302,  404,  SEES, 403,
        body={"reason": "Waiting for the department's file.", "working_days": "10"}),
    # logging out, whoever you were, lands on the login page
    row("POST /portal/logout/",                                L,    L,    L,    L,    L,    L,    L,    L,    L),
    # --- the regulator's admin: read-only for regulators, and for the administrator too
    row("GET /admin/audit/auditentry/",                        L,    L,    L,    L,    L,    L,    L,    200,  200),
    row("GET /admin/gateway/citizen/{citizen_a}/change/",      L,    L,    L,    L,    L,    L,    L,    200,  200),
    row("GET /admin/gateway/appeal/{pending}/change/",         L,    L,    L,    L,    L,    L,    L,    200,  200),
    row("POST /admin/gateway/appeal/{pending}/change/",        L,    L,    L,    L,    L,    L,    L,    403,  403,
        body={"status": "decided"}),
    row("GET /admin/audit/auditentry/export.csv",              L,    L,    L,    L,    L,    L,    L,    200,  200),
    # --- department keys: the operator (the administrator) issues and revokes, audited;
    # the regulator reads them
    row("GET /admin/gateway/departmentapikey/",                L,    L,    L,    L,    L,    L,    L,    200,  200),
    row("GET /admin/gateway/departmentapikey/{key_a}/change/", L,    L,    L,    L,    L,    L,    L,    200,  200),
    row("GET /admin/gateway/departmentapikey/add/",            L,    L,    L,    L,    L,    L,    L,    403,  200),
    row("POST /admin/gateway/departmentapikey/add/",           L,    L,    L,    L,    L,    L,    L,    403,  302,
        body=lambda o, r: {"department": o["dept_b"], "name": "matrix key"}),
    row("POST /admin/gateway/departmentapikey/{key_a}/change/", L,   L,    L,    L,    L,    L,    L,    403,  302,
        body={"revoked": "on"}),
    row("POST /admin/gateway/departmentapikey/",               L,    L,    L,    L,    L,    L,    L,    REFUSED_ACTION, 302,
        body=lambda o, r: {"action": "revoke_keys", "_selected_action": o["key_a"], "index": "0"}),
    # --- the catalogue: the regulator manages it; history pages never restore a version
    row("GET /admin/compliance/rule/",                         L,    L,    L,    L,    L,    L,    L,    200,  200),
    row("POST /admin/compliance/rule/{rule}/history/{rule_version}/",
                                                               L,    L,    L,    L,    L,    L,    L,    403,  403,
        body={"points": "-50"}),
]
# fmt: on

# Object placeholders, and what stands in for each in the "does not exist" variant.
NOWHERE = 987654321
UNKNOWN_RESIDENT = factories.identity_number("110101", "19800101", 123)


def objects_of(cast: Cast) -> dict[str, Any]:
    notification = Notification.objects.filter(citizen=cast.alice.citizen).order_by("pk").first()
    assert notification is not None
    return {
        "alice_id": ALICE_ID,
        "citizen_a": cast.alice.citizen_id,
        "open_deduction": cast.open_deduction.pk,
        "pending": cast.pending.pk,
        "decided": cast.decided.pk,
        "under_review": cast.under_review.pk,
        "repair": cast.repair.pk,
        "notification": notification.pk,
        "key_a": DepartmentAPIKey.objects.filter(department=cast.world.dept_a).first().pk,
        "dept_b": cast.world.dept_b.pk,
        "rule": cast.world.rule.pk,
        "rule_version": cast.world.rule.history.order_by("history_id").first().history_id,
        "leaf": bytes(AuditEntry.objects.exclude(sequence=None).order_by("id")[0].leaf_hash).hex(),
    }


def missing_objects(objects: dict[str, Any]) -> dict[str, Any]:
    return {
        name: UNKNOWN_RESIDENT
        if name == "alice_id"
        else "00" * 32
        if name == "leaf"
        else NOWHERE + index
        for index, name in enumerate(objects)
    }


# --- calling as each role --------------------------------------------------------------------

CSRF = "matrixmatrixmatrixmatrixmatrix32"  # a CSRF secret of the right length (32)
PERSONS = {  # role: the cast's account, named as its username
    "citizen_a": "alice",
    "citizen_b": "bob",
    "reviewer": "rev_tax",
    "reviewer_b": "rev_traffic",
    "regulator": "reg",
}


def client_for(cast: Cast, role: str, *, page: bool) -> Client:
    client = (Client if page else APIClient)(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    if role in ("dept_a", "dept_b"):
        key = cast.key_a if role == "dept_a" else cast.key_b
        client.defaults["HTTP_AUTHORIZATION"] = f"Api-Key {key}"
    elif role == "admin":
        client.force_login(cast.admin)
    elif role in PERSONS:
        account = getattr(cast, PERSONS[role])
        if page:
            client.force_login(account.user)
        else:
            client.defaults["HTTP_AUTHORIZATION"] = f"Token {cast.token(account)}"
    client.cookies["csrftoken"] = CSRF
    return client


def call(cast: Cast, role: str, entry: Row, objects: dict[str, Any]):
    method, template = entry.request.split(" ", 1)
    path = template.format(**objects)
    page = not path.startswith("/api/")
    body = entry.body(objects, role) if callable(entry.body) else entry.body
    client = client_for(cast, role, page=page)
    cache.clear()  # rate limits are tested in test_production.py
    if method == "GET":
        return client.get(path)
    if page:
        return client.generic(
            method,
            path,
            _form({**(body or {}), "csrfmiddlewaretoken": CSRF}),
            content_type="application/x-www-form-urlencoded",
        )
    return client.generic(
        method,
        path,
        json.dumps(body) if body is not None else "",
        content_type="application/json",
        HTTP_X_CSRFTOKEN=CSRF,
    )


def _form(data: dict) -> str:
    from urllib.parse import urlencode

    return urlencode(data)


def in_savepoint(function: Callable):
    """Run and roll back: every cell starts from the same state.

    Marked as a test case's block, as django.test.TestCase marks its own, so the
    services' durable transactions (the submission write) may run inside it.
    """
    block = transaction.atomic()
    block._from_testcase = True
    with block:
        result = function()
        transaction.set_rollback(True)
    return result


# --- reading answers -------------------------------------------------------------------------


def outcome_of(response) -> Any:
    if response.status_code == 302:
        location = urlsplit(response["Location"]).path
        return LOGIN if location in ("/portal/login/", "/admin/login/") else 302
    return response.status_code


def _shape(response) -> Any:
    """What a refusal says, less what differs anyway: the path asked for, CSRF tokens."""
    if response.status_code == 302:
        return ("redirect", urlsplit(response["Location"]).path)
    content = response.content.decode("utf-8", "replace")
    if response.get("Content-Type", "").startswith("application/json"):
        return json.loads(content)
    # A page echoes its own path (the language switcher's "next") and a fresh CSRF token.
    content = content.replace(response.wsgi_request.path, "<path>")
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", content)


def _listed_ids(document: Any) -> set:
    """The ids of the items of a list answer (a page's ``results``, or a bare list)."""
    items = document.get("results", []) if isinstance(document, dict) else document
    return {item.get("id") for item in items if isinstance(item, dict)}


def _placeholders(entry: Row) -> bool:
    return "{" in entry.request or callable(entry.body)


# --- the test --------------------------------------------------------------------------------


@pytest.fixture
def cast(world, settings) -> Cast:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    return cast_create(world)


@pytest.mark.parametrize("entry", TABLE, ids=[entry.request for entry in TABLE])
def test_each_role_gets_what_the_table_says(cast, entry):
    objects = objects_of(cast)
    missing = missing_objects(objects)
    wrong = []
    for role in ROLES:
        expected = entry.expect[role]
        response = in_savepoint(lambda role=role: call(cast, role, entry, objects))
        got = outcome_of(response)
        if got != (403 if expected == SEES else expected):
            wrong.append(f"{role}: expected {expected}, got {got} {response.content[:300]!r}")
            continue
        if isinstance(expected, int) and 200 <= expected < 300 and entry.lists:
            name, listed_for = entry.lists
            shown = objects[name] in _listed_ids(json.loads(response.content))
            if shown != (role in listed_for):
                wrong.append(f"{role}: {name} {'shown' if shown else 'not shown'}")
        refused = expected in (401, 403, 404, LOGIN)
        if refused and _placeholders(entry):
            # The same request about an object that does not exist: the same answer.
            other = in_savepoint(lambda role=role: call(cast, role, entry, missing))
            if (other.status_code, _shape(other)) != (response.status_code, _shape(response)):
                wrong.append(
                    f"{role}: the refusal differs for a missing object: "
                    f"{response.status_code} {_shape(response)!r:.200} vs "
                    f"{other.status_code} {_shape(other)!r:.200}"
                )
    assert wrong == [], "\n".join(wrong)


# --- the table covers every door --------------------------------------------------------------

NOT_DOORS = {
    "set_language",  # the language switcher: a cookie, for anyone
    "public-comment",  # comments on a draft rule: public by design (tests/gateway)
    "root",  # a redirect to the portal
}


def _route_names(patterns, namespace: str = "") -> set[str]:
    names = set()
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            if pattern.namespace == "admin":
                continue
            names |= _route_names(pattern.url_patterns, inner)
        elif pattern.name:
            names.add(f"{namespace}{pattern.name}")
    return names


def test_the_table_has_a_row_for_every_route_of_the_api_and_the_portal():
    covered = set()
    for entry in TABLE:
        path = entry.request.split(" ", 1)[1].split("?")[0]
        match = resolve(path.format(**{name: 1 for name in re.findall(r"{(\w+)}", path)}))
        covered.add(f"{match.namespace}:{match.url_name}" if match.namespace else match.url_name)
    routes = _route_names(get_resolver().url_patterns) - NOT_DOORS
    assert routes - covered == set()


# --- key revocation: the operator's, audited; the regulator cannot, by any admin door ----


def _revoke_by_action(client, key) -> None:
    client.post(
        "/admin/gateway/departmentapikey/",
        {"action": "revoke_keys", "_selected_action": key.pk, "index": "0"},
    )


def _revoke_by_form(client, key) -> None:
    client.post(f"/admin/gateway/departmentapikey/{key.pk}/change/", {"revoked": "on"})


@pytest.mark.parametrize("door", [_revoke_by_action, _revoke_by_form])
def test_a_regulator_cannot_revoke_a_key(cast, door):
    key = DepartmentAPIKey.objects.filter(department=cast.world.dept_a).first()
    revocations = AuditEntry.objects.filter(action=AuditAction.KEY_REVOKED).count()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(cast.reg.user)
    door(client, key)
    key.refresh_from_db()
    assert key.revoked is False
    assert AuditEntry.objects.filter(action=AuditAction.KEY_REVOKED).count() == revocations
    assert cast.world.client(cast.key_a).get("/api/v1/repairs").status_code == 200


@pytest.mark.parametrize("door", [_revoke_by_action, _revoke_by_form])
def test_the_operator_revokes_a_key_and_it_is_audited(cast, door):
    key = DepartmentAPIKey.objects.filter(department=cast.world.dept_a).first()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(cast.admin)
    door(client, key)
    key.refresh_from_db()
    assert key.revoked is True
    entry = AuditEntry.objects.filter(action=AuditAction.KEY_REVOKED).last()
    assert entry is not None and entry.actor_id == "admin"
    assert cast.world.client(cast.key_a).get("/api/v1/repairs").status_code == 401
