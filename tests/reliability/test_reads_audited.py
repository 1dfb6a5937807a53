"""Every admin or portal page that shows a resident's data leaves an entry the resident sees.

The pages are enumerated, not listed by hand: every model registered in the admin site,
every URL its ModelAdmin serves (``get_urls()``: change list, change page, history page,
django-simple-history's per-version page, delete confirmation, add page and the custom
views), and every URL of the portal's URLconf. Each model and each portal page is
classified below, as holding a resident's data (with the demo resident's object to
visit it with) or not (with the reason); a model or page added without a class fails
``test_every_admin_model_and_portal_page_is_classified``.

Each page holding a resident's data is visited, with alice's object, by every role that
may open it (the regulator and the operator in the admin; the resident, the reviewer and
the regulator in the portal). A page that answers 200 must have left a new audit entry
about alice, and alice must then find that entry in her "who saw my data"
(``GET /api/v1/me/accesses``; her own reads with ``include_own``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest
from django.contrib import admin
from django.core.cache import cache
from django.test import Client
from django.urls import URLPattern, URLResolver, reverse

from audit.actions import ActorKind
from audit.models import AuditEntry
from gateway.models import Score
from gateway.portal import urls as portal_urls
from tests.gateway.people import ALICE_ID
from tests.reliability.cast import Cast, cast_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(world, settings) -> Cast:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    return cast_create(world)


# --- the classification ------------------------------------------------------------------

# Admin models holding a resident's data: the demo resident's (alice's) object.
ADMIN_RESIDENT_DATA = {
    "gateway.citizen": lambda cast: cast.alice.citizen,
    "gateway.score": lambda cast: Score.objects.get(citizen=cast.alice.citizen),
    "gateway.scoreevent": lambda cast: cast.pending.event,
    "gateway.appeal": lambda cast: cast.under_review,
    "gateway.repairapplication": lambda cast: cast.repair,
    # A request for a person to review an automated eligibility answer, with its statement.
    "gateway.eligibilityreview": lambda cast: cast.eligibility_review,
    # A resident's login: username and e-mail address.
    "auth.user": lambda cast: cast.alice.user,
    # "Who saw my data" itself: the entries about the resident (a blind index and closed
    # values, yet a record of what was done about whom).
    "audit.auditentry": lambda cast: (
        AuditEntry.objects.filter(subject=cast.alice.citizen.identity_index).order_by("id").last()
    ),
}

ADMIN_NO_RESIDENT_DATA = {
    "auth.group": "groups of staff permissions",
    "audit.checkpoint": "a tree size, a root hash and the signed note",
    "audit.cosignature": "a witness's signature over a checkpoint",
    "audit.verificationrun": "the outcome of a verification of the whole log",
    "compliance.department": "a department's names and settings",
    "compliance.rule": "the rule catalogue and the public's comments on drafts",
    "compliance.eligibilitythreshold": "catalogue thresholds",
    "compliance.purpose": "catalogue purposes",
    "compliance.screeningcategory": "the screening policy",
    "compliance.screeningterm": "the screening policy",
    "compliance.screeningpattern": "the screening policy",
    "compliance.screeningdecoder": "the screening policy",
    "compliance.workdayoverride": "the working-day calendar",
    "compliance.publishedschedule": "the working-day calendar",
    # A refused submission is stored without its records: department, categories and
    # positions only (compliance.models.ScreeningRefusal), nothing naming a resident.
    "compliance.screeningrefusal": "department, categories and paths; the records are not kept",
    # An accepted batch's department, the keyed digest of its idempotency key and a count;
    # its records are ledger events, shown (and audited) on their own pages.
    "gateway.submission": "department, key digest and record count; no record content",
    "gateway.departmentapikey": "a department's keys",
}

# What each URL of a ModelAdmin is, by its name's ending (Django's and simple-history's).
GENERIC_PAGES = {
    "changelist": "{base}",
    "change": "{base}{pk}/change/",
    "history": "{base}{pk}/history/",
    "simple_history": "{base}{pk}/history/{version}/",
    "delete": "{base}{pk}/delete/",
}
# URLs of a ModelAdmin that show no existing object.
GENERIC_NOT_PAGES = {
    "add": "an empty form for a new object",
    None: "the unnamed <object_id>/ URL only redirects to the change page",
}
# The custom views (a ModelAdmin's own get_urls()), by URL name: how to open each, as
# (method, path template, form data).
CUSTOM_PAGES = {
    "audit_auditentry_export": ("GET", "{base}export.csv?subject={subject}", None),
    "audit_auditentry_export:all": ("GET", "{base}export.csv", None),
    # The resident search posts the number and redirects to the filtered change list.
    "audit_auditentry_resident": ("POST", "{base}resident/", {"identity_number": "{identity}"}),
    "auth_user_password_change": ("GET", "{base}{pk}/password/", None),
}

# Portal pages showing a resident's data: who may open them, and the path with alice's
# objects.
PORTAL_RESIDENT_DATA = {
    "home": (("citizen_a",), "/portal/"),
    "events": (("citizen_a",), "/portal/events/"),
    "appeal-file": (("citizen_a",), "/portal/events/{open_deduction}/objection/"),
    "repair-apply": (("citizen_a",), "/portal/events/{open_deduction}/repair/"),
    "repairs": (("citizen_a",), "/portal/repairs/"),
    "accesses": (("citizen_a",), "/portal/accesses/"),
    "appeals": (("citizen_a",), "/portal/appeals/"),
    "appeal": (("citizen_a",), "/portal/appeals/{pending}/"),
    "notifications": (("citizen_a",), "/portal/notifications/"),
    "report": (("citizen_a",), "/portal/report/"),
    "queue": (("reviewer", "regulator"), "/portal/review/"),
    "review": (("reviewer", "regulator"), "/portal/review/{pending}/"),
    "eligibility": (("citizen_a",), "/portal/eligibility/civilization_loan/"),
    "eligibility-review": (("reviewer",), "/portal/review/eligibility/{eligibility_review}/"),
}
PORTAL_NO_RESIDENT_DATA = {
    "login": "the login form",
    "logout": "logs out and redirects to the login form",
    # Acts: each redirects to a page above, or on a refusal renders that page (its read
    # recorded by the same service call).
    "notification-read": "marks a notice read, then redirects to the notifications page",
    "decide": "records a decision, then redirects to the queue (or shows the review page)",
    "extend": "extends a deadline, then redirects to the review page",
}


def _model_key(model) -> str:
    return f"{model._meta.app_label}.{model._meta.model_name}"


def _portal_names() -> set[str]:
    return {p.name for p in portal_urls.urlpatterns if isinstance(p, URLPattern)}


def _url_kind(model, pattern) -> str | None:
    prefix = f"{model._meta.app_label}_{model._meta.model_name}_"
    if pattern.name is None:
        return None
    if pattern.name in CUSTOM_PAGES:
        return pattern.name
    kind = pattern.name.removeprefix(prefix)
    return kind if kind in GENERIC_PAGES or kind in GENERIC_NOT_PAGES else pattern.name


def test_every_admin_model_and_portal_page_is_classified():
    registered = {_model_key(model) for model in admin.site._registry}
    declared = set(ADMIN_RESIDENT_DATA) | set(ADMIN_NO_RESIDENT_DATA)
    assert registered - declared == set(), "classify these admin models"
    assert declared - registered == set(), "these are no longer in the admin"
    assert set(ADMIN_RESIDENT_DATA).isdisjoint(ADMIN_NO_RESIDENT_DATA)
    unknown = set()
    for model, model_admin in admin.site._registry.items():
        for pattern in model_admin.get_urls():
            assert isinstance(pattern, URLPattern | URLResolver)
            kind = _url_kind(model, pattern)
            if not ({kind} & (set(GENERIC_PAGES) | set(GENERIC_NOT_PAGES) | set(CUSTOM_PAGES))):
                unknown.add(f"{_model_key(model)}: {pattern.pattern}")
    assert unknown == set(), "classify these admin views in CUSTOM_PAGES"
    portal = _portal_names()
    declared = set(PORTAL_RESIDENT_DATA) | set(PORTAL_NO_RESIDENT_DATA)
    assert portal - declared == set(), "classify these portal pages"
    assert declared - portal == set(), "these are no longer in the portal"


# --- visiting --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Visit:
    role: str
    method: str
    path: str
    data: dict | None = None


def _admin_visits(cast: Cast) -> list[tuple[str, str, Visit]]:
    """(page, kind, visit) for every page of every admin model holding resident data."""
    visits = []
    for model, model_admin in admin.site._registry.items():
        key = _model_key(model)
        if key not in ADMIN_RESIDENT_DATA:
            continue
        obj = ADMIN_RESIDENT_DATA[key](cast)
        assert obj is not None, key
        history = getattr(model, "history", None)
        mine = {model._meta.pk.attname: obj.pk}
        version = history.filter(**mine).order_by("history_id").first() if history else None
        values = {
            "base": reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"),
            "pk": obj.pk,
            "version": version.history_id if version is not None else 1,
            "subject": cast.alice.citizen.identity_index,
            "identity": ALICE_ID,
        }
        names = {_url_kind(model, pattern) for pattern in model_admin.get_urls()}
        if "audit_auditentry_export" in names:
            names.add("audit_auditentry_export:all")
        for kind in sorted(filter(None, names)):
            if kind in GENERIC_NOT_PAGES:
                continue
            if kind in GENERIC_PAGES:
                method, template, data = "GET", GENERIC_PAGES[kind], None
            else:
                method, template, data = CUSTOM_PAGES[kind]
            path = template.format(**values)
            if data is not None:
                data = {name: value.format(**values) for name, value in data.items()}
            for role in ("regulator", "operator"):
                visits.append((key, kind, Visit(role, method, path, data)))
    return visits


def _client(cast: Cast, role: str) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    user = {
        "operator": cast.admin,
        "regulator": cast.reg.user,
        "reviewer": cast.rev_tax.user,
        "citizen_a": cast.alice.user,
    }[role]
    client.force_login(user)
    return client


def _accesses_seen_by_alice(cast: Cast) -> set[tuple[str, int, str]]:
    """What alice's "who saw my data" lists: (time, action, role) of each entry."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(cast.alice.user)
    seen = set()
    offset = 0
    while True:
        response = client.get(
            "/api/v1/me/accesses", {"include_own": "1", "limit": 100, "offset": offset}
        )
        assert response.status_code == 200, response.content
        page = json.loads(response.content)
        seen |= {(r["time"], r["what"]["code"], r["role"]) for r in page["results"]}
        offset += 100
        if offset >= page["count"]:
            return seen


def _visit(cast: Cast, visit: Visit):
    client = _client(cast, visit.role)
    cache.clear()
    if visit.method == "GET":
        response = client.get(visit.path)
    else:
        response = client.post(visit.path, visit.data or {}, follow=True)
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)
    return response


def _entries_about_alice_after(cast: Cast, last_id: int) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(
            id__gt=last_id, subject=cast.alice.citizen.identity_index
        ).order_by("id")
    )


def _check(cast: Cast, visit: Visit, problems: list[str], label: str) -> int:
    last_id = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    response = _visit(cast, visit)
    if response.status_code in (403,):
        return response.status_code  # nothing shown
    if response.status_code != 200:
        problems.append(f"{label}: {visit.role} got {response.status_code}")
        return response.status_code
    new = _entries_about_alice_after(cast, last_id)
    if not new:
        problems.append(f"{label}: {visit.role} was shown alice's data, and no entry about her")
        return 200
    seen = _accesses_seen_by_alice(cast)
    role = {"operator": ActorKind.ADMIN}.get(visit.role, visit.role)
    mine = [e for e in new if e.actor_kind == role or visit.role == "citizen_a"]
    if not any((e.recorded_at.isoformat(), e.action, e.actor_kind) in seen for e in mine):
        problems.append(f"{label}: {visit.role}'s read is not in alice's accesses")
    return 200


def test_every_admin_page_showing_a_resident_leaves_an_entry_she_sees(cast):
    problems: list[str] = []
    answered: dict[tuple[str, str, str], int] = {}
    for key, kind, visit in _admin_visits(cast):
        label = f"{visit.method} {visit.path} ({key} {kind})"
        answered[(key, kind, visit.role)] = _check(cast, visit, problems, label)
    assert problems == [], "\n".join(problems)
    # The walk reached the pages: the operator opened every change list, change page
    # and history page of those models (a page refused to everyone proves nothing).
    for key in ADMIN_RESIDENT_DATA:
        for kind in ("changelist", "change", "history"):
            assert answered[(key, kind, "operator")] == 200, (key, kind)


def test_every_portal_page_showing_a_resident_leaves_an_entry_she_sees(cast):
    objects = {
        "open_deduction": cast.open_deduction.pk,
        "pending": cast.pending.pk,
        "eligibility_review": cast.eligibility_review.pk,
    }
    problems: list[str] = []
    for name, (roles, template) in PORTAL_RESIDENT_DATA.items():
        path = template.format(**objects)
        assert re.fullmatch(r"[\w/-]+", path)
        for role in roles:
            status = _check(cast, Visit(role, "GET", path), problems, f"GET {path} ({name})")
            if status != 200:
                problems.append(f"GET {path}: {role} got {status}")
    assert problems == [], "\n".join(problems)
