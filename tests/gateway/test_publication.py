"""Publication versus retention (State Council General Office 2025 No. 22; CRR 16).

Departments see a deduction only within its rule's publication period, counted from the
end of the act on the Asia/Shanghai calendar; the resident sees everything retained; at
the end of retention the expiry command deletes the record's details, the log still
verifies, and the resident is told.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from audit.actions import AuditAction
from audit.models import AuditEntry
from gateway.models import EventStatus, Notification, NotificationKind, ScoreEvent
from tests import factories
from tests.gateway.test_ledger_binding import verify
from tests.gateway.test_repairs import make_residents

SHANGHAI = ZoneInfo("Asia/Shanghai")
ANN_ID = factories.identity_number(serial=601)
CODE = "traffic.published_rule"


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


def frozen(moment: dt.datetime):
    return mock.patch("django.utils.timezone.now", return_value=moment)


def body(response) -> dict:
    return json.loads(response.content)


@pytest.fixture
def residents(world):
    factories.threshold("civilization_loan", 100)
    return make_residents(world)


def published_rule(world, months: int, severity: str = "ordinary"):
    return factories.rule(
        CODE,
        departments=[world.dept_a],
        effective_from=dt.date(2015, 1, 1),
        severity=severity,
        publication_months=months,
    )


def deduct(world, *, submitted: dt.datetime, occurred_at: str, issued_on: str, **more):
    record = factories.deduction_record(ANN_ID, rule=CODE, occurred_at=occurred_at, **more)
    record["evidence"]["issued_on"] = issued_on
    with frozen(submitted):
        response = world.submit(world.key_a, [record])
    assert response.status_code == 201, response.content
    return ScoreEvent.objects.get(pk=body(response)["events"][0]["id"])


def told_to_department(world, moment: dt.datetime) -> int:
    with frozen(moment):
        response = world.client(world.key_a).get(
            f"/api/v1/citizens/{ANN_ID}/score?purpose=licensing_review"
        )
    assert response.status_code == 200, response.content
    return body(response)["score"]


def own(residents, path: str, moment: dt.datetime) -> dict:
    with frozen(moment):
        response = residents.client(residents.ann).get(path)
    assert response.status_code == 200, response.content
    return body(response)


class TestPublicationPeriod:
    def test_a_leap_day_act_is_published_through_28_february_of_the_next_year(self, residents):
        world = residents.world
        published_rule(world, 12)
        deduct(
            world,
            submitted=at(2024, 3, 2, 9),
            occurred_at="2024-02-29T10:00:00+08:00",
            issued_on="2024-03-01",
        )
        assert told_to_department(world, at(2025, 2, 28, 23, 59, 59)) == 97
        assert told_to_department(world, at(2025, 3, 1, 0, 0, 0)) == 100

    def test_an_act_sent_at_minus_08_00_counts_from_its_shanghai_date(self, residents):
        # 20:00 on 10 March in UTC-8 is noon on 11 March in Suzhou: 3 months run to 11 June.
        world = residents.world
        published_rule(world, 3)
        deduct(
            world,
            submitted=at(2024, 3, 12, 9),
            occurred_at="2024-03-10T20:00:00-08:00",
            issued_on="2024-03-11",
        )
        assert told_to_department(world, at(2024, 6, 11, 23, 0)) == 97
        assert told_to_department(world, at(2024, 6, 12, 0, 0, 30)) == 100

    def test_the_period_counts_from_the_end_of_a_continuing_act(self, residents):
        world = residents.world
        published_rule(world, 3)
        deduct(
            world,
            submitted=at(2024, 5, 2, 9),
            occurred_at="2024-01-05T08:00:00+08:00",
            ended_at="2024-04-30T18:00:00+08:00",
            issued_on="2024-05-01",
        )
        assert told_to_department(world, at(2024, 7, 30, 12)) == 97
        assert told_to_department(world, at(2024, 7, 31, 12)) == 100

    def test_a_minor_item_published_for_0_months_is_never_told_to_departments(self, residents):
        world = residents.world
        published_rule(world, 0, severity="minor")
        deduct(
            world,
            submitted=at(2024, 3, 2, 9),
            occurred_at="2024-03-01T10:00:00+08:00",
            issued_on="2024-03-01",
        )
        assert told_to_department(world, at(2024, 4, 2)) == 100
        assert own(residents, "/api/v1/me/score", at(2024, 4, 2))["score"] == 97

    def test_the_resident_sees_everything_retained_and_when_publication_ended(self, residents):
        world = residents.world
        published_rule(world, 12)
        event = deduct(
            world,
            submitted=at(2024, 3, 2, 9),
            occurred_at="2024-02-29T10:00:00+08:00",
            issued_on="2024-03-01",
        )
        within = own(residents, "/api/v1/me/score", at(2025, 2, 28, 12))
        assert (within["score"], within["score_for_departments"]) == (97, 97)
        assert within["eligibility_without_disputed"]["civilization_loan"] is False

        after = own(residents, "/api/v1/me/score", at(2025, 3, 1, 12))
        assert (after["score"], after["score_for_departments"]) == (97, 100)
        assert after["eligibility"]["civilization_loan"] is False
        assert after["eligibility_without_disputed"]["civilization_loan"] is True

        shown = own(residents, "/api/v1/me/events", at(2025, 3, 1, 12))["results"]
        assert [(e["id"], e["status"], e["counts_for_departments"]) for e in shown] == [
            (event.pk, "active", False)
        ]
        assert shown[0]["published_until"] == "2025-02-28"

    def test_a_reward_is_told_to_departments_whatever_the_date(self, residents):
        residents.reward()
        assert told_to_department(residents.world, at(2030, 1, 1)) == 102


class TestRetention:
    def test_after_retention_the_details_are_deleted_the_log_verifies_and_the_resident_is_told(
        self, residents
    ):
        world = residents.world
        published_rule(world, 12)
        event = deduct(
            world,
            submitted=at(2024, 3, 2, 9),
            occurred_at="2024-02-29T10:00:00+08:00",
            issued_on="2024-03-01",
        )
        assert event.data and event.evidence
        # Five years from a leap day end on 28 February (SH 35, CRR 16).
        assert event.expires_at == at(2029, 2, 28, 10)
        with frozen(at(2029, 2, 28, 9, 59)):
            call_command("expire_events", stdout=io.StringIO())
        event.refresh_from_db()
        assert event.evidence and event.status == EventStatus.ACTIVE

        with frozen(at(2029, 2, 28, 10)):
            call_command("expire_events", stdout=io.StringIO())
        event.refresh_from_db()
        assert (event.status, event.data, event.evidence) == (EventStatus.EXPIRED, {}, {})
        assert (event.rule.code, event.points) == (CODE, -3)
        entry = AuditEntry.objects.get(action=AuditAction.EVENT_EXPIRED)
        assert entry.details["removed"] == ["data", "evidence"]
        assert "苏公交决字" not in json.dumps(entry.details, ensure_ascii=False)
        notice = Notification.objects.get(kind=NotificationKind.EVENT_EXPIRED)
        assert notice.event_id == event.pk and "deleted" in notice.body
        assert verify()[0] == 0, verify()[1]

        # Running it again changes nothing more.
        with frozen(at(2029, 3, 1)):
            call_command("expire_events", stdout=io.StringIO())
        assert Notification.objects.filter(kind=NotificationKind.EVENT_EXPIRED).count() == 1
        shown = own(residents, "/api/v1/me/events", at(2029, 3, 1))["results"]
        assert shown[0]["status"] == "expired" and shown[0]["evidence"] == {}
