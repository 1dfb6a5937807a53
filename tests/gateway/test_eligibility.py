"""Eligibility answers leave out disputed deductions (SH 36) and expired events (SH 35)."""

from __future__ import annotations

import datetime as dt
import json
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from audit.actions import AuditAction
from audit.models import AuditEntry
from compliance.models import EligibilityThreshold
from gateway.models import EventStatus
from tests import factories
from tests.conftest import after_notice_period
from tests.gateway.test_repairs import (
    ANN_ID,
    body,
    make_residents,
)


@pytest.fixture
def residents(world):
    return make_residents(world)


EXPIRY = dt.datetime(2031, 11, 20, 8, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


def answers(world, purpose: str = "loan_eligibility", identity: str = ANN_ID) -> dict:
    response = world.client(world.key_a).get(f"/api/v1/citizens/{identity}/score?purpose={purpose}")
    assert response.status_code == 200, response.content
    return body(response)


def test_a_deduction_below_the_threshold_makes_the_resident_ineligible(residents):
    assert answers(residents.world)["eligibility"] == {"civilization_loan": True}
    residents.deduct()
    # Told first (CRR 15): departments learn of it once the notice period has passed.
    assert answers(residents.world)["eligibility"] == {"civilization_loan": True}
    with after_notice_period():
        assert answers(residents.world)["eligibility"] == {"civilization_loan": False}


def test_a_disputed_deduction_does_not_count_against_eligibility(residents):
    event = residents.deduct()
    residents.dispute(event)
    event.refresh_from_db()
    assert event.status == EventStatus.DISPUTED
    assert answers(residents.world)["eligibility"] == {"civilization_loan": True}
    # The score itself still shows it; only eligibility leaves it out (SH 36).
    with after_notice_period():
        disclosed = answers(residents.world, "licensing_review")
    assert disclosed["score"] == 97
    assert disclosed["eligibility"] == {"civilization_loan": True}


def test_an_expired_deduction_no_longer_counts_even_before_the_job(residents):
    # Departments stopped seeing it when its publication ended (2025 No. 22); the
    # resident's own answers count it for as long as it is retained (CRR 16).
    residents.deduct()

    def own_answers():
        response = residents.client(residents.ann).get("/api/v1/me/score")
        return json.loads(response.content)["eligibility"]

    with mock.patch("django.utils.timezone.now", return_value=EXPIRY - dt.timedelta(seconds=1)):
        assert own_answers() == {"civilization_loan": False}
        assert answers(residents.world)["eligibility"] == {"civilization_loan": True}
    with mock.patch("django.utils.timezone.now", return_value=EXPIRY):
        assert own_answers() == {"civilization_loan": True}


def test_a_disputed_deduction_past_its_period_is_not_taken_out_twice(residents):
    residents.deduct()
    residents.dispute(residents.deduct())
    with mock.patch("django.utils.timezone.now", return_value=EXPIRY):
        disclosed = answers(residents.world, "licensing_review")
    assert disclosed["score"] == 100
    assert disclosed["eligibility"] == {"civilization_loan": True}


class TestThresholdAdmin:
    @pytest.fixture
    def admin_client(self, db):
        user = get_user_model().objects.create_superuser("root", "root@example.org", "pw-12345678")
        client = Client()
        client.force_login(user)
        return client

    def test_a_regulator_changes_a_threshold_with_history_and_audit(self, residents, admin_client):
        residents.deduct()
        threshold = EligibilityThreshold.objects.get(code="civilization_loan")
        response = admin_client.post(
            f"/admin/compliance/eligibilitythreshold/{threshold.pk}/change/",
            {
                "code": "civilization_loan",
                "title_zh": "文明贷",
                "title_en": "Civilization loan",
                "minimum_score": 95,
            },
        )
        assert response.status_code == 302
        threshold.refresh_from_db()
        assert threshold.minimum_score == 95
        assert list(
            threshold.history.order_by("history_date").values_list("minimum_score", flat=True)
        ) == [100, 95]
        entry = AuditEntry.objects.filter(action=AuditAction.THRESHOLD_CHANGED).latest("id")
        assert entry.actor_id == "root"
        assert entry.details["fields"] == {"minimum_score": 95}
        assert answers(residents.world)["eligibility"] == {"civilization_loan": True}
        history = admin_client.get(
            f"/admin/compliance/eligibilitythreshold/{threshold.pk}/history/"
        )
        assert history.status_code == 200

    def test_a_threshold_above_200_is_refused(self, world, admin_client):
        threshold = factories.threshold()
        response = admin_client.post(
            f"/admin/compliance/eligibilitythreshold/{threshold.pk}/change/",
            {"code": threshold.code, "title_zh": "x", "title_en": "x", "minimum_score": 201},
        )
        assert response.status_code == 200
        threshold.refresh_from_db()
        assert threshold.minimum_score == 100
