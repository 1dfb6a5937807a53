"""The rule lifecycle's action bar in the admin: its dates are ISO 8601 calendar dates
within 1949 to 2100, as at every other door; anything else is a message on the page and
nothing done, never a server error."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from audit.actions import AuditAction
from audit.models import AuditEntry
from compliance import lifecycle
from compliance.dates import EARLIEST_YEAR, LATEST_YEAR
from compliance.models import Rule, RuleStatus

pytestmark = pytest.mark.django_db

ACTOR = {"actor_kind": "system", "actor_id": "test"}
BAD_DATES = [
    "0001-01-01",
    "9999-12-31",
    f"{EARLIEST_YEAR - 1}-12-31",
    f"{LATEST_YEAR + 1}-01-01",
    "2026-W47-5",  # an ISO week date
    "2026-335",  # an ordinal date
    "12/01/2026",
    "2026-02-30",
    "２０２６-１２-０１",  # full-width digits
    "2026-12-01T00:00",
    "x" * 300,
]
# (action, the date field of the action bar, the rule it is tried on)
DATE_FIELDS = [
    ("open_comment", "opens_on", "draft"),
    ("open_comment", "closes_on", "draft"),
    ("publish", "effective_from", "in_comment"),
    ("new_version", "effective_from", "published"),
]


@pytest.fixture
def regulator(world):
    from gateway.services.accounts import account_create

    account = account_create(role="regulator", username="reg", password="a long passphrase 42")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(account.user)
    return client


def _draft(code: str) -> Rule:
    return lifecycle.rule_draft_create(
        code=code,
        title_zh="草案",
        title_en="Draft",
        points=-1,
        severity="ordinary",
        legal_basis_law="《中华人民共和国道路交通安全法》",
        legal_basis_article="第九十条",
        effective_from=timezone.localdate() + dt.timedelta(days=60),
        retention_years=1,
        **ACTOR,
    )


@pytest.fixture
def rules(world):
    today = timezone.localdate()
    in_comment = _draft("bar.in_comment")
    lifecycle.rule_open_comment(
        rule=in_comment, opens_on=today, closes_on=today + dt.timedelta(days=6), **ACTOR
    )
    in_comment.refresh_from_db()
    return {"draft": _draft("bar.draft"), "in_comment": in_comment, "published": world.rule}


def _act(client, action, rule, **fields):
    return client.post(
        "/admin/compliance/rule/",
        {"action": action, "_selected_action": [rule.pk], "index": 0, **fields},
    )


def _said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.mark.parametrize("value", BAD_DATES)
@pytest.mark.parametrize(("action", "field", "state"), DATE_FIELDS)
def test_a_date_outside_the_span_or_not_a_calendar_date_is_a_message(
    regulator, rules, action, field, state, value
):
    rule = rules[state]
    before = (Rule.objects.count(), AuditEntry.objects.count())
    response = _act(regulator, action, rule, **{field: value})
    assert response.status_code == 302
    said = _said(response)
    assert any(
        f"within the years {EARLIEST_YEAR} to {LATEST_YEAR}" in message for message in said
    ), said
    assert all(value not in message for message in said)
    stored = Rule.objects.get(pk=rule.pk)
    assert (stored.status, stored.version) == (rule.status, rule.version)
    assert (Rule.objects.count(), AuditEntry.objects.count()) == before


def test_the_span_s_last_day_is_a_date_the_action_takes(regulator, rules):
    published = rules["published"]
    response = _act(regulator, "new_version", published, effective_from=f"{LATEST_YEAR}-12-31")
    assert response.status_code == 302
    version = Rule.objects.get(code=published.code, version=published.version + 1)
    assert version.status == RuleStatus.DRAFT
    assert version.effective_from == dt.date(LATEST_YEAR, 12, 31)
    assert AuditEntry.objects.filter(action=AuditAction.RULE_TRANSITIONED).exists()


def test_a_well_formed_date_in_the_span_opens_the_comment(regulator, rules):
    today = timezone.localdate()
    draft = rules["draft"]
    closes = today + dt.timedelta(days=10)
    response = _act(
        regulator, "open_comment", draft, opens_on=today.isoformat(), closes_on=closes.isoformat()
    )
    assert response.status_code == 302, _said(response)
    draft.refresh_from_db()
    assert (draft.status, draft.comment_closes_on) == (RuleStatus.COMMENT, closes)


def test_the_administrator_gets_the_same_message(world, rules):
    admin = get_user_model().objects.create_superuser("root", "root@example.org", "pw-12345678")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(admin)
    response = _act(client, "publish", rules["in_comment"], effective_from="9999-12-31")
    assert response.status_code == 302
    assert any("within the years" in message for message in _said(response))
