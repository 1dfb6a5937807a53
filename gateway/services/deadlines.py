"""Open deadlines follow the working-day calendar: one audited recomputation per change.

A deadline stored while its year's holiday schedule was only computed from the rules
(or before a regulator's override) is recomputed whenever the calendar changes, in the
same transaction as the change. Every open deadline counted in working days is covered:

- an objection's decision, pending or escalated (SH 36, ZJ 31): an escalated objection
  keeps its state (the regulator decides it), its due date is corrected all the same;
- a review of an automated eligibility answer, pending or escalated (PIPL 24);
- the deletion of a record whose decision was revoked, until expiry removes it (SH 37).

A confirmed credit repair leaves the score in its decision's own transaction, so its
removal deadline (SH 38) is met the moment it is set and is never open here.

The resident is told the new date in the portal and by e-mail, in both languages; the
person deciding (the assigned reviewer, or the regulators once a case is escalated) by
e-mail in their own language (``Account.language``, else the site's). The reviewer's
queue shows the new date at once. A change that would move a deadline still running into
the past is refused, and the calendar change with it: nobody could meet it any more.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from audit.actions import AuditAction
from compliance.law import REVOCATION_DELETION_WORKING_DAYS
from compliance.selectors import Deadline, deadline, workday_calendar
from compliance.services import ComplianceError
from compliance.workdays import to_local_date
from gateway.models import (
    Appeal,
    AppealStatus,
    EligibilityReview,
    EventStatus,
    NotificationKind,
    Revocation,
    Role,
)
from gateway.services import eligibility_reviews
from gateway.services.appeals import LEGAL_BASIS, _notify, computed_deadline_note
from gateway.services.audit_boundary import AuditRecord, log_append
from gateway.services.notices import SEPARATOR
from gateway.services.notifications import notification_send

logger = logging.getLogger(__name__)


class DeadlineMsg:
    INTO_THE_PAST = _(
        "This change to the working-day calendar would move %(count)d open deadline(s) "
        "into the past (first: %(what)s, due %(old)s, would be %(new)s); a deadline already "
        "running is never shortened below today (SH 36, SH 37, ZJ 31, PIPL 24). Nothing "
        "was changed."
    )


class DeadlineIntoThePast(ComplianceError):
    """A calendar change that would leave an open deadline already missed."""


@dataclass
class _Open:
    """One open deadline: what it belongs to, how it is counted, and how people are told."""

    obj: object
    ref: str  # the audit object_ref, e.g. "appeal:12"
    start: dt.datetime
    working_days: int
    field: str  # the date field, e.g. "decision_due"; its flag is f"{field}_computed"
    legal_basis: str
    tell_resident: Callable[[dt.date], None]  # given the previous date
    deciders: Callable[[], list]  # the users to e-mail
    subject: Callable[[], str]  # the e-mail's subject and text, in the active language
    text: Callable[[dt.date], str]

    @property
    def due(self) -> dt.date:
        return getattr(self.obj, self.field)

    @property
    def computed(self) -> bool:
        return getattr(self.obj, f"{self.field}_computed")


def _regulators() -> list:
    return list(
        get_user_model()
        .objects.filter(is_active=True, account__role=Role.REGULATOR)
        .exclude(email="")
        .select_related("account")
    )


def _appeals() -> list[_Open]:
    # Only the appeals are locked: PostgreSQL cannot lock the nullable reviewer join.
    appeals = (
        Appeal.objects.select_for_update(of=("self",))
        .filter(status__in=(AppealStatus.PENDING, AppealStatus.ESCALATED))
        .select_related("citizen", "event", "reviewer__account")
        .order_by("pk")
    )
    return [
        _Open(
            obj=appeal,
            ref=f"appeal:{appeal.pk}",
            start=appeal.filed_at,
            working_days=appeal.decision_working_days,
            field="decision_due",
            legal_basis=LEGAL_BASIS,
            tell_resident=lambda previous, appeal=appeal: _notify(
                appeal,
                NotificationKind.DEADLINE_CHANGED,
                _appeal_text(appeal, previous),
                previous_due=previous.isoformat(),
                decision_due=appeal.decision_due.isoformat(),
                decision_due_computed=appeal.decision_due_computed,
            ),
            deciders=lambda appeal=appeal: _deciders(appeal.status, appeal.reviewer),
            subject=lambda appeal=appeal: (
                gettext("Appeal %(id)d: decision now due %(due)s")
                % {"id": appeal.pk, "due": appeal.decision_due.isoformat()}
            ),
            text=lambda previous, appeal=appeal: (
                gettext(
                    "The working-day calendar changed. Appeal %(id)d, due by %(old)s, is now due "
                    "by %(new)s (SH 36, ZJ 31)."
                )
                % {
                    "id": appeal.pk,
                    "old": previous.isoformat(),
                    "new": appeal.decision_due.isoformat(),
                }
            ),
        )
        for appeal in appeals
    ]


def _eligibility_reviews() -> list[_Open]:
    reviews = (
        EligibilityReview.objects.select_for_update(of=("self",))
        .filter(status__in=eligibility_reviews.OPEN_STATUSES)
        .select_related("citizen", "threshold", "reviewer__account")
        .order_by("pk")
    )
    return [
        _Open(
            obj=review,
            ref=f"eligibility_review:{review.pk}",
            start=review.filed_at,
            working_days=review.decision_working_days,
            field="decision_due",
            legal_basis=eligibility_reviews.REVIEW_LEGAL_BASIS,
            tell_resident=lambda previous, review=review: eligibility_reviews.notify(
                review,
                _review_text(review, previous),
                kind=NotificationKind.DEADLINE_CHANGED,
                previous_due=previous.isoformat(),
                decision_due=review.decision_due.isoformat(),
                decision_due_computed=review.decision_due_computed,
            ),
            deciders=lambda review=review: _deciders(review.status, review.reviewer),
            subject=lambda review=review: (
                gettext("Review %(id)d of an eligibility answer: decision now due %(due)s")
                % {"id": review.pk, "due": review.decision_due.isoformat()}
            ),
            text=lambda previous, review=review: (
                gettext(
                    "The working-day calendar changed. Review %(id)d of an eligibility answer, "
                    "due by %(old)s, is now due by %(new)s (PIPL 24)."
                )
                % {
                    "id": review.pk,
                    "old": previous.isoformat(),
                    "new": review.decision_due.isoformat(),
                }
            ),
        )
        for review in reviews
    ]


def _revocations() -> list[_Open]:
    revocations = (
        Revocation.objects.select_for_update(of=("self",))
        .exclude(event__status=EventStatus.EXPIRED)
        .select_related("event__citizen")
        .order_by("pk")
    )
    return [
        _Open(
            obj=revocation,
            ref=f"revocation:{revocation.pk}",
            start=revocation.reported_at,
            working_days=REVOCATION_DELETION_WORKING_DAYS,
            field="removal_due",
            legal_basis="SH 37",
            tell_resident=lambda previous, revocation=revocation: _tell_bilingual(
                revocation, _revocation_text(revocation, previous), previous
            ),
            deciders=list,  # the expiry machinery removes it; nobody decides
            subject=str,
            text=lambda previous: "",
        )
        for revocation in revocations
    ]


def _deciders(status: str, reviewer) -> list:
    """Who decides: the assigned reviewer while pending, the regulators once escalated."""
    if status == AppealStatus.ESCALATED or reviewer is None:
        return _regulators()
    return [reviewer] if reviewer.email else []


def deadlines_recompute(
    *, actor_kind: str, actor_id: str, now: dt.datetime | None = None
) -> list[str]:
    """Recompute every open deadline; the references of those changed (``appeal:12``...)."""
    today = to_local_date(now or timezone.now())
    calendar = workday_calendar()
    with transaction.atomic():
        candidates = [*_appeals(), *_eligibility_reviews(), *_revocations()]
        changes: list[tuple[_Open, Deadline]] = []
        for item in candidates:
            new = deadline(item.start, item.working_days, calendar)
            if (new.due, new.computed) != (item.due, item.computed):
                changes.append((item, new))
        shortened = [
            (item, new)
            for item, new in changes
            if item.due >= today and new.due < item.due and new.due < today
        ]
        if shortened:
            item, new = shortened[0]
            raise DeadlineIntoThePast(
                DeadlineMsg.INTO_THE_PAST
                % {
                    "count": len(shortened),
                    "what": item.ref,
                    "old": item.due.isoformat(),
                    "new": new.due.isoformat(),
                }
            )
        records = []
        for item, new in changes:
            previous = item.due
            setattr(item.obj, item.field, new.due)
            setattr(item.obj, f"{item.field}_computed", new.computed)
            item.obj._history_user = None
            item.obj._change_reason = "deadline recomputed: working-day calendar changed"
            item.obj.save(update_fields=[item.field, f"{item.field}_computed"])
            records.append(
                AuditRecord(
                    action=AuditAction.DEADLINE_RECOMPUTED,
                    actor_kind=actor_kind,
                    actor_id=actor_id,
                    subject=_citizen_of(item.obj).identity_index,
                    object_ref=item.ref,
                    legal_basis=item.legal_basis,
                    details={
                        "previous_due": previous.isoformat(),
                        item.field: new.due.isoformat(),
                        f"{item.field}_computed": new.computed,
                        "working_days": item.working_days,
                    },
                )
            )
            item.tell_resident(previous)
            for user in item.deciders():
                transaction.on_commit(_decider_email(user, item, previous))
        if records:
            log_append(records)
    return [item.ref for item, _new in changes]


def _citizen_of(obj):
    return obj.event.citizen if isinstance(obj, Revocation) else obj.citizen


def _language_of(user) -> str:
    account = getattr(user, "account", None)
    return (account.language if account is not None else "") or settings.LANGUAGE_CODE


def _decider_email(user, item: _Open, previous: dt.date) -> Callable[[], None]:
    """The e-mail to one person who decides, composed now in their language, sent on commit."""
    with translation.override(_language_of(user)):
        subject, text = item.subject(), item.text(previous)
    address, ref = user.email, item.ref

    def send() -> None:
        try:
            send_mail(subject, text, None, [address])
        except Exception:  # the queue shows the date; a failed e-mail is logged
            logger.exception("e-mail about the new deadline of %s failed", ref)

    return send


def _appeal_text(appeal: Appeal, previous: dt.date):
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


def _review_text(review: EligibilityReview, previous: dt.date):
    def compose() -> tuple[str, str]:
        return (
            gettext("The decision deadline of your request for a review changed"),
            gettext(
                "The working-day calendar was updated. The review of the automated answer "
                "for %(benefit)s, due by %(old)s, is now due by %(new)s (%(days)d working "
                "days after your request, PIPL 24)."
            )
            % {
                "benefit": review.threshold.title,
                "old": previous.isoformat(),
                "new": review.decision_due.isoformat(),
                "days": review.decision_working_days,
            }
            + computed_deadline_note(review.decision_due_computed),
        )

    return compose


def _revocation_text(revocation: Revocation, previous: dt.date):
    def compose() -> tuple[str, str]:
        return (
            gettext("The deletion date of a revoked record changed"),
            gettext(
                "The working-day calendar was updated. Record %(event)d, whose decision was "
                "revoked, will be deleted by %(new)s instead of %(old)s (%(days)d working "
                "days, SH 37)."
            )
            % {
                "event": revocation.event_id,
                "old": previous.isoformat(),
                "new": revocation.removal_due.isoformat(),
                "days": REVOCATION_DELETION_WORKING_DAYS,
            }
            + computed_deadline_note(revocation.removal_due_computed),
        )

    return compose


def _tell_bilingual(revocation: Revocation, compose, previous: dt.date) -> None:
    with translation.override("zh-hans"):
        zh_title, zh_body = compose()
    with translation.override("en"):
        en_title, en_body = compose()
    notification_send(
        citizen=revocation.event.citizen,
        kind=NotificationKind.DEADLINE_CHANGED,
        title=f"{zh_title} | {en_title}",
        body=f"{zh_title}\n\n{zh_body}{SEPARATOR}{en_title}\n\n{en_body}",
        payload={
            "event": revocation.event_id,
            "previous_due": previous.isoformat(),
            "removal_due": revocation.removal_due.isoformat(),
            "removal_due_computed": revocation.removal_due_computed,
        },
        event=revocation.event,
    )


def on_calendar_changed(sender, *, actor_kind: str, actor_id: str, **kwargs) -> None:
    """Receiver of ``compliance.signals.calendar_changed``, inside the change's transaction."""
    deadlines_recompute(actor_kind=actor_kind, actor_id=actor_id)
