"""The ledger bound to the audit log: what an insider changes in the score store is caught."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit.models import AuditEntry
from audit.services import integrate_all
from compliance.models import ScreeningRefusal
from gateway.models import Score, ScoreEvent
from gateway.services.appeals import appeal_decide
from gateway.services.binding import LEDGER_KEY, ledger_binding_check
from gateway.services.expiry import events_expire
from tests.gateway.people import ALICE_ID, BOB_ID, score_of


def verify() -> tuple[int, str]:
    integrate_all()
    try:
        out = io.StringIO()
        call_command("audit_verify", stdout=out)
    except CommandError as exc:
        return 1, str(exc)
    return 0, out.getvalue()


def _execute(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


class TestEveryChangeIsVouchedFor:
    def test_submissions_appeals_and_expiry_leave_a_ledger_the_log_vouches_for(self, people):
        deduction = people.deduct()
        people.reward(BOB_ID)
        appeal = people.file(deduction)
        appeal_decide(
            appeal=appeal, reviewer=people.rev_tax.user, outcome="overturned", reason="Not hers."
        )
        events_expire(now=timezone.now() + dt.timedelta(days=365 * 6))
        assert ledger_binding_check() is None
        assert verify()[0] == 0
        # Each row names an entry that committed digests, never a score.
        for event in ScoreEvent.objects.all():
            entry = AuditEntry.objects.get(entry_id=event.audit_entry)
            assert LEDGER_KEY in entry.details
            assert str(score_of(ALICE_ID)) not in str(entry.details[LEDGER_KEY])

    def test_a_submission_entry_commits_its_events_and_scores(self, people):
        event = people.deduct()
        entry = AuditEntry.objects.get(entry_id=event.audit_entry)
        assert set(entry.details[LEDGER_KEY]) == {"events", "scores"}
        assert Score.objects.get(citizen_id=event.citizen_id).audit_entry == entry.entry_id


class TestTampering:
    """An insider edits the score store directly (its tables need no trigger dropped)."""

    def test_points_edited_with_a_matching_score_are_caught(self, people):
        event = people.deduct()
        _execute("UPDATE gateway_scoreevent SET points = -1 WHERE id = %s", [event.pk])
        _execute(
            "UPDATE gateway_score SET points_sum = -1, score = 99 WHERE citizen_id = %s",
            [event.citizen_id],
        )
        status, message = verify()
        assert status == 1
        assert f"event {event.pk} differs" in message

    @pytest.mark.parametrize("fix_the_score", [True, False])
    def test_a_deleted_event_is_caught(self, people, fix_the_score):
        people.deduct()
        gone = people.deduct(BOB_ID)
        _execute("DELETE FROM gateway_notification WHERE event_id = %s", [gone.pk])
        _execute("DELETE FROM gateway_scoreevent WHERE id = %s", [gone.pk])
        if fix_the_score:
            _execute(
                "UPDATE gateway_score SET points_sum = 0, score = 100 WHERE citizen_id = %s",
                [gone.citizen_id],
            )
        status, message = verify()
        assert status == 1
        if not fix_the_score:
            assert f"event {gone.pk}" in message and "missing from the ledger" in message

    def test_a_row_no_entry_vouches_for_is_caught(self, people):
        event = people.deduct()
        _execute("UPDATE gateway_scoreevent SET audit_entry = '' WHERE id = %s", [event.pk])
        status, message = verify()
        assert status == 1
        assert f"event {event.pk} is not vouched for" in message

    def test_a_row_moved_to_an_older_entry_is_caught(self, people):
        first = people.deduct()
        second = people.deduct(BOB_ID)
        _execute(
            "UPDATE gateway_scoreevent SET audit_entry = %s WHERE id = %s",
            [first.audit_entry, second.pk],
        )
        assert verify()[0] == 1

    def test_a_score_edited_alone_is_caught(self, people):
        event = people.deduct()
        _execute("UPDATE gateway_score SET score = 150 WHERE citizen_id = %s", [event.citizen_id])
        status, message = verify()
        assert status == 1
        assert f"score of resident {event.citizen_id} differs" in message

    def test_recompute_fix_is_itself_vouched_for(self, people):
        event = people.deduct()
        _execute(
            "UPDATE gateway_score SET score = 150, points_sum = 50 WHERE citizen_id = %s",
            [event.citizen_id],
        )
        call_command("recompute_scores", "--fix", stdout=io.StringIO())
        assert verify()[0] == 0


class TestAppendOnlyTables:
    @pytest.mark.parametrize(
        "statement",
        [
            "UPDATE gateway_historicalscore SET score = 0",
            "DELETE FROM gateway_historicalscore",
            "DELETE FROM gateway_historicalcitizen",
        ],
    )
    def test_history_rows_cannot_be_changed(self, people, statement):
        people.deduct()
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)

    def test_refusal_records_cannot_be_changed(self, world):
        record = {
            "citizen_id": ALICE_ID,
            "rule": "traffic.failure_to_yield",
            "occurred_at": "2026-11-20T08:30:00+08:00",
            "data": {"blood_type": "AB"},
        }
        assert world.submit(world.key_a, [record]).status_code == 422
        assert ScreeningRefusal.objects.count() == 1
        for statement in (
            "UPDATE compliance_screeningrefusal SET violation_count = 0",
            "DELETE FROM compliance_screeningrefusal",
        ):
            with (
                pytest.raises(DatabaseError, match="append-only"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(statement)
