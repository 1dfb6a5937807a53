"""Hostile input to the regulator's admin and to the management commands: never a 500.

Every change list of the admin is asked for with malformed, out-of-range and NUL values
in each of its filters, its search and its paging and ordering parameters, as the
regulator and as the administrator; so is the audit log's CSV export. A malformed filter
gets the change list's own "?e=1" page (a redirect) or a 400; U+0000 anywhere is a 400
before it reaches the database (PostgreSQL cannot hold it). Run on both databases.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.contrib import admin
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from audit.actions import AuditAction
from audit.models import AuditEntry
from compliance.models import Rule
from tests.reliability.cast import Cast, cast_create

pytestmark = pytest.mark.django_db

NUL = "\x00"
GARBAGE = ["abc", NUL, "99999999999999999999"]
DATES = ["0001-01-01 00:00:00+14:00", "9999-12-31 23:59:59-14:00", "2026-W47-5"]
# Parameters every change list understands, and the ones the issue found.
COMMON = {
    "q": [NUL, "x" * 5000, "%", "' OR 1=1 --"],
    "o": ["abc", "999", "-"],
    "p": ["abc", "99999999"],
    "_to_field": ["password"],
}
KNOWN = [
    ("audit", "auditentry", {"action": "abc"}),
    ("audit", "auditentry", {"action__exact": "abc"}),
    ("audit", "auditentry", {"leaf_hash": "abc"}),
    ("gateway", "citizen", {"identity_ciphertext__startswith": "a"}),
    ("audit", "auditentry", {"sequence__gte": "zz"}),
    ("audit", "auditentry", {"actor_kind": NUL}),
    ("audit", "auditentry", {"q": NUL}),
]


@pytest.fixture
def cast(world, settings) -> Cast:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    return cast_create(world)


def sessions(cast: Cast) -> dict[str, Client]:
    clients = {}
    for role, user in (("regulator", cast.reg.user), ("admin", cast.admin)):
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(user)
        clients[role] = client
    return clients


def hostile_queries(model_admin) -> list[dict[str, str]]:
    model = model_admin.model
    names = {field.name for field in model._meta.concrete_fields}
    names |= {field.attname for field in model._meta.concrete_fields}
    for spec in model_admin.list_filter:
        if isinstance(spec, str):
            names.add(spec)
        elif isinstance(spec, tuple):
            names.add(spec[0])
        else:
            names.add(spec.parameter_name)
    queries = [{name: value} for name, values in COMMON.items() for value in values]
    for name in sorted(names):
        queries += [{name: value} for value in GARBAGE]
        queries.append({f"{name}__exact": "abc", f"{name}__gte": "zz"})
        queries.append({f"{name}__isnull": "maybe"})
        queries += [{f"{name}__gte": value, f"{name}__lt": value} for value in DATES]
    return queries


def assert_not_a_server_error(response, url: str) -> None:
    assert response.status_code < 500, url
    if response.status_code == 400:
        assert b"Traceback" not in response.content


def changelists():
    return sorted(
        (model._meta.app_label, model._meta.model_name, model_admin)
        for model, model_admin in admin.site._registry.items()
    )


@pytest.mark.parametrize(
    ("app", "model"),
    [(app, model) for app, model, _ in changelists()],
    ids=[f"{app}.{model}" for app, model, _ in changelists()],
)
def test_no_filter_search_or_paging_value_gives_a_500(cast, app, model):
    model_admin = next(ma for a, m, ma in changelists() if (a, m) == (app, model))
    url = reverse(f"admin:{app}_{model}_changelist")
    clients = list(sessions(cast).items())
    for number, query in enumerate(hostile_queries(model_admin)):
        # The regulator and the administrator take turns: both see the same change lists.
        role, client = clients[number % len(clients)]
        full = f"{url}?{urlencode(query)}"
        assert_not_a_server_error(client.get(full), f"{role} {full!r}")


@pytest.mark.parametrize(("app", "model", "query"), KNOWN)
def test_the_reported_filters_are_refused_or_redirected(cast, app, model, query):
    url = reverse(f"admin:{app}_{model}_changelist")
    client = sessions(cast)["regulator"]
    response = client.get(url, query)
    if any(NUL in value for value in query.values()):
        assert response.status_code == 400
        assert "U+0000" in response.content.decode()
    elif response.status_code != 400:  # a lookup on no declared filter
        # The change list's own answer to a filter it cannot apply: its error page.
        assert response.status_code == 302
        assert response["Location"].endswith("?e=1")


@pytest.mark.parametrize(
    "query",
    [
        {"action": "abc"},
        {"sequence__gte": "zz"},
        {"q": NUL},
        {"actor_kind": NUL},
        {"department": NUL},
    ],
)
def test_a_malformed_export_filter_is_a_400_and_exports_nothing(cast, query):
    client = sessions(cast)["regulator"]
    exports_before = AuditEntry.objects.filter(action=AuditAction.AUDIT_EXPORTED).count()
    response = client.get(reverse("admin:audit_auditentry_export"), query)
    assert response.status_code == 400, response.content
    assert AuditEntry.objects.filter(action=AuditAction.AUDIT_EXPORTED).count() == exports_before
    for value in query.values():
        if value.strip():
            assert value not in response.content.decode()


@pytest.mark.parametrize("moment", ["0001-01-01 00:00:00+14:00", "9999-12-31 23:59:59-14:00"])
def test_a_far_off_date_filter_exports_without_error(cast, moment):
    client = sessions(cast)["regulator"]
    response = client.get(reverse("admin:audit_auditentry_export"), {"recorded_at__gte": moment})
    if response.status_code == 200:
        lines = b"".join(response.streaming_content).decode().splitlines()
        assert lines[0].startswith("sequence,")
    else:
        assert response.status_code == 400


def test_a_well_formed_export_filter_still_exports(cast):
    client = sessions(cast)["regulator"]
    response = client.get(
        reverse("admin:audit_auditentry_export"), {"action": AuditAction.SCORE_READ_BY_DEPARTMENT}
    )
    assert response.status_code == 200
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith("sequence,")


@pytest.mark.parametrize("role", ["regulator", "admin"])
def test_a_post_to_a_history_page_is_refused_and_changes_nothing(cast, role):
    rule = Rule.objects.order_by("pk").first()
    version = rule.history.order_by("history_id").first()
    url = reverse("admin:compliance_rule_simple_history", args=[rule.pk, version.history_id])
    client = sessions(cast)[role]
    assert client.get(url).status_code == 200
    before = {f.name: getattr(rule, f.name) for f in Rule._meta.concrete_fields}
    response = client.post(url, {"code": rule.code, "title_zh": "改", "points": "-50"})
    assert response.status_code == 403
    rule.refresh_from_db()
    assert {f.name: getattr(rule, f.name) for f in Rule._meta.concrete_fields} == before


def test_a_nul_in_a_portal_query_or_form_is_a_400(cast):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(cast.alice.user)
    assert client.get("/portal/events/", {"page": NUL}).status_code == 400
    assert client.post("/portal/login/", {"username": NUL, "password": "x"}).status_code == 400
    assert client.get("/catalogue/", {"q": "a\x00"}).status_code == 400


# --- date filters: calendar dates and RFC 3339 instants within 1949 to 2100 ---------------

NOT_STRICT = [
    "2026-W47-5",  # a week date, which Python's own parser takes
    "2026-324",  # an ordinal date
    "20261120",
    "2026-11-20T10:00:00",  # no offset
    "2026-11-20T10:00:00+08:00:30.5",
    "1948-12-31",
    "2101-01-01 00:00:00+08:00",
    "0001-01-01 00:00:00+14:00",
]
# What the admin's own date filters send, and the other forms RFC 3339 allows.
STRICT = ["2026-11-20 00:00:00+08:00", "2026-11-20", "2026-11-20T10:00:00Z"]
DATE_FILTERS = [
    ("admin:audit_auditentry_changelist", "recorded_at__gte"),
    ("admin:audit_auditentry_changelist", "recorded_at__date"),
    ("admin:compliance_workdayoverride_changelist", "date__lt"),
    ("admin:gateway_scoreevent_changelist", "occurred_at"),
    ("admin:audit_auditentry_export", "recorded_at__lt"),
]


@pytest.mark.parametrize(("page", "name"), DATE_FILTERS)
@pytest.mark.parametrize("value", NOT_STRICT)
def test_a_date_filter_that_is_not_strict_is_a_400(cast, page, name, value):
    client = sessions(cast)["regulator"]
    exports_before = AuditEntry.objects.filter(action=AuditAction.AUDIT_EXPORTED).count()
    response = client.get(reverse(page), {name: value})
    assert response.status_code == 400, response.content
    assert "RFC 3339" in response.content.decode()
    assert AuditEntry.objects.filter(action=AuditAction.AUDIT_EXPORTED).count() == exports_before


STRICT_FILTERS = (
    [("admin:audit_auditentry_changelist", "recorded_at__gte", value) for value in STRICT]
    + [("admin:audit_auditentry_export", "recorded_at__lt", value) for value in STRICT]
    + [
        ("admin:audit_auditentry_changelist", "recorded_at__date", "2026-11-20"),
        ("admin:compliance_workdayoverride_changelist", "date__lt", "2026-11-20"),
    ]
)


@pytest.mark.parametrize(("page", "name", "value"), STRICT_FILTERS)
def test_a_strict_date_filter_passes_the_rule(cast, page, name, value):
    response = sessions(cast)["regulator"].get(reverse(page), {name: value})
    assert response.status_code < 500
    # Not refused for its date (the change list may still refuse a filter it does not offer).
    content = b"" if response.streaming else response.content
    assert b"RFC 3339" not in content
