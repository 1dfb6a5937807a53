"""POST /api/v1/events/{id}/revocation: a revoked decision stops counting at once and is
removed by the expiry machinery within 3 working days (SH 37)."""

from __future__ import annotations

import datetime as dt
import json
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from audit.actions import AuditAction
from audit.models import AuditEntry
from gateway.models import (
    EventStatus,
    Notification,
    NotificationKind,
    Revocation,
    ScoreEvent,
)
from gateway.services import revocations
from gateway.services.expiry import events_expire
from gateway.services.revocations import Why
from tests import factories
from tests.conftest import body_json

SHANGHAI = ZoneInfo("Asia/Shanghai")
CITIZEN = "320505199003074510"
NOW = dt.datetime(2026, 12, 3, 10, 0, tzinfo=SHANGHAI)  # a Thursday
REVOCATION = {
    "document": "苏府复决字〔2026〕第12号",
    "issued_by": "苏州市人民政府",
    "issued_on": "2026-12-01",
}


def deduct(world) -> ScoreEvent:
    # Recorded, and the resident told, more than the notice period before NOW (CRR 15).
    with mock.patch("django.utils.timezone.now", return_value=NOW - dt.timedelta(days=6)):
        response = world.submit(world.key_a, [factories.deduction_record(CITIZEN)])
    assert response.status_code == 201, response.content
    return ScoreEvent.objects.get(pk=body_json(response)["events"][0]["id"])


def revoke(world, key, event_id, body, moment=NOW):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        return world.client(key).post(
            f"/api/v1/events/{event_id}/revocation",
            json.dumps(body),
            content_type="application/json",
        )


def read_score(world, moment) -> int:
    with mock.patch("django.utils.timezone.now", return_value=moment):
        response = world.client(world.key_a).get(
            f"/api/v1/citizens/{CITIZEN}/score?purpose=licensing_review"
        )
    assert response.status_code == 200, response.content
    return body_json(response)["score"]


def test_a_revoked_decision_stops_counting_at_once_and_is_removed_by_expiry(world):
    event = deduct(world)
    assert read_score(world, NOW) == 97

    response = revoke(world, world.key_a, event.pk, REVOCATION)
    assert response.status_code == 201, response.content
    payload = body_json(response)
    # Thu 3 Dec + 3 working days: Fri 4, Mon 7, Tue 8 December.
    assert payload["removal_due"] == "2026-12-08"
    assert payload["removal_due_computed"] is False
    assert read_score(world, NOW + dt.timedelta(seconds=1)) == 100

    entry = AuditEntry.objects.get(action=AuditAction.EVENT_REVOKED)
    assert entry.actor_id == "traffic_police"
    assert entry.legal_basis == "SH 37"
    assert entry.details["document"] == REVOCATION["document"]
    notice = Notification.objects.get(kind=NotificationKind.EVENT_REVOKED)
    assert "2026-12-08" in notice.body and "SH 37" in notice.body
    assert "第三十七条" in notice.body

    # The daily expiry run removes it from the store, well within the 3 working days.
    result = events_expire(now=NOW + dt.timedelta(hours=14))
    assert result.events == 1
    event.refresh_from_db()
    assert event.status == EventStatus.EXPIRED
    assert not Notification.objects.filter(kind=NotificationKind.EVENT_EXPIRED).exists()
    assert read_score(world, NOW + dt.timedelta(days=1)) == 100


def test_a_removal_due_in_a_computed_year_says_so(world):
    event = deduct(world)
    response = revoke(
        world, world.key_a, event.pk, REVOCATION, dt.datetime(2026, 12, 30, 10, tzinfo=SHANGHAI)
    )
    assert response.status_code == 201
    # Wed 30 Dec: Thu 31, (1 Jan holiday), Mon 4, Tue 5 January 2027.
    assert body_json(response)["removal_due"] == "2027-01-05"
    assert body_json(response)["removal_due_computed"] is True


def test_another_departments_event_is_403_and_changes_nothing(world):
    event = deduct(world)
    response = revoke(world, world.key_b, event.pk, REVOCATION)
    assert response.status_code == 403
    assert body_json(response)["error"] == "not_your_event"
    assert body_json(response)["message"] == str(Why.NOT_YOURS)
    event.refresh_from_db()
    assert event.status == EventStatus.ACTIVE
    assert not Revocation.objects.exists()
    refused = AuditEntry.objects.get(action=AuditAction.EVENT_REVOKED)
    assert refused.details["refused"] == "not_your_event"


def test_malformed_ids_are_404_and_unknown_ones_answer_as_anothers(world):
    for event_id in ("abc", "0", "-1", "99999999999999999999"):
        response = revoke(world, world.key_a, event_id, REVOCATION)
        assert response.status_code == 404, event_id
        assert body_json(response)["error"] == "not_found"
    unknown = revoke(world, world.key_a, "999999", REVOCATION)
    assert unknown.status_code == 403
    assert body_json(unknown)["error"] == "not_your_event"


def test_without_a_key_it_is_401(world):
    event = deduct(world)
    assert revoke(world, None, event.pk, REVOCATION).status_code == 401


TEXT = object()  # Why.TEXT with its limit, formatted in the test's language


@pytest.mark.parametrize(
    ("body", "path", "message"),
    [
        ({**REVOCATION, "document": ""}, "/document", TEXT),
        ({k: v for k, v in REVOCATION.items() if k != "document"}, "/document", Why.REQUIRED),
        ({**REVOCATION, "issued_by": 5}, "/issued_by", TEXT),
        ({**REVOCATION, "issued_on": "1 Dec"}, "/issued_on", Why.DATE),
        ({**REVOCATION, "issued_on": "2026-12-31"}, "/issued_on", Why.FUTURE),
        ({**REVOCATION, "issued_on": "2026-11-01"}, "/issued_on", Why.BEFORE_ACT),
        ({**REVOCATION, "outcome": "cancelled"}, "/outcome", Why.OUTCOME),
        ({**REVOCATION, "reason": "x"}, "/reason", Why.UNKNOWN_FIELD),
    ],
)
def test_bad_input_is_400_naming_the_field_and_nothing_written(world, body, path, message):
    event = deduct(world)
    response = revoke(world, world.key_a, event.pk, body)
    assert response.status_code == 400
    if message is TEXT:
        with translation.override("en"):
            message = Why.TEXT % {"limit": 200}
    assert {"path": path, "message": str(message)} in body_json(response)["problems"]
    assert not Revocation.objects.exists()
    event.refresh_from_db()
    assert event.status == EventStatus.ACTIVE


def test_a_body_that_is_not_an_object_is_400(world):
    event = deduct(world)
    response = revoke(world, world.key_a, event.pk, ["x"])
    assert response.status_code == 400


def test_a_second_revocation_and_a_reward_are_409(world):
    event = deduct(world)
    assert revoke(world, world.key_a, event.pk, REVOCATION).status_code == 201
    again = revoke(world, world.key_a, event.pk, REVOCATION)
    assert again.status_code == 409
    assert body_json(again)["error"] == "not_revocable"
    reward = world.submit(
        world.key_a,
        [
            {
                "citizen_id": CITIZEN,
                "rule": "volunteer.service_hours",
                "occurred_at": "2026-11-20T08:30:00+08:00",
                "evidence": {"reference": "VS-1", "issued_by": "苏州市志愿者总会"},
            }
        ],
    )
    reward_id = body_json(reward)["events"][0]["id"]
    refused = revoke(world, world.key_a, reward_id, REVOCATION)
    assert refused.status_code == 409
    assert body_json(refused)["message"] == str(Why.NOT_A_DEDUCTION)


@pytest.mark.django_db(transaction=True)
def test_a_failure_mid_way_leaves_nothing_half_written(world):
    event = deduct(world)
    entries = AuditEntry.objects.count()
    with (
        mock.patch.object(revocations, "_notify", side_effect=RuntimeError("mail queue down")),
        pytest.raises(RuntimeError),
    ):
        revocations.event_revoke(
            department=world.dept_a, key_id="k", event_id=event.pk, data=REVOCATION, now=NOW
        )
    event.refresh_from_db()
    assert event.status == EventStatus.ACTIVE
    assert event.expires_at > NOW
    assert not Revocation.objects.exists()
    assert AuditEntry.objects.count() == entries
