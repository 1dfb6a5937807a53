"""Deadlines in Chinese working days, and overdue appeals escalated to the regulator."""

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
from compliance.models import WorkdayOverride
from compliance.services import catalogue_object_save
from gateway.models import Appeal, AppealStatus, Notification
from gateway.services import appeals as services
from tests.gateway.people import body

CST = ZoneInfo("Asia/Shanghai")
FILED = dt.datetime(2026, 11, 26, 10, 0, tzinfo=CST)  # a Thursday
DUE = dt.date(2026, 12, 3)


def file_on(people, moment: dt.datetime, event=None) -> Appeal:
    event = event or people.deduct()
    return services.appeal_file(
        citizen=people.alice.citizen, event=event, statement="Not me.", now=moment
    )


class TestDeadlines:
    def test_a_filing_before_national_day_is_due_after_the_holiday(self, people):
        # 1-7 October 2026 are off and Saturday 10 October is a make-up working day:
        # Thu 8, Fri 9, Sat 10, Mon 12, Tue 13.
        moment = dt.datetime(2026, 9, 30, 10, 0, tzinfo=CST)
        with mock.patch("django.utils.timezone.now", return_value=moment):
            event = people.deduct(
                occurred_at="2026-09-01T08:30:00+08:00",
                evidence={
                    "document": "苏公交决字〔2026〕第99号",
                    "issued_by": "苏州市公安局交通警察支队",
                    "issued_on": "2026-09-02",
                    "procedure": "general",
                },
            )
            response = people.client(people.alice).post(
                "/api/v1/me/appeals", {"event": event.pk, "statement": "Not me."}, format="json"
            )
            assert response.status_code == 201
            assert body(response)["decision_due"] == "2026-10-13"
            extended = people.client(people.rev_tax).post(
                f"/api/v1/appeals/{body(response)['id']}/extension",
                {"reason": "Holiday backlog."},
                format="json",
            )
        assert body(extended)["decision_due"] == "2026-11-03"

    @pytest.mark.parametrize(
        ("filed", "due"),
        [
            (dt.datetime(2026, 11, 27, 16, 0, tzinfo=CST), dt.date(2026, 12, 4)),  # Friday
            (dt.datetime(2026, 11, 28, 9, 0, tzinfo=CST), dt.date(2026, 12, 4)),  # Saturday
            # Saturday 14 February is a make-up working day; 15-23 February are off.
            (dt.datetime(2026, 2, 13, 9, 0, tzinfo=CST), dt.date(2026, 2, 27)),
            # Still Thursday in UTC, already Friday in Shanghai: Shanghai's day counts.
            (dt.datetime(2026, 11, 26, 16, 30, tzinfo=dt.UTC), dt.date(2026, 12, 4)),
        ],
    )
    def test_five_working_days_after_the_day_of_filing(self, people, filed, due):
        assert file_on(people, filed).decision_due == due

    def test_a_regulators_override_moves_the_deadline(self, people):
        catalogue_object_save(
            WorkdayOverride(date=dt.date(2026, 11, 30), is_workday=False, note="local closure"),
            actor_kind="regulator",
            actor_id="reg",
        )
        assert file_on(people, FILED).decision_due == dt.date(2026, 12, 4)


class TestEscalation:
    def test_nothing_is_escalated_on_the_day_it_is_due(self, people):
        appeal = file_on(people, FILED)
        assert appeal.decision_due == DUE
        assert services.appeals_escalate_overdue(today=DUE) == []
        appeal.refresh_from_db()
        assert appeal.status == AppealStatus.PENDING

    def test_an_overdue_appeal_is_escalated_audited_and_the_appellant_told(
        self, people, mailoutbox
    ):
        appeal = file_on(people, FILED)
        assert services.appeals_escalate_overdue(today=DUE + dt.timedelta(days=1)) == [appeal.pk]
        appeal.refresh_from_db()
        assert appeal.status == AppealStatus.ESCALATED
        assert appeal.escalated_at is not None
        entry = AuditEntry.objects.get(action=AuditAction.APPEAL_ESCALATED)
        assert (entry.actor_kind, entry.actor_id) == ("system", "escalate_overdue_appeals")
        assert entry.subject == people.alice.citizen.identity_index
        assert entry.details["decision_due"] == DUE.isoformat()
        history = Appeal.history.filter(id=appeal.pk).order_by("-history_id").first()
        assert history.status == AppealStatus.ESCALATED
        assert history.history_change_reason == "escalated: overdue"
        note = Notification.objects.get(appeal=appeal, kind="appeal_escalated")
        assert note.citizen == people.alice.citizen
        assert [m.to for m in mailoutbox] == [["reg@example.org"]]
        assert str(appeal.pk) in mailoutbox[0].body

    def test_a_second_run_changes_nothing(self, people):
        file_on(people, FILED)
        services.appeals_escalate_overdue(today=DUE + dt.timedelta(days=1))
        entries = AuditEntry.objects.count()
        assert services.appeals_escalate_overdue(today=DUE + dt.timedelta(days=2)) == []
        assert AuditEntry.objects.count() == entries

    def test_decided_and_extended_appeals_are_not_escalated(self, people):
        decided = file_on(people, FILED)
        services.appeal_decide(
            appeal=decided, reviewer=people.rev_tax.user, outcome="upheld", reason="x", now=FILED
        )
        extended = file_on(people, FILED)
        services.appeal_extend(
            appeal=extended, reviewer=people.rev_tax.user, reason="late file", now=FILED
        )
        extended.refresh_from_db()
        assert services.appeals_escalate_overdue(today=DUE + dt.timedelta(days=1)) == []
        after = extended.decision_due + dt.timedelta(days=1)
        assert services.appeals_escalate_overdue(today=after) == [extended.pk]

    def test_the_regulator_sees_and_decides_an_escalated_appeal(self, people):
        event = people.deduct()
        appeal = file_on(people, FILED, event)
        services.appeals_escalate_overdue(today=DUE + dt.timedelta(days=1))
        regulator = people.client(people.reg)
        queue = body(regulator.get("/api/v1/reviewer/appeals"))
        assert [a["id"] for a in queue["results"]] == [appeal.pk]
        assert queue["results"][0]["status"] == "escalated"
        late = dt.datetime(2026, 12, 7, 10, 0, tzinfo=CST)
        with mock.patch("django.utils.timezone.now", return_value=late):
            response = regulator.post(
                f"/api/v1/appeals/{appeal.pk}/decision",
                {"outcome": "overturned", "reason": "No answer from the reviewer; wrong plate."},
                format="json",
            )
        assert response.status_code == 200
        assert body(response)["decision"]["outcome"] == "overturned"
        entry = AuditEntry.objects.get(action=AuditAction.APPEAL_DECIDED)
        assert (entry.actor_kind, entry.actor_id) == ("regulator", "reg")
        assert entry.details["on_time"] is False

    def test_the_assigned_reviewer_may_still_decide_late(self, people):
        appeal = file_on(people, FILED)
        services.appeals_escalate_overdue(today=DUE + dt.timedelta(days=1))
        response = people.client(people.rev_tax).post(
            f"/api/v1/appeals/{appeal.pk}/decision",
            {"outcome": "upheld", "reason": "Late, but the record stands."},
            format="json",
        )
        assert response.status_code == 200

    def test_an_escalated_appeal_cannot_be_extended(self, people):
        appeal = file_on(people, FILED)
        services.appeals_escalate_overdue(today=DUE + dt.timedelta(days=1))
        response = people.client(people.rev_tax).post(
            f"/api/v1/appeals/{appeal.pk}/extension", {"reason": "late"}, format="json"
        )
        assert response.status_code == 409


class TestCommand:
    def test_the_command_escalates_for_cron(self, people):
        appeal = file_on(people, FILED)
        out = io.StringIO()
        call_command("escalate_overdue_appeals", "--today", "2026-12-04", stdout=out)
        assert f"appeal {appeal.pk}" in out.getvalue()
        assert "escalated 1" in out.getvalue()
        appeal.refresh_from_db()
        assert appeal.status == AppealStatus.ESCALATED

    def test_the_command_counts_from_today_by_default(self, people):
        file_on(people, FILED)
        with mock.patch("django.utils.timezone.localdate", return_value=DUE):
            out = io.StringIO()
            call_command("escalate_overdue_appeals", stdout=out)
        assert "escalated 0" in out.getvalue()

    def test_a_bad_date_is_refused(self, db):
        with pytest.raises(CommandError, match="YYYY-MM-DD"):
            call_command("escalate_overdue_appeals", "--today", "4 December")


class TestWorkdayCalendarWarning:
    def changelist(self, people, today):
        from django.test import Client

        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(people.reg.user)
        with mock.patch("compliance.admin.timezone.localdate", return_value=today):
            response = client.get("/admin/compliance/workdayoverride/")
        assert response.status_code == 200
        return [str(m) for m in response.context["messages"]]

    def test_a_year_without_the_official_schedule_is_flagged(self, people):
        messages = self.changelist(people, dt.date(2099, 6, 1))
        assert len(messages) == 2
        assert "2099" in messages[0] and "2100" in messages[1]
        assert "computed from the national rules" in messages[0]

    def test_known_years_raise_no_warning(self, people):
        assert self.changelist(people, dt.date(2025, 6, 1)) == []
