"""Notice first (CRR 15): a deduction counts in what other departments are told (score
reads and their eligibility answers) only once the resident's notice was delivered and the
notice period passed; the resident's own view counts it at once and says from when it
counts for departments."""

from __future__ import annotations

import datetime as dt
import io
import json
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation

from compliance import law
from gateway.models import Notification, NotificationKind, ScoreEvent
from tests import factories
from tests.gateway.test_repairs import make_residents

SHANGHAI = ZoneInfo("Asia/Shanghai")
ANN_ID = factories.identity_number(serial=601)
SUBMITTED = dt.datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI)
FROM = SUBMITTED + dt.timedelta(days=law.NOTICE_BEFORE_DISCLOSURE_DAYS)
SECOND = dt.timedelta(seconds=1)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def residents(world):
    return make_residents(world)


def frozen(moment: dt.datetime):
    return mock.patch("django.utils.timezone.now", return_value=moment)


def body(response) -> dict:
    return json.loads(response.content)


def deduct(world, finality=None, moment=SUBMITTED) -> ScoreEvent:
    record = factories.deduction_record(ANN_ID)
    if finality:
        record["evidence"]["finality"] = finality
    with frozen(moment):
        response = world.submit(world.key_a, [record])
    assert response.status_code == 201, response.content
    return ScoreEvent.objects.get(pk=body(response)["events"][0]["id"])


def told(world, moment, purpose="licensing_review") -> dict:
    with frozen(moment):
        response = world.client(world.key_a).get(
            f"/api/v1/citizens/{ANN_ID}/score?purpose={purpose}"
        )
    assert response.status_code == 200, response.content
    return body(response)


def own(residents, path, moment) -> dict:
    with frozen(moment):
        response = residents.client(residents.ann).get(path)
    assert response.status_code == 200, response.content
    return body(response)


def test_the_default_period_is_the_laws_constant(settings):
    assert settings.GATEWAY_NOTICE_BEFORE_DISCLOSURE_DAYS == law.NOTICE_BEFORE_DISCLOSURE_DAYS


def test_departments_are_told_only_after_the_notice_period(residents):
    world = residents.world
    event = deduct(world)
    notice = Notification.objects.get(kind=NotificationKind.DEDUCTION_NOTICE, event=event)
    assert notice.created_at == SUBMITTED

    assert told(world, SUBMITTED)["score"] == 100
    assert told(world, FROM - SECOND)["score"] == 100
    assert told(world, FROM - SECOND, "loan_eligibility")["eligibility"] == {
        "civilization_loan": True
    }
    assert told(world, FROM)["score"] == 97
    assert told(world, FROM, "loan_eligibility")["eligibility"] == {"civilization_loan": False}


def test_the_resident_sees_it_at_once_and_from_when_it_counts_for_departments(residents):
    event = deduct(residents.world)
    score = own(residents, "/api/v1/me/score", SUBMITTED + SECOND)
    assert (score["score"], score["score_for_departments"]) == (97, 100)
    shown = own(residents, "/api/v1/me/events", SUBMITTED + SECOND)["results"][0]
    assert shown["id"] == event.pk
    assert shown["counts_for_departments"] is False
    assert shown["not_for_departments"] == "notice_period"
    assert dt.datetime.fromisoformat(shown["counts_for_departments_from"]) == FROM

    later = own(residents, "/api/v1/me/events", FROM)["results"][0]
    assert later["counts_for_departments"] is True and later["not_for_departments"] is None


def test_the_notice_says_from_when_it_is_passed_on(residents):
    deduct(residents.world)
    notice = Notification.objects.get(kind=NotificationKind.DEDUCTION_NOTICE)
    day = FROM.date().isoformat()
    assert notice.payload["counts_for_departments_from"] == day
    assert f"only from {day}" in notice.body and "CRR 15" in notice.body


def test_the_period_is_a_setting(residents, settings):
    settings.GATEWAY_NOTICE_BEFORE_DISCLOSURE_DAYS = 10
    deduct(residents.world)
    assert told(residents.world, SUBMITTED + dt.timedelta(days=10) - SECOND)["score"] == 100
    assert told(residents.world, SUBMITTED + dt.timedelta(days=10))["score"] == 97


def test_a_decision_final_after_the_notice_period_counts_from_its_finality(residents):
    world = residents.world
    event = deduct(world, {"state": "pending", "review_period_ends": "2026-12-10"})
    became_final = dt.datetime(2026, 12, 11, 0, 30, tzinfo=SHANGHAI)
    with frozen(became_final):
        call_command("finalize_events", stdout=io.StringIO())
    assert told(world, became_final - SECOND)["score"] == 100
    assert told(world, became_final)["score"] == 97
    shown = own(residents, "/api/v1/me/events", became_final)["results"][0]
    assert shown["id"] == event.pk
    assert dt.datetime.fromisoformat(shown["counts_for_departments_from"]) == became_final


def test_the_portal_shows_from_when_it_counts_for_departments(residents):
    deduct(residents.world)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(residents.ann.user)
    with frozen(SUBMITTED + SECOND):
        page = client.get(reverse("portal:events")).content.decode()
        home = client.get(reverse("portal:home")).content.decode()
    assert "Counts for departments from 2026-11-30 10:00" in page
    assert "Departments are told a score of 100" in home
    with frozen(FROM + SECOND):
        page = client.get(reverse("portal:events")).content.decode()
    assert "Counts for departments since 2026-11-30" in page
