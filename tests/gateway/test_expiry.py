"""Expiry (SH 35, ZJ 16, CRR 16): reads by the clock, and `manage.py expire_events`."""

from __future__ import annotations

import datetime as dt
import io
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.actions import AuditAction
from audit.models import AuditEntry
from gateway.models import EventKind, EventStatus, Notification, NotificationKind, ScoreEvent
from gateway.services.expiry import events_expire
from gateway.services.notices import notice_text
from tests import factories
from tests.gateway.test_repairs import (
    ANN_ID,
    body,
    make_residents,
    score_of,
)


@pytest.fixture
def residents(world):
    return make_residents(world)


SHANGHAI = ZoneInfo("Asia/Shanghai")
# factories.deduction_record's act, 2026-11-20 08:30 in Suzhou, is served for 5 years.
EXPIRY = dt.datetime(2031, 11, 20, 8, 30, tzinfo=SHANGHAI)
SECOND = dt.timedelta(seconds=1)


def frozen(moment: dt.datetime):
    return mock.patch("django.utils.timezone.now", return_value=moment)


def read_score(world, identity: str = ANN_ID) -> int:
    response = world.client(world.key_a).get(
        f"/api/v1/citizens/{identity}/score?purpose=licensing_review"
    )
    assert response.status_code == 200, response.content
    return body(response)["score"]


def expire(at: dt.datetime, *args: str) -> str:
    out = io.StringIO()
    with frozen(at):
        call_command("expire_events", *args, stdout=out)
    return out.getvalue()


class TestByTheClock:
    def test_a_deduction_stops_counting_the_moment_its_period_ends(self, residents):
        event = residents.deduct()
        assert event.expires_at == EXPIRY
        own = residents.client(residents.ann)
        with frozen(EXPIRY - SECOND):
            # Retained, so the resident's score counts it; its publication to
            # departments ended long before (2025 No. 22).
            assert body(own.get("/api/v1/me/score"))["score"] == 97
            assert read_score(residents.world) == 100
        with frozen(EXPIRY):
            # Before expire_events runs: the store still holds it, reads never count it.
            assert read_score(residents.world) == 100
            assert body(residents.client(residents.ann).get("/api/v1/me/score"))["score"] == 100
        event.refresh_from_db()
        assert event.status == EventStatus.ACTIVE
        assert score_of() == 97

    def test_expire_events_makes_the_store_agree_and_tells_the_resident(self, residents):
        event = residents.deduct()
        output = expire(EXPIRY)
        assert "expired 1 event(s)" in output
        event.refresh_from_db()
        assert event.status == EventStatus.EXPIRED
        assert score_of() == 100
        with frozen(EXPIRY + SECOND):
            assert read_score(residents.world) == 100

        entry = AuditEntry.objects.get(action=AuditAction.EVENT_EXPIRED)
        assert entry.subject == event.citizen.identity_index
        assert entry.object_ref == f"event:{event.pk}"
        assert entry.details["points"] == -3
        assert "SH 35" in entry.legal_basis

        notice = Notification.objects.get(kind=NotificationKind.EVENT_EXPIRED)
        assert notice.event_id == event.pk
        assert "2031-11-20" in notice_text(notice, "zh-hans")[1]
        assert "no longer counts" in notice_text(notice, "en")[1]

    def test_running_it_again_changes_nothing(self, residents):
        residents.deduct()
        expire(EXPIRY)
        counts = (AuditEntry.objects.count(), Notification.objects.count(), score_of())
        assert "expired 0 event(s)" in expire(EXPIRY + dt.timedelta(days=1))
        assert (AuditEntry.objects.count(), Notification.objects.count(), score_of()) == counts

    def test_nothing_expires_early(self, residents):
        event = residents.deduct()
        later = residents.deduct(occurred_at="2026-11-21T08:30:00+08:00")
        expire(EXPIRY - SECOND)
        event.refresh_from_db()
        assert event.status == EventStatus.ACTIVE
        expire(EXPIRY)
        event.refresh_from_db()
        later.refresh_from_db()
        assert (event.status, later.status) == (EventStatus.EXPIRED, EventStatus.ACTIVE)
        assert score_of() == 97


class TestVolumes:
    def test_it_works_through_a_backlog_in_batches(self, world):
        identities = [factories.identity_number(serial=300 + i) for i in range(4)]
        records = [factories.deduction_record(identity) for identity in identities]
        records += [factories.deduction_record(identities[0])]
        assert world.submit(world.key_a, records).status_code == 201
        with frozen(EXPIRY):
            result = events_expire(now=EXPIRY, batch_size=2)
        assert result.events == 5
        assert result.notices == 5
        assert not ScoreEvent.objects.exclude(status=EventStatus.EXPIRED).exists()
        assert [score_of(identity) for identity in identities] == [100] * 4
        assert AuditEntry.objects.filter(action=AuditAction.EVENT_EXPIRED).count() == 5

    def test_each_batch_commits_and_reports_its_progress(self, world):
        identities = [factories.identity_number(serial=400 + i) for i in range(5)]
        records = [factories.deduction_record(identity) for identity in identities]
        assert world.submit(world.key_a, records).status_code == 201
        totals = []
        with frozen(EXPIRY):
            events_expire(now=EXPIRY, batch_size=2, progress=lambda t: totals.append(t.events))
        # Three batches (2 + 2 + 1), the working set of each bounded by the batch size.
        assert totals == [2, 4, 5]

    def test_the_batch_size_must_be_positive(self, db):
        with pytest.raises(CommandError):
            call_command("expire_events", "--batch-size", "0")


class TestCompensatedRows:
    def test_a_repaired_deduction_expires_with_its_compensation(self, residents):
        event = residents.deduct()
        client = residents.client(residents.ann)
        repair = client.post(
            "/api/v1/me/repairs", {"event": event.pk, "statement": "已纠正"}, format="json"
        )
        residents.world.client(residents.world.key_a).post(
            f"/api/v1/repairs/{body(repair)['id']}/decision",
            {"decision": "confirmed", "reason": "已核实"},
            format="json",
        )
        assert score_of() == 100
        compensation = ScoreEvent.objects.get(kind=EventKind.REPAIR)
        with frozen(EXPIRY):
            assert read_score(residents.world) == 100
        expire(EXPIRY)
        assert set(ScoreEvent.objects.values_list("status", flat=True)) == {EventStatus.EXPIRED}
        assert score_of() == 100
        expired = AuditEntry.objects.filter(action=AuditAction.EVENT_EXPIRED)
        assert sorted(e.object_ref for e in expired) == sorted(
            [f"event:{event.pk}", f"event:{compensation.pk}"]
        )
        # Already out of the score and already told: no second notice.
        assert not Notification.objects.filter(kind=NotificationKind.EVENT_EXPIRED).exists()

    def test_a_disputed_deduction_expires_like_any_other(self, residents):
        event = residents.deduct()
        residents.dispute(event)
        expire(EXPIRY)
        event.refresh_from_db()
        assert event.status == EventStatus.EXPIRED
        assert score_of() == 100
        assert Notification.objects.filter(kind=NotificationKind.EVENT_EXPIRED).count() == 1
