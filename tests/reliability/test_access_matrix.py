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
import pathlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import get_resolver, resolve
from django.utils import timezone
from rest_framework.test import APIClient

from audit.actions import READ_ACTIONS, AuditAction
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
    # --- automated eligibility answers (PIPL 24): explained to the resident, reviewed by a person
    row("GET /api/v1/me/eligibility/civilization_loan/explanation",
                                                               401,  401,  401,  200,  200,  403,  403,  403,  403),
    row("POST /api/v1/me/eligibility/civilization_loan/review",
                                                               401,  401,  401,  409,  201,  403,  403,  403,  403,
        body={"statement": "Please check."}),
    row("GET /api/v1/me/eligibility-reviews",                  401,  401,  401,  200,  200,  403,  403,  403,  403,
        lists=("eligibility_review", {"citizen_a"})),
    row("GET /api/v1/eligibility-reviews/{eligibility_review}", 401, 401,  401,  200,  404,  200,  404,  200,  403),
    row("POST /api/v1/eligibility-reviews/{eligibility_review}/decision",
                                                               401,  401,  401,  403,  403,  200,  404,  SEES, 403,
        body=DECISION),
    row("GET /api/v1/reviewer/eligibility-reviews",            401,  401,  401,  403,  403,  200,  200,  200,  403,
        lists=("eligibility_review", {"reviewer"})),
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
    row("GET /portal/eligibility/civilization_loan/",          L,    L,    L,    200,  200,  403,  403,  403,  403),
    row("POST /portal/eligibility/civilization_loan/",         L,    L,    L,    409,  302,  403,  403,  403,  403,
        body={"statement": "Please check."}),
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
    row("GET /portal/review/eligibility/{eligibility_review}/", L, L,  L,    403,  403,  200,  404,  200,  403),
    row("POST /portal/review/eligibility/{eligibility_review}/", L, L, L,    403,  403,  302,  404,  SEES, 403,
        body=DECISION),
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
    # --- the logins: the operator reads them (a resident's login audited); nobody edits them
    row("GET /admin/auth/user/{alice_user}/change/",           L,    L,    L,    L,    L,    L,    L,    403,  200),
    row("POST /admin/auth/user/{alice_user}/change/",          L,    L,    L,    L,    L,    L,    L,    403,  403,
        body={"username": "mallory"}),
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
        "alice_user": cast.alice.user_id,
        "open_deduction": cast.open_deduction.pk,
        "pending": cast.pending.pk,
        "decided": cast.decided.pk,
        "under_review": cast.under_review.pk,
        "repair": cast.repair.pk,
        "eligibility_review": cast.eligibility_review.pk,
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


# --- every admin action, for every role ---------------------------------------------------
#
# Enumerated from the admin site: each ModelAdmin's actions (the rule lifecycle's action
# bar, key revocation), Django's ``delete_selected`` and the delete view of every model.
# Who may run each is declared here, from the README's "Roles": ``REGULATOR`` (the
# regulator, and the operator who may everything the regulator may), ``OPERATOR`` (the
# operator alone) or ``NOBODY``. A new action or model fails
# ``test_every_admin_action_is_in_the_matrix`` until it is declared.

REGULATOR, OPERATOR, NOBODY = "regulator", "operator", "nobody"
CONFIRM = "confirm"  # a delete's confirmation page: the role may delete
# An action the role is not offered: the change list again (Django answers 200 when the
# role has no action at all there, else a redirect saying no action was selected).
NOT_OFFERED = "not offered"
# The logins are the operator's to read: the regulator does not open those pages.
NOT_READ_BY_REGULATOR = {"auth.user", "auth.group"}

# (model, action): who may run it.
ADMIN_ACTIONS = {
    ("gateway.departmentapikey", "revoke_keys"): OPERATOR,
    ("compliance.rule", "open_comment"): REGULATOR,
    ("compliance.rule", "publish"): REGULATOR,
    ("compliance.rule", "new_version"): REGULATOR,
    ("compliance.rule", "withdraw"): REGULATOR,
}
# Who may delete rows of each model (Django's delete_selected and the delete view); the
# regulator manages the catalogue, the operator the departments; the audit log, the
# score store, keys, submissions and logins are nobody's to delete.
DELETES = {
    "compliance.rule": REGULATOR,  # a draft; published rules are withdrawn, never deleted
    "compliance.purpose": REGULATOR,
    "compliance.eligibilitythreshold": REGULATOR,
    "compliance.screeningcategory": REGULATOR,
    "compliance.screeningterm": REGULATOR,
    "compliance.screeningpattern": REGULATOR,
    "compliance.workdayoverride": REGULATOR,
    "compliance.publishedschedule": REGULATOR,
    "compliance.department": OPERATOR,
    "compliance.screeningdecoder": NOBODY,  # the engine's formats: switched on and off
    "compliance.screeningrefusal": NOBODY,
    "audit.auditentry": NOBODY,
    "audit.checkpoint": NOBODY,
    "audit.cosignature": NOBODY,
    "audit.verificationrun": NOBODY,
    "gateway.citizen": NOBODY,
    "gateway.score": NOBODY,
    "gateway.scoreevent": NOBODY,
    "gateway.appeal": NOBODY,
    "gateway.repairapplication": NOBODY,
    "gateway.eligibilityreview": NOBODY,
    "gateway.submission": NOBODY,
    "gateway.departmentapikey": NOBODY,
    "auth.user": NOBODY,
    "auth.group": NOBODY,
}
# The rule lifecycle's actions take their dates and reason from the action bar.
ACTION_FIELDS = {
    "open_comment": lambda: {"opens_on": timezone.localdate().isoformat()},
    "publish": lambda: {"effective_from": timezone.localdate().isoformat()},
    "new_version": lambda: {},
    "withdraw": lambda: {"reason": "superseded"},
}
# The object each action is tried on (an object placeholder of objects_of).
ACTION_OBJECT = {
    "revoke_keys": "key_a",
    "open_comment": "draft_rule",
    "publish": "draft_rule",
    "new_version": "rule",
    "withdraw": "rule",
}


def _label(model) -> str:
    return f"{model._meta.app_label}.{model._meta.model_name}"


def _placeholder(label: str) -> str:
    return "row_" + label.replace(".", "_")


def _cells(who: str, allowed, refused_regulator, refused_operator) -> tuple:
    """One outcome per role of ROLES: people without staff access are sent to log in."""
    regulator = allowed if who == REGULATOR else refused_regulator
    operator = allowed if who in (REGULATOR, OPERATOR) else refused_operator
    return (L, L, L, L, L, L, L, regulator, operator)


def _action_body(action: str, placeholder: str):
    def body(objects, role):
        return {
            "action": action,
            "_selected_action": objects[placeholder],
            "index": "0",
            **ACTION_FIELDS.get(action, dict)(),
        }

    return body


def admin_action_rows() -> list[Row]:
    from django.contrib import admin

    rows = []
    for model in sorted(admin.site._registry, key=_label):
        label = _label(model)
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        placeholder = "draft_rule" if label == "compliance.rule" else _placeholder(label)
        unread = 403 if label in NOT_READ_BY_REGULATOR else None
        for (action_model, action), who in sorted(ADMIN_ACTIONS.items()):
            if action_model == label:
                rows.append(
                    row(
                        f"POST {base}",
                        *_cells(who, 302, NOT_OFFERED, NOT_OFFERED),
                        body=_action_body(action, ACTION_OBJECT[action]),
                    )
                )
        who = DELETES.get(label, NOBODY)
        # The rule admin offers no bulk delete: a draft is deleted from its own page.
        bulk = NOBODY if label == "compliance.rule" else who
        rows.append(
            row(
                f"POST {base}",
                *_cells(bulk, CONFIRM, unread or NOT_OFFERED, NOT_OFFERED),
                body=_action_body("delete_selected", placeholder),
            )
        )
        rows.append(
            row(f"GET {base}{{{placeholder}}}/delete/", *_cells(who, 200, unread or SEES, SEES))
        )
    return rows


ADMIN_ACTION_TABLE = admin_action_rows()


def _action_id(entry: Row) -> str:
    if callable(entry.body):
        probe = entry.body({name: 1 for name in _ALL_PLACEHOLDERS}, "admin")
        return f"{entry.request} {probe['action']}"
    return entry.request


def _admin_objects(cast: Cast) -> dict[str, Any]:
    """One row of every model registered in the admin, made where the cast has none."""
    from django.contrib import admin

    from audit.models import Checkpoint, Cosignature
    from audit.services import verification_run
    from compliance import lifecycle
    from compliance.models import PublishedSchedule, Rule, ScreeningRefusal, WorkdayOverride
    from compliance.services import catalogue_object_save

    actor = {"actor_kind": "system", "actor_id": "matrix"}
    if not WorkdayOverride.objects.exists():
        catalogue_object_save(
            WorkdayOverride(date=timezone.localdate().replace(year=2030), is_workday=True),
            **actor,
        )
    if not PublishedSchedule.objects.exists():
        catalogue_object_save(
            PublishedSchedule(year=2031, document="国办发明电〔2030〕1号"), **actor
        )
    if not ScreeningRefusal.objects.exists():
        record = factories.deduction_record(ALICE_ID, data={"note": "血型AB型"})
        assert cast.world.submit(cast.key_a, [record]).status_code == 422
    if not Cosignature.objects.exists():
        Cosignature.objects.create(
            checkpoint=Checkpoint.objects.order_by("id").last(),
            witness_name="matrix.example/witness",
            key_id="00000000",
            timestamp=0,
            signature_line="— matrix.example/witness AAAA",
            received_at=timezone.now(),
        )
    verification_run()
    draft = lifecycle.rule_draft_create(
        code="matrix.draft",
        title_zh="草案",
        title_en="Draft",
        points=-1,
        severity="ordinary",
        legal_basis_law="《中华人民共和国道路交通安全法》",
        legal_basis_article="第九十条",
        effective_from=timezone.localdate(),
        retention_years=1,
        **actor,
    )
    assert draft.status == "draft"
    objects = {"draft_rule": draft.pk}
    for model in admin.site._registry:
        label = _label(model)
        if label == "compliance.rule":
            continue
        first = model.objects.order_by("pk").first()
        assert first is not None, label
        objects[_placeholder(label)] = first.pk
    assert Rule.objects.filter(pk=cast.world.rule.pk).exists()
    return objects


_ALL_PLACEHOLDERS = {"draft_rule", "rule", "key_a"} | {_placeholder(label) for label in DELETES}


def test_every_admin_action_is_in_the_matrix():
    from django.contrib import admin
    from django.contrib.auth import get_user_model
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = get_user_model()(is_superuser=True, is_staff=True, is_active=True)
    offered = set()
    for model, model_admin in admin.site._registry.items():
        for name in model_admin.get_actions(request):
            if name != "delete_selected":
                offered.add((_label(model), name))
        for name in model_admin.actions or ():
            offered.add((_label(model), name if isinstance(name, str) else name.__name__))
    assert offered == set(ADMIN_ACTIONS)
    assert {_label(model) for model in admin.site._registry} == set(DELETES)


@pytest.mark.parametrize("entry", ADMIN_ACTION_TABLE, ids=map(_action_id, ADMIN_ACTION_TABLE))
def test_each_role_may_run_exactly_the_admin_actions_the_table_says(cast, entry):
    objects = {**objects_of(cast), **_admin_objects(cast)}
    missing = missing_objects(objects)
    wrong = []
    for role in ROLES:
        expected = entry.expect[role]
        before = AuditEntry.objects.count()
        response = in_savepoint(lambda role=role: _with_effect(cast, role, entry, objects))
        got, changed = response
        if got != (403 if expected == SEES else expected):
            wrong.append(f"{role}: expected {expected}, got {got}")
            continue
        # A refusal changes nothing; an action run changes what it says (an entry).
        if expected != 302 and changed:
            wrong.append(f"{role}: refused or only asked to confirm, yet something was done")
        # Run, each action leaves its entry; publishing a draft is refused by the
        # lifecycle itself (not in comment), after the role was let through.
        if expected == 302 and not changed and "publish" not in _action_id(entry):
            wrong.append(f"{role}: the action was let through, and nothing was recorded")
        assert AuditEntry.objects.count() == before  # rolled back
        if expected in (401, 403, 404, LOGIN, NOT_OFFERED) and _placeholders(entry):
            other, _ = in_savepoint(lambda role=role: _with_effect(cast, role, entry, missing))
            if other != got:
                wrong.append(f"{role}: a missing object gets {other}, an existing one {got}")
    assert wrong == [], "\n".join(wrong)


def _acts() -> int:
    """Entries of acts: a page's own read entries are not an effect of the action."""
    return AuditEntry.objects.exclude(action__in=[*READ_ACTIONS, AuditAction.ADMIN_LOGIN]).count()


def _with_effect(cast: Cast, role: str, entry: Row, objects: dict) -> tuple[Any, bool]:
    before = _acts()
    response = call(cast, role, entry, objects)
    got = outcome_of(response)
    templates = {t.name for t in response.templates}
    said = [str(m) for m in get_messages(response.wsgi_request)]
    if got == 200 and "admin/delete_selected_confirmation.html" in templates:
        got = CONFIRM
    elif (
        got == 200 and entry.request.startswith("POST") and "admin/change_list.html" in templates
    ) or (got == 302 and "No action selected." in said):
        got = NOT_OFFERED
    return got, _acts() > before


# --- the README's roles table is the matrix's ------------------------------------------------

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"
# The README's role names, and the matrix's column for each.
README_ROLES = {
    "department": "dept_a",
    "resident": "citizen_a",
    "reviewer": "reviewer",
    "regulator": "regulator",
    "operator": "admin",
}
MAY, MAY_NOT = "may", "may not"
ALLOWED = {200, 201, 204, 302, CONFIRM}
REFUSED = {401, 403, 404, LOGIN, SEES, NOT_OFFERED}

_ADMIN_READS = [
    "GET /admin/audit/auditentry/",
    "GET /admin/audit/auditentry/export.csv",
    "GET /admin/gateway/departmentapikey/",
    "GET /admin/gateway/departmentapikey/{key_a}/change/",
    "GET /admin/gateway/citizen/{citizen_a}/change/",
    "GET /admin/gateway/appeal/{pending}/change/",
    "GET /admin/compliance/rule/",
]
_CATALOGUE = [
    "POST /admin/compliance/rule/ open_comment",
    "POST /admin/compliance/rule/ publish",
    "POST /admin/compliance/rule/ new_version",
    "POST /admin/compliance/rule/ withdraw",
    "GET /admin/compliance/rule/{draft_rule}/delete/",
    *(
        f"{method} /admin/compliance/{model}/{suffix}"
        for model in (
            "purpose",
            "eligibilitythreshold",
            "screeningcategory",
            "screeningterm",
            "screeningpattern",
            "workdayoverride",
            "publishedschedule",
        )
        for method, suffix in (
            ("POST", " delete_selected"),
            ("GET", f"{{row_compliance_{model}}}/delete/"),
        )
    ),
]
_KEYS = [
    "GET /admin/gateway/departmentapikey/add/",
    "POST /admin/gateway/departmentapikey/add/",
    "POST /admin/gateway/departmentapikey/{key_a}/change/",
    "POST /admin/gateway/departmentapikey/ revoke_keys",
]
_LOG_AND_STORE = [
    f"{method} /admin/{app}/{model}/{suffix}"
    for app, model in (
        ("audit", "auditentry"),
        ("gateway", "score"),
        ("gateway", "scoreevent"),
        ("gateway", "citizen"),
    )
    for method, suffix in (("POST", " delete_selected"), ("GET", f"{{row_{app}_{model}}}/delete/"))
]
_ADMIN_DOORS = ["GET /admin/audit/auditentry/", "POST /admin/gateway/departmentapikey/ revoke_keys"]
_HISTORY_RESTORE = ["POST /admin/compliance/rule/{rule}/history/{rule_version}/"]

# Each claim of the README's table, as written there: the matrix rows that prove it (for
# the role's column, or for the column given beside the row).
CLAIMS: dict[tuple[str, str, str], list] = {
    ("department", MAY, "submit records under the rules it is granted"): [
        "POST /api/v1/submissions"
    ],
    ("department", MAY, "read scores for the purposes it is granted (each read audited)"): [
        "GET /api/v1/citizens/{alice_id}/score?purpose=licensing_review",
        "POST /api/v1/score-queries",
    ],
    ("department", MAY, "decide credit repairs of its own records"): [
        "GET /api/v1/repairs",
        "POST /api/v1/repairs/{repair}/decision",
    ],
    ("department", MAY_NOT, "see residents' other data, any page of the portal or the admin"): [
        "GET /api/v1/me/score",
        "GET /api/v1/me/events",
        "GET /api/v1/appeals/{pending}",
        "GET /portal/",
        "GET /portal/events/",
        "GET /portal/review/",
        *_ADMIN_DOORS,
    ],
    ("resident", MAY, "read their own score, events, accesses, notices and report"): [
        "GET /api/v1/me/score",
        "GET /api/v1/me/events",
        "GET /api/v1/me/accesses",
        "GET /portal/notifications/",
        "GET /portal/report/",
    ],
    (
        "resident",
        MAY,
        "object to a record, ask for a regulator's review, apply for credit repair",
    ): [
        "POST /api/v1/me/appeals",
        "POST /api/v1/appeals/{decided}/review-request",
        "POST /api/v1/me/repairs",
    ],
    ("resident", MAY_NOT, "see anyone else's data"): [
        ("GET /api/v1/appeals/{pending}", "citizen_b"),
        ("GET /portal/appeals/{pending}/", "citizen_b"),
        ("POST /api/v1/me/appeals", "citizen_b"),
    ],
    ("resident", MAY_NOT, "the admin"): _ADMIN_DOORS,
    (
        "reviewer",
        MAY,
        "read and decide the objections assigned to them (never one about their own "
        "department's record), extend a deadline",
    ): [
        "GET /api/v1/appeals/{pending}",
        "POST /api/v1/appeals/{pending}/decision",
        "POST /api/v1/appeals/{pending}/extension",
        "GET /portal/review/{pending}/",
        "POST /portal/review/{pending}/decision/",
    ],
    ("reviewer", MAY_NOT, "decide appeals not assigned to them"): [
        ("POST /api/v1/appeals/{pending}/decision", "reviewer_b"),
        ("POST /portal/review/{pending}/decision/", "reviewer_b"),
        ("GET /api/v1/appeals/{pending}", "reviewer_b"),
    ],
    ("reviewer", MAY_NOT, "the admin"): _ADMIN_DOORS,
    (
        "regulator",
        MAY,
        "read everything in the admin but the logins (the audit log and its CSV export, "
        "keys, submissions, residents' data: each page audited)",
    ): _ADMIN_READS,
    (
        "regulator",
        MAY,
        "manage the rule catalogue and its lifecycle (the action bar: open for comment, "
        "publish, new version, withdraw), purposes, thresholds, screening policy and "
        "working-day overrides, deleting what the admin offers to delete (each save and "
        "deletion audited)",
    ): _CATALOGUE,
    ("regulator", MAY, "decide appeals escalated to review"): [
        "POST /api/v1/appeals/{under_review}/review"
    ],
    ("regulator", MAY_NOT, "issue or revoke department keys"): _KEYS,
    ("regulator", MAY_NOT, "change the audit log, the score store, appeals or keys"): [
        *_LOG_AND_STORE,
        "POST /admin/gateway/appeal/{pending}/change/",
        "POST /admin/gateway/appeal/ delete_selected",
        "POST /admin/gateway/departmentapikey/ delete_selected",
    ],
    ("regulator", MAY_NOT, "change departments or logins"): [
        "GET /admin/compliance/department/{row_compliance_department}/delete/",
        "POST /admin/compliance/department/ delete_selected",
        "GET /admin/auth/user/{alice_user}/change/",
        "POST /admin/auth/user/{alice_user}/change/",
    ],
    ("regulator", MAY_NOT, "restore an old version from a history page"): _HISTORY_RESTORE,
    ("operator", MAY, "everything the regulator may in the admin"): [*_ADMIN_READS, *_CATALOGUE],
    (
        "operator",
        MAY,
        "issue and revoke department keys (admin or `create_department_key`; each audited, "
        "`KEY_CREATED`/`KEY_REVOKED`)",
    ): _KEYS,
    ("operator", MAY, "add, change and delete departments (each audited)"): [
        "GET /admin/compliance/department/{row_compliance_department}/delete/",
        "POST /admin/compliance/department/ delete_selected",
    ],
    ("operator", MAY, "read the logins (each page showing a resident's login audited)"): [
        "GET /admin/auth/user/{alice_user}/change/"
    ],
    ("operator", MAY_NOT, "change the audit log or the score store"): _LOG_AND_STORE,
    (
        "operator",
        MAY_NOT,
        "change logins or groups in the admin (`create_account` and `createsuperuser` make them)",
    ): [
        "POST /admin/auth/user/{alice_user}/change/",
        "POST /admin/auth/user/ delete_selected",
        "POST /admin/auth/group/ delete_selected",
        "GET /admin/auth/user/{row_auth_user}/delete/",
    ],
    ("operator", MAY_NOT, "restore a version from a history page"): _HISTORY_RESTORE,
    ("operator", MAY_NOT, "the residents' and reviewers' API and pages"): [
        "GET /api/v1/me/score",
        "GET /api/v1/reviewer/appeals",
        "POST /api/v1/appeals/{pending}/decision",
        "GET /portal/",
        "GET /portal/review/",
    ],
}


def _split_claims(cell: str) -> list[str]:
    """A cell's claims: split at ``;`` outside parentheses."""
    claims, depth, current = [], 0, ""
    for char in cell:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == ";" and depth == 0:
            claims.append(current.strip())
            current = ""
        else:
            current += char
    return [claim for claim in [*claims, current.strip()] if claim]


def readme_claims() -> set[tuple[str, str, str]]:
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Roles\n", 1)[1].split("\n## ", 1)[0]
    claims = set()
    for line in section.splitlines():
        match = re.fullmatch(r"\| \*\*(\w+)\*\* \|[^|]*\|([^|]*)\|([^|]*)\|", line.strip())
        if match:
            role, may, may_not = match.groups()
            claims |= {(role, MAY, claim) for claim in _split_claims(may)}
            claims |= {(role, MAY_NOT, claim) for claim in _split_claims(may_not)}
    return claims


def _matrix_rows() -> dict[str, Row]:
    rows = {entry.request: entry for entry in TABLE}
    rows.update({_action_id(entry): entry for entry in ADMIN_ACTION_TABLE})
    return rows


def test_the_readme_roles_table_and_the_matrix_say_the_same():
    claims = readme_claims()
    assert {role for role, _, _ in claims} == set(README_ROLES)
    assert claims - set(CLAIMS) == set(), "a README claim the matrix does not prove"
    assert set(CLAIMS) - claims == set(), "a claim the README no longer makes"
    rows = _matrix_rows()
    wrong = []
    for (role, kind, claim), proofs in CLAIMS.items():
        assert proofs, claim
        for proof in proofs:
            request, column = proof if isinstance(proof, tuple) else (proof, README_ROLES[role])
            assert request in rows, f"no matrix row {request!r} for {claim!r}"
            outcome = rows[request].expect[column]
            if outcome not in (ALLOWED if kind == MAY else REFUSED):
                wrong.append(f"{role} {kind} {claim!r}: {request} is {outcome} for {column}")
    assert wrong == [], "\n".join(wrong)
