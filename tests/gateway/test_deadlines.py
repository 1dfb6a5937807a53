"""Deadlines in years whose holiday schedule is only computed, and their recomputation."""

from __future__ import annotations

import datetime as dt
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from audit.actions import AuditAction
from audit.models import AuditEntry
from compliance.models import PublishedSchedule, WorkdayOverride
from compliance.services import ComplianceError, catalogue_object_save
from gateway.models import Appeal, Notification, NotificationKind
from gateway.services import deadlines
from tests.gateway.people import body

CST = ZoneInfo("Asia/Shanghai")
EVIDENCE = {
    "document": "苏公交决字〔2026〕第77号",
    "issued_by": "苏州市公安局交通警察支队",
    "issued_on": "2026-12-02",
    "procedure": "general",
}


def file_through_the_api(people, moment: dt.datetime) -> dict:
    with mock.patch("django.utils.timezone.now", return_value=moment):
        event = people.deduct(occurred_at="2026-12-01T08:30:00+08:00", evidence=EVIDENCE)
        response = people.client(people.alice).post(
            "/api/v1/me/appeals", {"event": event.pk, "statement": "Not me."}, format="json"
        )
    assert response.status_code == 201, response.content
    return body(response)


def regulator_saves(obj) -> None:
    catalogue_object_save(obj, actor_kind="regulator", actor_id="reg")


@pytest.mark.parametrize(
    ("filed", "due"),
    [
        # 1 January 2027 is a statutory holiday although no schedule is published yet.
        (dt.datetime(2026, 12, 25, 10, 0, tzinfo=CST), "2027-01-04"),
        (dt.datetime(2026, 12, 28, 10, 0, tzinfo=CST), "2027-01-05"),
    ],
)
def test_a_deadline_running_into_2027_counts_new_year_and_says_it_is_computed(people, filed, due):
    created = file_through_the_api(people, filed)
    assert created["decision_due"] == due
    assert created["decision_due_computed"] is True

    appeal = Appeal.objects.get(pk=created["id"])
    assert appeal.decision_due_computed
    entry = AuditEntry.objects.get(
        action=AuditAction.APPEAL_FILED, object_ref=f"appeal:{appeal.pk}"
    )
    assert entry.details["decision_due"] == due
    assert entry.details["decision_due_computed"] is True
    notice = Notification.objects.get(appeal=appeal, kind=NotificationKind.APPEAL_FILED)
    assert "has not yet published the year's holiday schedule" in notice.body
    assert "尚未公布" in notice.body
    assert notice.payload["decision_due_computed"] is True

    # The reviewer's queue and the resident's own view say so too.
    queue = body(people.client(people.rev_tax).get("/api/v1/reviewer/appeals"))
    shown = queue["results"] if isinstance(queue, dict) else queue
    assert [(a["decision_due"], a["decision_due_computed"]) for a in shown] == [(due, True)]
    mine = body(people.client(people.alice).get("/api/v1/me/appeals"))
    mine = mine["results"] if isinstance(mine, dict) else mine
    assert mine[0]["decision_due_computed"] is True


def test_a_deadline_within_a_published_year_is_not_flagged(people):
    created = file_through_the_api(people, dt.datetime(2026, 12, 3, 10, 0, tzinfo=CST))
    assert created["decision_due"] == "2026-12-10"
    assert created["decision_due_computed"] is False
    appeal = Appeal.objects.get(pk=created["id"])
    notice = Notification.objects.get(appeal=appeal, kind=NotificationKind.APPEAL_FILED)
    assert "holiday schedule" not in notice.body


def test_entering_the_published_schedule_recomputes_tells_and_audits(
    people, mailoutbox, django_capture_on_commit_callbacks
):
    people.rev_tax.user.email = "rev@example.org"
    people.rev_tax.user.save()
    created = file_through_the_api(people, dt.datetime(2026, 12, 28, 10, 0, tzinfo=CST))
    assert created["decision_due"] == "2027-01-05"
    mailoutbox.clear()

    # Say the State Council gives Monday 4 January off too and publishes the year.
    with (
        mock.patch("django.utils.timezone.now", return_value=dt.datetime(2026, 12, 29, tzinfo=CST)),
        django_capture_on_commit_callbacks(execute=True),
        transaction.atomic(),
    ):
        regulator_saves(WorkdayOverride(date=dt.date(2027, 1, 4), is_workday=False))
        regulator_saves(PublishedSchedule(year=2027, document="国办发明电〔2026〕9号"))

    appeal = Appeal.objects.get(pk=created["id"])
    assert appeal.decision_due == dt.date(2027, 1, 6)
    assert not appeal.decision_due_computed
    entries = AuditEntry.objects.filter(
        action=AuditAction.DEADLINE_RECOMPUTED, object_ref=f"appeal:{appeal.pk}"
    ).order_by("pk")
    assert [
        (e.details["previous_due"], e.details["decision_due"], e.details["decision_due_computed"])
        for e in entries
    ] == [
        ("2027-01-05", "2027-01-06", True),
        ("2027-01-06", "2027-01-06", False),
    ]
    assert entries[0].actor_id == "reg"
    told = Notification.objects.filter(appeal=appeal, kind=NotificationKind.DEADLINE_CHANGED)
    assert told.count() == 2
    assert "2027-01-06" in told.order_by("pk").first().body
    assert "尚未公布" not in told.order_by("pk").last().body
    reviewer_mail = [m for m in mailoutbox if m.to == ["rev@example.org"]]
    assert reviewer_mail and "2027-01-06" in reviewer_mail[0].body
    assert any(m.to == ["alice@example.org"] for m in mailoutbox)


def test_a_change_that_leaves_deadlines_alone_recomputes_nothing(people):
    created = file_through_the_api(people, dt.datetime(2026, 12, 3, 10, 0, tzinfo=CST))
    regulator_saves(WorkdayOverride(date=dt.date(2027, 3, 1), is_workday=False))
    assert Appeal.objects.get(pk=created["id"]).decision_due == dt.date(2026, 12, 10)
    assert not AuditEntry.objects.filter(action=AuditAction.DEADLINE_RECOMPUTED).exists()
    assert not Notification.objects.filter(kind=NotificationKind.DEADLINE_CHANGED).exists()


@pytest.mark.django_db(transaction=True)
def test_an_override_moving_a_deadline_into_the_past_is_refused_and_nothing_written(people):
    created = file_through_the_api(people, dt.datetime(2026, 12, 25, 10, 0, tzinfo=CST))
    assert created["decision_due"] == "2027-01-04"
    entries_before = AuditEntry.objects.count()
    # On 4 January, making 1 January a working day would put the deadline on 1 January.
    with (
        mock.patch(
            "django.utils.timezone.now", return_value=dt.datetime(2027, 1, 4, 9, tzinfo=CST)
        ),
        pytest.raises(deadlines.DeadlineIntoThePast, match="into the past") as refused,
    ):
        regulator_saves(WorkdayOverride(date=dt.date(2027, 1, 1), is_workday=True))
    assert "2027-01-04" in str(refused.value) and "2027-01-01" in str(refused.value)
    assert isinstance(refused.value, ComplianceError)
    assert not WorkdayOverride.objects.exists()
    assert AuditEntry.objects.count() == entries_before
    appeal = Appeal.objects.get(pk=created["id"])
    assert appeal.decision_due == dt.date(2027, 1, 4)
    assert not Notification.objects.filter(kind=NotificationKind.DEADLINE_CHANGED).exists()


def test_the_admin_shows_the_refusal_instead_of_failing(people):
    from django.test import Client

    file_through_the_api(people, dt.datetime(2026, 12, 25, 10, 0, tzinfo=CST))
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(people.reg.user)
    # Only the recomputation's clock moves to 4 January: the login session stays valid.
    with mock.patch("gateway.services.deadlines.timezone") as clock:
        clock.now.return_value = dt.datetime(2027, 1, 4, 9, tzinfo=CST)
        response = client.post(
            "/admin/compliance/workdayoverride/add/",
            {"date": "2027-01-01", "is_workday": "on", "note": "mistake"},
            follow=True,
        )
    assert response.status_code == 200
    assert any("into the past" in str(m) for m in response.context["messages"])
    assert not WorkdayOverride.objects.exists()
