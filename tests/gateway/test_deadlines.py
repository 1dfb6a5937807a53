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


# --- every open deadline, not only pending objections ----------------------------------------


def publish_2027_with_4_january_off(moment: dt.datetime, captured) -> None:
    """The State Council gives Monday 4 January 2027 off too, and publishes the year."""
    with (
        mock.patch("django.utils.timezone.now", return_value=moment),
        captured(execute=True),
        transaction.atomic(),
    ):
        regulator_saves(WorkdayOverride(date=dt.date(2027, 1, 4), is_workday=False))
        regulator_saves(PublishedSchedule(year=2027, document="国办发明电〔2026〕9号"))


def test_an_escalated_objection_is_recomputed_and_the_regulators_told(
    people, mailoutbox, django_capture_on_commit_callbacks
):
    from gateway.services.appeals import appeal_escalate

    created = file_through_the_api(people, dt.datetime(2026, 12, 25, 10, 0, tzinfo=CST))
    assert created["decision_due"] == "2027-01-04"
    assert appeal_escalate(appeal_id=created["id"], today=dt.date(2027, 1, 5))
    mailoutbox.clear()

    publish_2027_with_4_january_off(
        dt.datetime(2027, 1, 6, 9, tzinfo=CST), django_capture_on_commit_callbacks
    )

    appeal = Appeal.objects.get(pk=created["id"])
    # Moved later, though already past: allowed; the regulator still decides it.
    assert (appeal.status, appeal.decision_due) == ("escalated", dt.date(2027, 1, 5))
    assert not appeal.decision_due_computed
    assert AuditEntry.objects.filter(
        action=AuditAction.DEADLINE_RECOMPUTED, object_ref=f"appeal:{appeal.pk}"
    ).exists()
    told = Notification.objects.filter(appeal=appeal, kind=NotificationKind.DEADLINE_CHANGED)
    assert "2027-01-05" in told.first().body
    regulator_mail = [m for m in mailoutbox if m.to == ["reg@example.org"]]
    assert regulator_mail and "2027-01-05" in regulator_mail[0].body


def test_a_review_of_an_eligibility_answer_is_recomputed_and_told_in_each_ones_language(
    people, mailoutbox, django_capture_on_commit_callbacks
):
    from gateway.models import EligibilityReview
    from gateway.services.eligibility_reviews import eligibility_review_request

    people.rev_tax.user.email = "rev@example.org"
    people.rev_tax.user.save()
    people.rev_traffic.user.email = "rev2@example.org"
    people.rev_traffic.user.save()
    people.rev_traffic.language = "en"
    people.rev_traffic.save()
    filed = dt.datetime(2026, 12, 25, 10, 0, tzinfo=CST)
    first = eligibility_review_request(
        citizen=people.alice.citizen,
        threshold_code="civilization_loan",
        statement="Please check.",
        now=filed,
    )
    second = eligibility_review_request(
        citizen=people.bob.citizen,
        threshold_code="civilization_loan",
        statement="Please check.",
        now=filed,
    )
    assert {first.reviewer, second.reviewer} == {people.rev_tax.user, people.rev_traffic.user}
    assert first.decision_due == dt.date(2027, 1, 4) and first.decision_due_computed
    mailoutbox.clear()

    publish_2027_with_4_january_off(
        dt.datetime(2026, 12, 29, tzinfo=CST), django_capture_on_commit_callbacks
    )

    for review in (first, second):
        review.refresh_from_db()
        assert (review.decision_due, review.decision_due_computed) == (dt.date(2027, 1, 5), False)
        assert AuditEntry.objects.filter(
            action=AuditAction.DEADLINE_RECOMPUTED, object_ref=f"eligibility_review:{review.pk}"
        ).exists()
    told = Notification.objects.filter(
        eligibility_review=first, kind=NotificationKind.DEADLINE_CHANGED
    ).first()
    assert "2027-01-05" in told.body and "PIPL 24" in told.body
    # The reviewer with no preference is written to in the site's language (Chinese), the
    # other in the English they chose.
    chinese = [m for m in mailoutbox if m.to == ["rev@example.org"]]
    english = [m for m in mailoutbox if m.to == ["rev2@example.org"]]
    assert chinese and "2027-01-05" in chinese[0].body and "工作日" in chinese[0].body
    assert english and english[0].body.startswith("The working-day calendar changed.")
    assert EligibilityReview.objects.filter(decision_due=dt.date(2027, 1, 4)).count() == 0


def test_an_objection_reviewers_e_mail_is_in_their_language(
    people, mailoutbox, django_capture_on_commit_callbacks
):
    people.rev_tax.user.email = "rev@example.org"
    people.rev_tax.user.save()
    file_through_the_api(people, dt.datetime(2026, 12, 28, 10, 0, tzinfo=CST))
    mailoutbox.clear()
    publish_2027_with_4_january_off(
        dt.datetime(2026, 12, 29, tzinfo=CST), django_capture_on_commit_callbacks
    )
    # One e-mail for the override, one for the published flag, both in the site's default.
    mails = [m for m in mailoutbox if m.to == ["rev@example.org"]]
    assert "2027-01-06" in mails[0].body
    assert all("工作日" in mail.body for mail in mails)


def test_a_revoked_records_deletion_date_is_recomputed_and_the_resident_told(
    people, django_capture_on_commit_callbacks
):
    from gateway.models import Revocation
    from gateway.services.revocations import event_revoke

    event = people.deduct()
    revocation = event_revoke(
        department=people.world.dept_a,
        key_id="test",
        event_id=event.pk,
        data={
            "document": "苏府复决字〔2026〕第12号",
            "issued_by": "苏州市人民政府",
            "issued_on": "2026-12-28",
        },
        now=dt.datetime(2026, 12, 29, 10, tzinfo=CST),
    )
    assert revocation.removal_due == dt.date(2027, 1, 4)

    publish_2027_with_4_january_off(
        dt.datetime(2026, 12, 30, tzinfo=CST), django_capture_on_commit_callbacks
    )

    revocation = Revocation.objects.get(pk=revocation.pk)
    assert (revocation.removal_due, revocation.removal_due_computed) == (
        dt.date(2027, 1, 5),
        False,
    )
    entry = AuditEntry.objects.filter(
        action=AuditAction.DEADLINE_RECOMPUTED, object_ref=f"revocation:{revocation.pk}"
    ).order_by("pk")[0]
    assert entry.details["removal_due"] == "2027-01-05"
    told = Notification.objects.filter(
        event=event, kind=NotificationKind.DEADLINE_CHANGED
    ).order_by("pk")[0]
    assert "2027-01-05" in told.body and "SH 37" in told.body


@pytest.mark.django_db(transaction=True)
def test_moving_a_running_review_deadline_into_the_past_is_refused_whole(people):
    from gateway.services.eligibility_reviews import eligibility_review_request

    review = eligibility_review_request(
        citizen=people.alice.citizen,
        threshold_code="civilization_loan",
        statement="Please check.",
        now=dt.datetime(2026, 12, 25, 10, 0, tzinfo=CST),
    )
    assert review.decision_due == dt.date(2027, 1, 4)
    entries_before = AuditEntry.objects.count()
    with (
        mock.patch(
            "django.utils.timezone.now", return_value=dt.datetime(2027, 1, 4, 9, tzinfo=CST)
        ),
        pytest.raises(deadlines.DeadlineIntoThePast, match="into the past") as refused,
    ):
        regulator_saves(WorkdayOverride(date=dt.date(2027, 1, 1), is_workday=True))
    assert f"eligibility_review:{review.pk}" in str(refused.value)
    assert not WorkdayOverride.objects.exists()
    assert AuditEntry.objects.count() == entries_before
    review.refresh_from_db()
    assert review.decision_due == dt.date(2027, 1, 4)


def test_an_already_missed_deadline_may_move_earlier(people):
    from gateway.services.appeals import appeal_escalate

    created = file_through_the_api(people, dt.datetime(2026, 12, 25, 10, 0, tzinfo=CST))
    assert appeal_escalate(appeal_id=created["id"], today=dt.date(2027, 1, 5))
    with mock.patch(
        "django.utils.timezone.now", return_value=dt.datetime(2027, 1, 6, 9, tzinfo=CST)
    ):
        regulator_saves(WorkdayOverride(date=dt.date(2027, 1, 1), is_workday=True))
    assert Appeal.objects.get(pk=created["id"]).decision_due == dt.date(2027, 1, 1)


def test_a_confirmed_repair_is_removed_at_once_so_no_removal_deadline_stays_open(people):
    from gateway.models import RepairApplication, RepairStatus
    from gateway.services.repairs import repair_apply, repair_decide

    event = people.deduct()
    repair = repair_apply(
        citizen=people.alice.citizen, event=event, statement="Paid.", reference="R-1"
    )
    repair_decide(
        department=people.world.dept_a, repair_id=repair.pk, decision="confirmed", reason=""
    )
    repair = RepairApplication.objects.get(pk=repair.pk)
    assert repair.status == RepairStatus.CONFIRMED
    assert repair.removed_at is not None and repair.removed_at.date() <= repair.removal_due
