"""Open deadlines follow the working-day calendar: one audited recomputation per change.

A deadline stored while its year's holiday schedule was only computed from the rules
(or before a regulator's override) is recomputed whenever the calendar changes, in the
same transaction as the change. The resident is told the new date in the portal and by
e-mail, the reviewer by e-mail; the reviewer's queue shows it at once. A change that
would move a deadline into the past is refused, and the calendar change with it: the
reviewer could no longer meet it (SH 36, ZJ 31).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from audit.actions import AuditAction
from compliance.selectors import Deadline, deadline, workday_calendar
from compliance.services import ComplianceError
from compliance.workdays import to_local_date
from gateway.models import Appeal, AppealStatus, NotificationKind
from gateway.services.appeals import LEGAL_BASIS, _notify, computed_deadline_note
from gateway.services.audit_boundary import AuditRecord, log_append

logger = logging.getLogger(__name__)


class DeadlineMsg:
    INTO_THE_PAST = _(
        "This change to the working-day calendar would move the decision deadline of "
        "%(count)d open objection(s) into the past (first: appeal %(appeal)d, due %(old)s, "
        "would be %(new)s); a deadline already running is never shortened below today "
        "(SH 36, ZJ 31). Nothing was changed."
    )


class DeadlineIntoThePast(ComplianceError):
    """A calendar change that would leave an open deadline already missed."""


def deadlines_recompute(
    *, actor_kind: str, actor_id: str, now: dt.datetime | None = None
) -> list[int]:
    """Recompute every pending objection's decision deadline; the ids of those changed."""
    today = to_local_date(now or timezone.now())
    calendar = workday_calendar()
    with transaction.atomic():
        appeals = list(
            # Only the appeals are locked: PostgreSQL cannot lock the nullable reviewer join.
            Appeal.objects.select_for_update(of=("self",))
            .filter(status=AppealStatus.PENDING)
            .select_related("citizen", "event", "reviewer")
            .order_by("pk")
        )
        changes: list[tuple[Appeal, Deadline]] = []
        for appeal in appeals:
            new = deadline(appeal.filed_at, appeal.decision_working_days, calendar)
            if (new.due, new.computed) != (appeal.decision_due, appeal.decision_due_computed):
                changes.append((appeal, new))
        shortened = [(a, new) for a, new in changes if new.due < a.decision_due and new.due < today]
        if shortened:
            appeal, new = shortened[0]
            raise DeadlineIntoThePast(
                DeadlineMsg.INTO_THE_PAST
                % {
                    "count": len(shortened),
                    "appeal": appeal.pk,
                    "old": appeal.decision_due.isoformat(),
                    "new": new.due.isoformat(),
                }
            )
        records = []
        for appeal, new in changes:
            previous = appeal.decision_due
            appeal.decision_due = new.due
            appeal.decision_due_computed = new.computed
            appeal._history_user = None
            appeal._change_reason = "deadline recomputed: working-day calendar changed"
            appeal.save(update_fields=["decision_due", "decision_due_computed"])
            records.append(
                AuditRecord(
                    action=AuditAction.DEADLINE_RECOMPUTED,
                    actor_kind=actor_kind,
                    actor_id=actor_id,
                    subject=appeal.citizen.identity_index,
                    object_ref=f"appeal:{appeal.pk}",
                    legal_basis=LEGAL_BASIS,
                    details={
                        "event": appeal.event_id,
                        "previous_due": previous.isoformat(),
                        "decision_due": new.due.isoformat(),
                        "decision_due_computed": new.computed,
                        "working_days": appeal.decision_working_days,
                    },
                )
            )
            _notify(
                appeal,
                NotificationKind.DEADLINE_CHANGED,
                _deadline_text(appeal, previous),
                previous_due=previous.isoformat(),
                decision_due=new.due.isoformat(),
                decision_due_computed=new.computed,
            )
            if appeal.reviewer is not None and appeal.reviewer.email:
                transaction.on_commit(
                    _reviewer_email(appeal.reviewer.email, appeal.pk, previous, new.due)
                )
        if records:
            log_append(records)
    return [appeal.pk for appeal, _new in changes]


def _deadline_text(appeal: Appeal, previous: dt.date):
    def compose() -> tuple[str, str]:
        return (
            gettext("The decision deadline of your objection changed"),
            gettext(
                "The working-day calendar was updated. The decision on your objection to "
                "record %(event)d, due by %(old)s, is now due by %(new)s (%(days)d working "
                "days after filing, SH 36, ZJ 31)."
            )
            % {
                "event": appeal.event_id,
                "old": previous.isoformat(),
                "new": appeal.decision_due.isoformat(),
                "days": appeal.decision_working_days,
            }
            + computed_deadline_note(appeal.decision_due_computed),
        )

    return compose


def _reviewer_email(address: str, appeal_id: int, previous: dt.date, due: dt.date):
    def send() -> None:
        try:
            send_mail(
                f"Appeal {appeal_id}: decision now due {due.isoformat()}",
                f"The working-day calendar changed. Appeal {appeal_id}, due by "
                f"{previous.isoformat()}, is now due by {due.isoformat()} (SH 36, ZJ 31).",
                None,
                [address],
            )
        except Exception:  # the queue shows the date; a failed e-mail is logged
            logger.exception("e-mail to the reviewer of appeal %s failed", appeal_id)

    return send


def on_calendar_changed(sender, *, actor_kind: str, actor_id: str, **kwargs) -> None:
    """Receiver of ``compliance.signals.calendar_changed``, inside the change's transaction."""
    deadlines_recompute(actor_kind=actor_kind, actor_id=actor_id)
