"""Finality (ZJ 11): a deduction whose decision is not yet final is kept as pending; it
counts, and is disclosed, only once the department reports it final or its review period
passes (`manage.py finalize_events`)."""

from __future__ import annotations

import datetime as dt
import io
import json
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import translation

from audit.actions import AuditAction
from audit.models import AuditEntry
from gateway.models import Notification, NotificationKind, ScoreEvent
from gateway.selectors import score_history
from gateway.services import finality
from gateway.validation import Why as RecordWhy
from tests import factories
from tests.gateway.test_ledger_binding import verify
from tests.gateway.test_repairs import make_residents

SHANGHAI = ZoneInfo("Asia/Shanghai")
ANN_ID = factories.identity_number(serial=601)
SUBMITTED = dt.datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI)
REPORTED = dt.datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI)
LATER = dt.datetime(2027, 1, 15, 10, 0, tzinfo=SHANGHAI)
PENDING = {"state": "pending", "review_period_ends": "2026-12-10"}


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


def submit(world, finality_member=None, key=None, moment=SUBMITTED):
    record = factories.deduction_record(ANN_ID)
    if finality_member is not None:
        record["evidence"]["finality"] = finality_member
    with frozen(moment):
        return world.submit(key or world.key_a, [record])


def pending(world) -> ScoreEvent:
    response = submit(world, PENDING)
    assert response.status_code == 201, response.content
    assert body(response)["events"][0]["finality"] == "pending"
    return ScoreEvent.objects.get(pk=body(response)["events"][0]["id"])


def report(world, event_id, data, key=None, moment=REPORTED):
    with frozen(moment):
        return world.client(key or world.key_a).post(
            f"/api/v1/events/{event_id}/finality", json.dumps(data), content_type="application/json"
        )


def department_score(world, moment=LATER) -> int:
    with frozen(moment):
        response = world.client(world.key_a).get(
            f"/api/v1/citizens/{ANN_ID}/score?purpose=licensing_review"
        )
    assert response.status_code == 200, response.content
    return body(response)["score"]


def own_score(residents, moment) -> int:
    with frozen(moment):
        return body(residents.client(residents.ann).get("/api/v1/me/score"))["score"]


def finalize(moment) -> str:
    out = io.StringIO()
    with frozen(moment):
        call_command("finalize_events", stdout=out)
    return out.getvalue()


class TestPendingDoesNotCount:
    def test_a_pending_deduction_is_kept_and_told_but_counts_nowhere(self, residents):
        event = pending(residents.world)
        assert own_score(residents, REPORTED) == 100
        assert department_score(residents.world) == 100
        notice = Notification.objects.get(kind=NotificationKind.DEDUCTION_NOTICE)
        assert "Not yet final" in notice.body and "2026-12-10" in notice.body
        with frozen(REPORTED):
            shown = body(residents.client(residents.ann).get("/api/v1/me/events"))["results"]
        assert shown[0]["id"] == event.pk
        assert shown[0]["evidence"]["finality"]["state"] == "pending"
        assert shown[0]["counts_for_departments"] is False

    def test_the_score_chart_leaves_a_pending_deduction_out_until_it_is_final(self, residents):
        event = pending(residents.world)
        citizen = event.citizen
        assert score_history(citizen, now=REPORTED)[-1][1] == 100
        assert score_history(citizen, now=REPORTED, by_act=True)[-1][1] == 100
        response = report(residents.world, event.pk, {"final_on": "2026-12-01"})
        assert response.status_code == 200, response.content
        assert score_history(citizen, now=LATER)[-1][1] == own_score(residents, LATER) == 97

    def test_a_deduction_sent_final_counts_at_once(self, residents):
        response = submit(residents.world, {"state": "final", "final_on": "2026-11-22"})
        assert response.status_code == 201, response.content
        assert body(response)["events"][0]["finality"] == "final"
        assert own_score(residents, REPORTED) == 97


class TestReportedFinal:
    def test_the_department_reports_it_final_and_from_then_it_counts(self, residents):
        world = residents.world
        event = pending(world)
        response = report(world, event.pk, {"final_on": "2026-12-01", "ground": "upheld_on_review"})
        assert response.status_code == 200, response.content
        assert body(response)["finality"]["state"] == "final"
        event.refresh_from_db()
        assert event.evidence["finality"]["final_on"] == "2026-12-01"
        assert event.evidence["finality"]["how"] == "reported"
        assert own_score(residents, REPORTED) == 97
        assert department_score(world) == 97

        entry = AuditEntry.objects.get(action=AuditAction.EVENT_FINAL)
        assert entry.actor_id == world.dept_a.code and entry.legal_basis == "ZJ 11"
        notice = Notification.objects.get(kind=NotificationKind.EVENT_FINAL)
        assert notice.event_id == event.pk and "upheld on administrative review" in notice.body
        assert verify()[0] == 0, verify()[1]

        again = report(world, event.pk, {"final_on": "2026-12-01"})
        assert again.status_code == 409 and body(again)["error"] == "not_pending"

    def test_another_departments_or_an_unknown_record_is_403_and_audited(self, residents):
        world = residents.world
        event = pending(world)
        for target in (event.pk, event.pk + 1000):
            response = report(world, target, {"final_on": "2026-12-01"}, key=world.key_b)
            assert response.status_code == 403
            assert body(response)["error"] == "not_your_event"
        assert report(world, "abc", {"final_on": "2026-12-01"}).status_code == 404
        assert (
            AuditEntry.objects.filter(
                action=AuditAction.EVENT_FINAL, details__refused="not_your_event"
            ).count()
            == 2
        )
        event.refresh_from_db()
        assert event.evidence["finality"]["state"] == "pending"

    def test_a_record_that_was_never_pending_or_was_revoked_is_409(self, residents):
        world = residents.world
        final = submit(world, moment=SUBMITTED)
        final_id = body(final)["events"][0]["id"]
        assert report(world, final_id, {"final_on": "2026-12-01"}).status_code == 409
        event = pending(world)
        with frozen(REPORTED):
            revoked = world.client(world.key_a).post(
                f"/api/v1/events/{event.pk}/revocation",
                json.dumps(
                    {"document": "苏府复决字〔2026〕第12号", "issued_by": "苏州市人民政府",
                     "issued_on": "2026-12-01"}
                ),
                content_type="application/json",
            )  # fmt: skip
        assert revoked.status_code == 201, revoked.content
        response = report(world, event.pk, {"final_on": "2026-12-01"})
        assert response.status_code == 409

    @pytest.mark.parametrize(
        ("data", "status", "path", "message"),
        [
            ({"final_on": "2026-12-03"}, 422, "/final_on", finality.Why.FUTURE),
            ({"final_on": "2026-11-20"}, 422, "/final_on", finality.Why.BEFORE_DECISION),
            ({"final_on": "2026-13-01"}, 400, "/final_on", finality.Why.DATE),
            ({}, 400, "/final_on", finality.Why.REQUIRED),
            ({"final_on": "2026-12-01", "ground": "luck"}, 400, "/ground", finality.Why.GROUND),
            ({"final_on": "2026-12-01", "note": "x"}, 400, "/note", finality.Why.UNKNOWN_FIELD),
        ],
    )
    def test_bad_dates_and_fields_are_refused_naming_them(
        self, residents, data, status, path, message
    ):
        event = pending(residents.world)
        response = report(residents.world, event.pk, data)
        assert response.status_code == status, response.content
        assert {"path": path, "message": str(message)} in [
            {"path": p["path"], "message": p["message"]} for p in body(response)["problems"]
        ]
        event.refresh_from_db()
        assert event.evidence["finality"] == PENDING
        assert not AuditEntry.objects.filter(action=AuditAction.EVENT_FINAL).exists()


class TestPeriodPassing:
    def test_finalize_events_makes_it_final_the_day_after_the_period_once(self, residents):
        event = pending(residents.world)
        assert "made final 0" in finalize(dt.datetime(2026, 12, 10, 23, 59, tzinfo=SHANGHAI))
        assert own_score(residents, dt.datetime(2026, 12, 10, 23, 59, tzinfo=SHANGHAI)) == 100

        moment = dt.datetime(2026, 12, 11, 0, 30, tzinfo=SHANGHAI)
        assert "made final 1" in finalize(moment)
        event.refresh_from_db()
        assert event.evidence["finality"]["final_on"] == "2026-12-11"
        assert event.evidence["finality"]["how"] == "period_passed"
        assert own_score(residents, moment) == 97
        assert Notification.objects.filter(kind=NotificationKind.EVENT_FINAL).count() == 1
        assert "made final 0" in finalize(moment + dt.timedelta(days=1))
        assert Notification.objects.filter(kind=NotificationKind.EVENT_FINAL).count() == 1
        assert verify()[0] == 0, verify()[1]


class TestSubmittedFinality:
    @pytest.mark.parametrize(
        ("member", "path", "message"),
        [
            ({"state": "pending", "review_period_ends": "2026-11-24"}, "review_period_ends",
             RecordWhy.PERIOD_PASSED),
            ({"state": "pending", "review_period_ends": "2026-11-20"}, "review_period_ends",
             RecordWhy.PERIOD_BEFORE_DECISION),
            ({"state": "final", "final_on": "2026-11-30"}, "final_on", RecordWhy.FINAL_IN_FUTURE),
            ({"state": "final", "final_on": "2026-11-20"}, "final_on",
             RecordWhy.FINAL_BEFORE_DECISION),
            ({"state": "final"}, "final_on", RecordWhy.FINALITY_SHAPE),
            ({"state": "maybe"}, "state", RecordWhy.FINALITY_STATE),
        ],
    )  # fmt: skip
    def test_an_impossible_finality_is_400_naming_it(self, world, member, path, message):
        response = submit(world, member)
        assert response.status_code == 400, response.content
        problems = body(response)["problems"]
        assert {"path": f"/records/0/evidence/finality/{path}", "message": str(message)} in [
            {"path": p["path"], "message": p["message"]} for p in problems
        ]
        assert not ScoreEvent.objects.exists()

    def test_a_summary_procedure_penalty_is_refused_citing_zj_11(self, world):
        record = factories.deduction_record(ANN_ID)
        record["evidence"]["procedure"] = "summary"
        with frozen(SUBMITTED):
            response = world.submit(world.key_a, [record])
        assert response.status_code == 400
        assert "ZJ 11" in body(response)["problems"][0]["message"]


@pytest.mark.django_db(transaction=True)
def test_a_failure_mid_way_leaves_nothing_half_written(world):
    event = pending(world)
    entries = AuditEntry.objects.count()
    with (
        mock.patch.object(finality, "_notify", side_effect=RuntimeError("mail queue down")),
        pytest.raises(RuntimeError),
    ):
        finality.event_finality_report(
            department=world.dept_a,
            key_id="k",
            event_id=event.pk,
            data={"final_on": "2026-12-01"},
            now=REPORTED,
        )
    event.refresh_from_db()
    assert event.evidence["finality"] == PENDING
    assert AuditEntry.objects.count() == entries
    assert not Notification.objects.filter(kind=NotificationKind.EVENT_FINAL).exists()
