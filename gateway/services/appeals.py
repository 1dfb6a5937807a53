"""Objections (异议): filing, decision, extension, escalation and the regulator's review.

One function per change of state. Each runs in one transaction that also writes its
audit entry, the appeal's history row and the appellant's notification (portal and
e-mail), so none of them can happen without the others (SH 36, ZJ 30-31).

Choices the statutes leave open, made here:

- Only a department's deduction (a ``record`` row with negative points) can be
  objected to. Compensating rows are the outcome of a decision, and rewards never
  count against anyone; an omitted reward is a matter for its department.
- One objection per record. After a decision the resident asks the regulator for a
  review (ZJ 30) instead of objecting again.
- The record is flagged ``disputed`` in the filing transaction itself, so it stops
  counting against eligibility at once (SH 36 allows 1 working day).
- The decision is due 5 working days after the day of filing (SH 36, ZJ 31), counted
  in Chinese working days (``compliance.workdays``). One extension, to at most 20
  working days from filing in total (ZJ 31); ``working_days`` is that new total.
- The reviewer comes from a department other than the one that submitted the record
  (separation of duties), the one with the fewest open appeals. Their right to decide
  is a django-guardian object permission ``gateway.decide_appeal``. With no eligible
  reviewer the appeal stays unassigned; regulators see it in their queue and decide
  it once it is escalated.
- Statements and reasons are 1 to 5,000 characters.
- A correction keeps a deduction a deduction and makes it smaller: from the original
  points plus one up to -1. A correction to 0 is an overturn, one to the original
  points is an upheld record, and nobody's objection makes their deduction larger.
- The ledger is never edited: an overturn is a ``reversal`` row of the opposite
  points, a correction a ``correction`` row of the difference, both compensating the
  record and expiring with it. A record that stopped counting while the objection
  was pending needs no compensation; the decision is recorded and it expires as usual.
- While the regulator reviews a decision the first decision stands; the review's
  outcome is applied to the record as it was originally submitted.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from guardian.shortcuts import assign_perm, get_objects_for_user

from audit.actions import ActorKind, AuditAction
from compliance import law
from compliance.selectors import deadline
from compliance.workdays import to_local_date
from gateway.errors import Conflict, Forbidden, InvalidRequest, NotFound, problem
from gateway.models import (
    Account,
    Appeal,
    AppealOutcome,
    AppealStatus,
    Citizen,
    EventKind,
    EventStatus,
    NotificationKind,
    Role,
    ScoreEvent,
)
from gateway.services.accounts import account_of, actor_of
from gateway.services.audit_boundary import AuditRecord, log_append
from gateway.services.binding import LedgerBinding
from gateway.services.free_text import free_text_screen
from gateway.services.ledger import scores_apply
from gateway.services.notices import SEPARATOR
from gateway.services.notifications import notification_send

logger = logging.getLogger(__name__)

DECISION_WORKING_DAYS = law.OBJECTION_DECISION_WORKING_DAYS  # SH 36, ZJ 31
MAX_WORKING_DAYS = law.OBJECTION_EXTENDED_WORKING_DAYS  # ZJ 31: with an approved extension
MAX_TEXT_CHARS = 5000
DECIDE_PERMISSION = "gateway.decide_appeal"
LEGAL_BASIS = "SH 36; ZJ 30-31"
REVIEW_LEGAL_BASIS = "ZJ 30"
OPEN_STATUSES = (AppealStatus.PENDING, AppealStatus.ESCALATED, AppealStatus.UNDER_REVIEW)
DECIDABLE_STATUSES = (AppealStatus.PENDING, AppealStatus.ESCALATED)
# What a reviewer reads while handling an objection; shown to the resident as such.
HANDLING_PURPOSE = "appeal_handling"


class AppealMsg:
    NOT_FOUND = _("Not found.")
    EVENT_NOT_FOUND = _("You have no record with this id.")
    STATEMENT_REQUIRED = _("a statement is required")
    REASON_REQUIRED = _("reasons are required: the resident is told them (ZJ 30)")
    TEXT_TOO_LONG = _("at most %(limit)d characters")
    NOT_A_STRING = _("must be a string")
    ALREADY_OPEN = _("This record is already under objection; one objection at a time (SH 36).")
    ALREADY_DECIDED = _(
        "An objection to this record was already decided; ask the regulator to review "
        "the decision instead (ZJ 30)."
    )
    REVERSED = _("This record was reversed; it no longer counts.")
    EXPIRED = _("This record has passed its period and no longer counts (SH 35, ZJ 16, CRR 16).")
    NOT_A_DEDUCTION = _(
        "Only a department's deduction can be objected to here; for an omitted reward "
        "contact the department."
    )
    BAD_OUTCOME = _("must be one of: upheld, corrected, overturned")
    POINTS_REQUIRED = _("a corrected outcome needs the corrected points")
    POINTS_NOT_ALLOWED = _("points are given only with a corrected outcome")
    POINTS_NOT_INTEGER = _("must be an integer")
    POINTS_OUT_OF_BOUNDS = _(
        "a corrected deduction stays a deduction and becomes smaller: from %(low)d to -1 "
        "(0 is an overturn, %(original)d the record upheld)"
    )
    POINTS_IMPOSSIBLE = _(
        "a deduction of %(original)d point cannot be made smaller: overturn or uphold it"
    )
    NOT_DECIDABLE = _("This appeal was already decided.")
    NOT_PENDING = _("Only a pending appeal can be extended.")
    EXTENDED_ONCE = _("The deadline can be extended only once (ZJ 31).")
    DEADLINE_PASSED = _("The decision was due on %(due)s; an overdue appeal is not extended.")
    BAD_WORKING_DAYS = _(
        "the new total must be %(low)d to %(high)d working days from filing (ZJ 31)"
    )
    OWN_DEPARTMENT = _(
        "A reviewer never decides a record of their own department (separation of duties)."
    )
    REGULATOR_DECIDES_ESCALATED = _(
        "A regulator decides an appeal only once it is overdue and escalated."
    )
    NOT_ALLOWED = _("You may not do this with this appeal.")
    REVIEW_NOT_DECIDED = _("A review can be requested only after the objection is decided.")
    REVIEW_ALREADY = _("A review of this decision was already requested.")
    NOT_UNDER_REVIEW = _("This appeal is not awaiting the regulator's review.")


class AppealExists(Conflict):
    code = "appeal_exists"


class NotAppealable(Conflict):
    code = "not_appealable"


class AppealNotOpen(Conflict):
    code = "appeal_not_open"


class ExtensionRefused(Conflict):
    code = "extension_refused"


class SeparationOfDuties(Forbidden):
    code = "separation_of_duties"


# --- who may do what ---------------------------------------------------------------------


def _role(user) -> str | None:
    account = account_of(user)
    return account.role if account is not None else None


def _holds_decide_permission(user, appeal: Appeal) -> bool:
    return (
        _role(user) == Role.REVIEWER and user.is_active and user.has_perm(DECIDE_PERMISSION, appeal)
    )


def appeal_visible_to(user, appeal: Appeal) -> bool:
    """The appellant, the reviewer holding the permission, and regulators see an appeal."""
    account = account_of(user)
    if account is None:
        return False
    if account.role == Role.CITIZEN:
        return account.citizen_id == appeal.citizen_id
    if account.role == Role.REGULATOR:
        return True
    return _holds_decide_permission(user, appeal)


def _refuse(user, appeal: Appeal, message) -> None:
    """403 for those who may see the appeal, 404 for everyone else: never reveal it."""
    if appeal_visible_to(user, appeal):
        raise Forbidden(message)
    raise NotFound(AppealMsg.NOT_FOUND)


def _check_separation(user, event: ScoreEvent) -> None:
    account = account_of(user)
    if account is not None and account.department_id == event.department_id:
        raise SeparationOfDuties(AppealMsg.OWN_DEPARTMENT)


# --- input -------------------------------------------------------------------------------


def _text(value: Any, path: str, required_message, problems: list) -> str:
    if value is not None and not isinstance(value, str):
        problems.append(problem(path, AppealMsg.NOT_A_STRING))
        return ""
    text = (value or "").strip()
    if not text:
        problems.append(problem(path, required_message))
    elif len(text) > MAX_TEXT_CHARS:
        problems.append(problem(path, AppealMsg.TEXT_TOO_LONG % {"limit": MAX_TEXT_CHARS}))
    else:
        # Statements and reasons are kept, shown to others and sent in notices.
        free_text_screen(text, path, problems)
    return text


def _decision_input(
    outcome: Any, reason: Any, points: Any, original: int
) -> tuple[str, int | None]:
    """Validate a decision; return (reason, target points of the record)."""
    problems: list[dict[str, Any]] = []
    if outcome not in AppealOutcome.values:
        problems.append(problem("/outcome", AppealMsg.BAD_OUTCOME))
    text = _text(reason, "/reason", AppealMsg.REASON_REQUIRED, problems)
    target = None
    if outcome == AppealOutcome.CORRECTED:
        if points is None:
            problems.append(problem("/points", AppealMsg.POINTS_REQUIRED))
        elif isinstance(points, bool) or not isinstance(points, int):
            problems.append(problem("/points", AppealMsg.POINTS_NOT_INTEGER))
        elif original >= -1:
            problems.append(
                problem("/points", AppealMsg.POINTS_IMPOSSIBLE % {"original": original})
            )
        elif not original < points < 0:
            problems.append(
                problem(
                    "/points",
                    AppealMsg.POINTS_OUT_OF_BOUNDS % {"low": original + 1, "original": original},
                )
            )
        else:
            target = points
    elif points is not None:
        problems.append(problem("/points", AppealMsg.POINTS_NOT_ALLOWED))
    elif outcome == AppealOutcome.UPHELD:
        target = original
    elif outcome == AppealOutcome.OVERTURNED:
        target = 0
    if problems:
        raise InvalidRequest(problems)
    return text, target


# --- shared steps ------------------------------------------------------------------------


def _locked(appeal: Appeal) -> Appeal:
    return (
        Appeal.objects.select_for_update()
        .select_related("event", "citizen", "event__department", "event__rule")
        .get(pk=appeal.pk)
    )


def _save(appeal: Appeal, user, reason: str, fields: list[str]) -> None:
    """Save through the model so simple-history writes its row, naming who acted."""
    appeal._history_user = user if getattr(user, "pk", None) else None
    appeal._change_reason = reason
    appeal.save(update_fields=fields)


def _lapsed(event: ScoreEvent, now: dt.datetime) -> bool:
    return event.status == EventStatus.EXPIRED or (
        event.expires_at is not None and event.expires_at <= now
    )


def _settle(
    appeal: Appeal, event: ScoreEvent, target: int, now: dt.datetime
) -> tuple[ScoreEvent | None, LedgerBinding]:
    """Make the record count ``target`` points with at most one compensating row.

    Returns the compensating row (None when no points changed) and the binding of the
    ledger rows this touched, for the decision's audit entry.
    """
    binding = LedgerBinding()
    event = ScoreEvent.objects.select_for_update().get(pk=event.pk)
    if _lapsed(event, now):
        if event.status == EventStatus.DISPUTED:
            ScoreEvent.objects.filter(pk=event.pk).update(status=EventStatus.ACTIVE)
            binding.mark_events([event.pk])
        return None, binding
    mine, others = 0, False
    for points, data in event.compensations.values_list("points", "data"):
        if isinstance(data, dict) and data.get("appeal") == appeal.pk:
            mine += points
        else:
            others = True
    if others and event.status == EventStatus.REVERSED:
        # Taken out of the score meanwhile by other means (a confirmed credit repair):
        # whatever the objection's outcome, the record no longer counts.
        return None, binding
    delta = target - (event.points + mine)
    new_status = EventStatus.REVERSED if target == 0 else EventStatus.ACTIVE
    ScoreEvent.objects.filter(pk=event.pk).update(status=new_status)
    binding.mark_events([event.pk])
    if delta == 0:
        return None, binding
    row = ScoreEvent.objects.create(
        citizen_id=event.citizen_id,
        department_id=event.department_id,
        rule_id=event.rule_id,
        kind=EventKind.REVERSAL if target == 0 else EventKind.CORRECTION,
        compensates=event,
        points=delta,
        occurred_at=now,
        recorded_at=now,
        # Expires with the record it compensates, so the two stop counting together.
        expires_at=event.expires_at,
        evidence={
            "reference": f"appeal:{appeal.pk}",
            "issued_on": to_local_date(now).isoformat(),
        },
        data={"appeal": appeal.pk},
        status=EventStatus.ACTIVE,
        audit_entry=binding.entry_id,
    )
    scores_apply(
        {event.citizen_id: delta},
        now=now,
        reason=f"appeal {appeal.pk}",
        audit_entry=binding.entry_id,
    )
    return row, binding


def _ledger_record(appeal: Appeal, row: ScoreEvent | None, actor: dict) -> list[AuditRecord]:
    if row is None:
        return []
    return [
        AuditRecord(
            action=AuditAction.EVENT_REVERSED
            if row.kind == EventKind.REVERSAL
            else AuditAction.EVENT_CORRECTED,
            subject=appeal.citizen.identity_index,
            object_ref=f"event:{row.pk}",
            legal_basis=LEGAL_BASIS,
            details={
                "appeal": appeal.pk,
                "compensates": row.compensates_id,
                "points": row.points,
            },
            **actor,
        )
    ]


def _appeal_record(
    appeal: Appeal,
    action: int,
    actor: dict,
    *,
    binding: LedgerBinding | None = None,
    **details: Any,
) -> AuditRecord:
    return AuditRecord(
        action=action,
        subject=appeal.citizen.identity_index,
        object_ref=f"appeal:{appeal.pk}",
        legal_basis=REVIEW_LEGAL_BASIS
        if action == AuditAction.APPEAL_REVIEW_REQUESTED
        else LEGAL_BASIS,
        details={"event": appeal.event_id, **details, **(binding.commitment() if binding else {})},
        entry_id=binding.entry_id if binding else None,
        **actor,
    )


def _notify(
    appeal: Appeal, kind: str, compose: Callable[[], tuple[str, str]], **payload: Any
) -> None:
    """Tell the appellant in both languages, whatever the acting person's language is:
    ``compose`` returns (title, body) and is called once per language."""
    with translation.override("zh-hans"):
        zh_title, zh_body = compose()
    with translation.override("en"):
        en_title, en_body = compose()
    notification_send(
        citizen=appeal.citizen,
        kind=kind,
        title=f"{zh_title} | {en_title}"[:200],
        body=f"{zh_title}\n\n{zh_body}{SEPARATOR}{en_title}\n\n{en_body}",
        payload={"appeal": appeal.pk, "event": appeal.event_id, "status": appeal.status, **payload},
        event=appeal.event,
        appeal=appeal,
    )


def _remedies() -> str:
    return gettext(
        "If you disagree, you may ask the regulator to review the decision (ZJ 30) or "
        "go to court (PIPL 50)."
    )


def _outcome_text(outcome: str, points: int | None) -> str:
    if outcome == AppealOutcome.UPHELD:
        return gettext("The record stands.")
    if outcome == AppealOutcome.OVERTURNED:
        return gettext("The record was reversed and no longer counts against you.")
    return gettext("The record now counts %(points)d points.") % {"points": points}


# --- filing ------------------------------------------------------------------------------


def _assign_reviewer(event: ScoreEvent):
    """The reviewer outside the record's department with the fewest open appeals."""
    users = get_user_model()
    return (
        users.objects.filter(
            is_active=True,
            account__role=Role.REVIEWER,
            account__department__isnull=False,
            account__department__is_active=True,
        )
        .exclude(account__department_id=event.department_id)
        .annotate(
            open_appeals=Count(
                "assigned_appeals",
                filter=Q(assigned_appeals__status__in=DECIDABLE_STATUSES),
            )
        )
        .order_by("open_appeals", "pk")
        .first()
    )


def citizen_event(citizen: Citizen, event_id: Any) -> ScoreEvent:
    """One of the resident's own ledger rows, else 404 (another's is never revealed)."""
    if isinstance(event_id, bool) or not isinstance(event_id, int) or not 0 < event_id < 2**62:
        raise InvalidRequest([problem("/event", _("must be the id of one of your records"))])
    event = ScoreEvent.objects.filter(pk=event_id, citizen=citizen).first()
    if event is None:
        raise NotFound(AppealMsg.EVENT_NOT_FOUND)
    return event


def objection_open(event: dict[str, Any]) -> bool:
    """Whether ``appeal_file`` takes an objection to a record shown by ``events_read_by_citizen``.

    For offering the way to object; ``appeal_file`` still decides and gives its reasons.
    """
    return (
        event["kind"] == EventKind.RECORD
        and event["points"] < 0
        and event["status"] == EventStatus.ACTIVE
        and not event["appeals"]
    )


@transaction.atomic
def appeal_file(
    *, citizen: Citizen, event: ScoreEvent, statement: str, now: dt.datetime | None = None
) -> Appeal:
    """File an objection: the record is flagged disputed and a reviewer assigned at once."""
    now = now or timezone.now()
    if event.citizen_id != citizen.pk:
        raise NotFound(AppealMsg.EVENT_NOT_FOUND)
    problems: list[dict[str, Any]] = []
    text = _text(statement, "/statement", AppealMsg.STATEMENT_REQUIRED, problems)
    if problems:
        raise InvalidRequest(problems)

    event = ScoreEvent.objects.select_for_update().select_related("department").get(pk=event.pk)
    if event.kind != EventKind.RECORD or event.points >= 0:
        raise NotAppealable(AppealMsg.NOT_A_DEDUCTION)
    if event.status == EventStatus.REVERSED:
        raise NotAppealable(AppealMsg.REVERSED)
    if _lapsed(event, now):
        raise NotAppealable(AppealMsg.EXPIRED)
    previous = Appeal.objects.filter(event=event).values_list("status", flat=True)
    if any(status in OPEN_STATUSES for status in previous):
        raise AppealExists(AppealMsg.ALREADY_OPEN)
    if previous:
        raise AppealExists(AppealMsg.ALREADY_DECIDED)

    account = Account.objects.filter(citizen=citizen).select_related("user").first()
    user = account.user if account else None
    reviewer = _assign_reviewer(event)
    due = deadline(now, DECISION_WORKING_DAYS)
    appeal = Appeal(
        event=event,
        citizen=citizen,
        statement=text,
        status=AppealStatus.PENDING,
        filed_at=now,
        decision_due=due.due,
        decision_working_days=DECISION_WORKING_DAYS,
        decision_due_computed=due.computed,
        reviewer=reviewer,
    )
    appeal._history_user = user
    appeal._change_reason = "filed"
    appeal.save()
    ScoreEvent.objects.filter(pk=event.pk).update(status=EventStatus.DISPUTED)
    binding = LedgerBinding()
    binding.mark_events([event.pk])
    if reviewer is not None:
        assign_perm(DECIDE_PERMISSION, reviewer, appeal)

    actor = (
        actor_of(user)
        if user is not None
        else {"actor_kind": ActorKind.CITIZEN, "actor_id": f"citizen:{citizen.pk}"}
    )
    log_append(
        [
            _appeal_record(
                appeal,
                AuditAction.APPEAL_FILED,
                actor,
                binding=binding,
                department=event.department.code,
                flagged=EventStatus.DISPUTED,
                decision_due=appeal.decision_due.isoformat(),
                decision_due_computed=appeal.decision_due_computed,
                reviewer=reviewer.get_username() if reviewer else None,
            )
        ]
    )
    _notify(
        appeal,
        NotificationKind.APPEAL_FILED,
        lambda: (
            gettext("Your objection was received"),
            gettext(
                "Your objection to record %(event)d was received. The record is marked as "
                "disputed and does not count against your eligibility while it is reviewed "
                "(SH 36). A decision is due by %(due)s (%(days)d working days, SH 36, ZJ 31)."
            )
            % {
                "event": event.pk,
                "due": appeal.decision_due.isoformat(),
                "days": appeal.decision_working_days,
            }
            + computed_deadline_note(appeal.decision_due_computed),
        ),
        decision_due=appeal.decision_due.isoformat(),
        decision_due_computed=appeal.decision_due_computed,
    )
    return appeal


def computed_deadline_note(computed: bool) -> str:
    """The sentence every deadline in a year without a published schedule carries."""
    if not computed:
        return ""
    return " " + gettext(
        "This date was computed from the national holiday rules because the State "
        "Council has not yet published the year's holiday schedule; if the published "
        "schedule moves it, you will be told the new date."
    )


# --- decision ----------------------------------------------------------------------------


@transaction.atomic
def appeal_decide(
    *,
    appeal: Appeal,
    reviewer,
    outcome: str,
    reason: str,
    points: int | None = None,
    now: dt.datetime | None = None,
) -> Appeal:
    """Decide an objection: the assigned reviewer, or a regulator once it is escalated."""
    now = now or timezone.now()
    appeal = _locked(appeal)
    role = _role(reviewer)
    if _holds_decide_permission(reviewer, appeal):
        _check_separation(reviewer, appeal.event)
    elif role == Role.REGULATOR:
        if appeal.status == AppealStatus.PENDING:
            raise Forbidden(AppealMsg.REGULATOR_DECIDES_ESCALATED)
    else:
        _refuse(reviewer, appeal, AppealMsg.NOT_ALLOWED)
    if appeal.status not in DECIDABLE_STATUSES:
        raise AppealNotOpen(AppealMsg.NOT_DECIDABLE)
    text, target = _decision_input(outcome, reason, points, appeal.event.points)

    row, binding = _settle(appeal, appeal.event, target, now)
    appeal.status = AppealStatus.DECIDED
    appeal.outcome = outcome
    appeal.decision_reason = text
    appeal.corrected_points = points if outcome == AppealOutcome.CORRECTED else None
    appeal.decided_at = now
    appeal.decided_by = reviewer
    _save(
        appeal,
        reviewer,
        f"decided: {outcome}",
        ["status", "outcome", "decision_reason", "corrected_points", "decided_at", "decided_by"],
    )
    actor = actor_of(reviewer)
    log_append(
        [
            *_ledger_record(appeal, row, actor),
            _appeal_record(
                appeal,
                AuditAction.APPEAL_DECIDED,
                actor,
                binding=binding,
                stage="decision",
                outcome=outcome,
                points=target,
                compensation=row.pk if row else None,
                on_time=to_local_date(now) <= appeal.decision_due,
            ),
        ]
    )
    _notify(
        appeal,
        NotificationKind.APPEAL_DECIDED,
        lambda: (
            gettext("Your objection was decided"),
            "\n\n".join(
                [
                    _outcome_text(outcome, target),
                    gettext("Reasons: %(reason)s") % {"reason": text},
                    _remedies(),
                ]
            ),
        ),
        outcome=outcome,
        points=target,
    )
    return appeal


# --- extension ---------------------------------------------------------------------------


@transaction.atomic
def appeal_extend(
    *,
    appeal: Appeal,
    reviewer,
    reason: str,
    working_days: int = MAX_WORKING_DAYS,
    now: dt.datetime | None = None,
) -> Appeal:
    """Extend the deadline once, to ``working_days`` after filing (at most 20, ZJ 31)."""
    now = now or timezone.now()
    appeal = _locked(appeal)
    if not _holds_decide_permission(reviewer, appeal):
        _refuse(reviewer, appeal, AppealMsg.NOT_ALLOWED)
    _check_separation(reviewer, appeal.event)
    if appeal.status != AppealStatus.PENDING:
        raise AppealNotOpen(AppealMsg.NOT_PENDING)
    if appeal.extended_at is not None:
        raise ExtensionRefused(AppealMsg.EXTENDED_ONCE)
    if to_local_date(now) > appeal.decision_due:
        raise ExtensionRefused(AppealMsg.DEADLINE_PASSED % {"due": appeal.decision_due.isoformat()})
    problems: list[dict[str, Any]] = []
    text = _text(reason, "/reason", AppealMsg.REASON_REQUIRED, problems)
    low = DECISION_WORKING_DAYS + 1
    if (
        isinstance(working_days, bool)
        or not isinstance(working_days, int)
        or not low <= working_days <= MAX_WORKING_DAYS
    ):
        problems.append(
            problem(
                "/working_days",
                AppealMsg.BAD_WORKING_DAYS % {"low": low, "high": MAX_WORKING_DAYS},
            )
        )
    if problems:
        raise InvalidRequest(problems)

    previous_due = appeal.decision_due
    due = deadline(appeal.filed_at, working_days)
    appeal.decision_due = due.due
    appeal.decision_working_days = working_days
    appeal.decision_due_computed = due.computed
    appeal.extended_at = now
    appeal.extension_reason = text
    _save(
        appeal,
        reviewer,
        "extended",
        [
            "decision_due",
            "decision_working_days",
            "decision_due_computed",
            "extended_at",
            "extension_reason",
        ],
    )
    log_append(
        [
            _appeal_record(
                appeal,
                AuditAction.APPEAL_EXTENDED,
                actor_of(reviewer),
                previous_due=previous_due.isoformat(),
                decision_due=appeal.decision_due.isoformat(),
                decision_due_computed=appeal.decision_due_computed,
                working_days=working_days,
            )
        ]
    )
    _notify(
        appeal,
        NotificationKind.APPEAL_EXTENDED,
        lambda: (
            gettext("The decision on your objection was extended"),
            gettext(
                "The decision on your objection is now due by %(due)s (%(days)d working days "
                "after filing, ZJ 31). Reason: %(reason)s"
            )
            % {"due": appeal.decision_due.isoformat(), "days": working_days, "reason": text}
            + computed_deadline_note(appeal.decision_due_computed),
        ),
        decision_due=appeal.decision_due.isoformat(),
        decision_due_computed=appeal.decision_due_computed,
    )
    return appeal


# --- escalation --------------------------------------------------------------------------


def appeals_escalate_overdue(*, today: dt.date | None = None) -> list[int]:
    """Escalate every pending appeal whose decision was due before ``today``.

    Each appeal is escalated in its own transaction, so one failure leaves the rest
    done; a second run the same day finds nothing left to do. Regulators with an
    e-mail address get one message listing the appeals escalated by this run.
    """
    today = today or timezone.localdate()
    overdue = list(
        Appeal.objects.filter(status=AppealStatus.PENDING, decision_due__lt=today)
        .order_by("decision_due", "pk")
        .values_list("pk", flat=True)
    )
    escalated = [pk for pk in overdue if appeal_escalate(appeal_id=pk, today=today)]
    if escalated:
        _regulators_email(escalated)
    return escalated


@transaction.atomic
def appeal_escalate(*, appeal_id: int, today: dt.date) -> bool:
    """Pass one overdue appeal to the regulator; False if it was decided meanwhile."""
    appeal = (
        Appeal.objects.select_for_update().select_related("citizen", "event").filter(pk=appeal_id)
    ).first()
    if appeal is None or appeal.status != AppealStatus.PENDING or appeal.decision_due >= today:
        return False
    appeal.status = AppealStatus.ESCALATED
    appeal.escalated_at = timezone.now()
    _save(appeal, None, "escalated: overdue", ["status", "escalated_at"])
    log_append(
        [
            _appeal_record(
                appeal,
                AuditAction.APPEAL_ESCALATED,
                {"actor_kind": ActorKind.SYSTEM, "actor_id": "escalate_overdue_appeals"},
                decision_due=appeal.decision_due.isoformat(),
                reviewer=appeal.reviewer.get_username() if appeal.reviewer else None,
            )
        ]
    )
    _notify(
        appeal,
        NotificationKind.APPEAL_ESCALATED,
        lambda: (
            gettext("Your objection was passed to the regulator"),
            gettext(
                "The decision on your objection was due by %(due)s and has not been made. "
                "It was passed to the regulator, who will decide it (ZJ 31). The record stays "
                "marked as disputed until then."
            )
            % {"due": appeal.decision_due.isoformat()},
        ),
    )
    return True


def _regulators_email(appeal_ids: list[int]) -> None:
    addresses = list(
        get_user_model()
        .objects.filter(is_active=True, account__role=Role.REGULATOR)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if not addresses:
        return
    try:
        send_mail(
            gettext("Overdue objections escalated"),
            gettext("These appeals are overdue and now wait for a regulator: %(ids)s")
            % {"ids": ", ".join(str(pk) for pk in appeal_ids)},
            None,
            addresses,
        )
    except Exception:  # the escalations stand; regulators also see their queue
        logger.exception("e-mail to regulators about escalated appeals failed")


# --- the regulator's review (ZJ 30) ------------------------------------------------------


@transaction.atomic
def appeal_request_review(
    *, appeal: Appeal, citizen: Citizen, statement: str, now: dt.datetime | None = None
) -> Appeal:
    """The appellant asks the regulator to review the decision (ZJ 30)."""
    now = now or timezone.now()
    appeal = _locked(appeal)
    if appeal.citizen_id != citizen.pk:
        raise NotFound(AppealMsg.NOT_FOUND)
    if appeal.status in (AppealStatus.UNDER_REVIEW, AppealStatus.REVIEWED):
        raise AppealNotOpen(AppealMsg.REVIEW_ALREADY)
    if appeal.status != AppealStatus.DECIDED:
        raise AppealNotOpen(AppealMsg.REVIEW_NOT_DECIDED)
    problems: list[dict[str, Any]] = []
    text = _text(statement, "/statement", AppealMsg.STATEMENT_REQUIRED, problems)
    if problems:
        raise InvalidRequest(problems)

    account = Account.objects.filter(citizen=citizen).select_related("user").first()
    user = account.user if account else None
    appeal.status = AppealStatus.UNDER_REVIEW
    appeal.review_requested_at = now
    appeal.review_statement = text
    _save(appeal, user, "review requested", ["status", "review_requested_at", "review_statement"])
    actor = (
        actor_of(user)
        if user is not None
        else {"actor_kind": ActorKind.CITIZEN, "actor_id": f"citizen:{citizen.pk}"}
    )
    log_append([_appeal_record(appeal, AuditAction.APPEAL_REVIEW_REQUESTED, actor)])
    _notify(
        appeal,
        NotificationKind.APPEAL_REVIEW,
        lambda: (
            gettext("Your request for a review was received"),
            gettext(
                "The regulator will review the decision on your objection (ZJ 30). The "
                "decision stands until the review is decided."
            ),
        ),
    )
    return appeal


@transaction.atomic
def appeal_review_decide(
    *,
    appeal: Appeal,
    regulator,
    outcome: str,
    reason: str,
    points: int | None = None,
    now: dt.datetime | None = None,
) -> Appeal:
    """The regulator's review: its outcome applies to the record as first submitted."""
    now = now or timezone.now()
    appeal = _locked(appeal)
    if _role(regulator) != Role.REGULATOR:
        _refuse(regulator, appeal, AppealMsg.NOT_ALLOWED)
    if appeal.status != AppealStatus.UNDER_REVIEW:
        raise AppealNotOpen(AppealMsg.NOT_UNDER_REVIEW)
    text, target = _decision_input(outcome, reason, points, appeal.event.points)

    row, binding = _settle(appeal, appeal.event, target, now)
    appeal.status = AppealStatus.REVIEWED
    appeal.review_outcome = outcome
    appeal.review_reason = text
    appeal.review_corrected_points = points if outcome == AppealOutcome.CORRECTED else None
    appeal.reviewed_at = now
    appeal.reviewed_by = regulator
    _save(
        appeal,
        regulator,
        f"reviewed: {outcome}",
        [
            "status",
            "review_outcome",
            "review_reason",
            "review_corrected_points",
            "reviewed_at",
            "reviewed_by",
        ],
    )
    actor = actor_of(regulator)
    log_append(
        [
            *_ledger_record(appeal, row, actor),
            _appeal_record(
                appeal,
                AuditAction.APPEAL_DECIDED,
                actor,
                binding=binding,
                stage="review",
                outcome=outcome,
                points=target,
                compensation=row.pk if row else None,
            ),
        ]
    )
    _notify(
        appeal,
        NotificationKind.APPEAL_REVIEW,
        lambda: (
            gettext("The regulator reviewed the decision on your objection"),
            "\n\n".join(
                [
                    _outcome_text(outcome, target),
                    gettext("Reasons: %(reason)s") % {"reason": text},
                    gettext("You may still go to court (PIPL 50)."),
                ]
            ),
        ),
        outcome=outcome,
        points=target,
    )
    return appeal


# --- reads -------------------------------------------------------------------------------


def appeal_read(*, user, appeal_id: int, visit: set[int] | None = None) -> Appeal:
    """One appeal for whoever may see it, else 404. Staff reads are recorded (ZJ 20).

    VISIT, when given, holds the appeals already recorded as read in this visit (the
    portal's session): one visit is one access, however many pages show the appeal.
    """
    appeal = (
        Appeal.objects.select_related("event__rule", "event__department", "citizen", "reviewer")
        .filter(pk=appeal_id)
        .first()
    )
    if appeal is None or not appeal_visible_to(user, appeal):
        raise NotFound(AppealMsg.NOT_FOUND)
    if _role(user) != Role.CITIZEN:
        _record_staff_reads(user, [appeal], visit)
    return appeal


def appeals_of_citizen(citizen: Citizen):
    """The resident's own appeals, newest first (the pages showing them record the read)."""
    return (
        Appeal.objects.filter(citizen=citizen)
        .select_related("event__rule", "event__department")
        .order_by("-filed_at", "-pk")
    )


def appeals_queue(user):
    """A reviewer's assigned appeals; a regulator's queue: escalated, under review, unassigned.

    Oldest deadline first. An unassigned appeal is one with no eligible reviewer.
    """
    base = Appeal.objects.select_related(
        "event__rule", "event__department", "citizen", "reviewer"
    ).order_by("decision_due", "pk")
    role = _role(user)
    if role == Role.REVIEWER:
        assigned = get_objects_for_user(
            user, DECIDE_PERMISSION, klass=Appeal, accept_global_perms=False
        )
        return base.filter(pk__in=assigned.values("pk"))
    if role == Role.REGULATOR:
        return base.filter(
            Q(status__in=(AppealStatus.ESCALATED, AppealStatus.UNDER_REVIEW))
            | Q(status=AppealStatus.PENDING, reviewer__isnull=True)
        )
    return base.none()


def appeals_read_by_staff(*, user, appeals: list[Appeal], visit: set[int] | None = None) -> None:
    """Record that a reviewer or regulator was shown these appellants' data (once a visit)."""
    _record_staff_reads(user, appeals, visit)


def _record_staff_reads(user, appeals: list[Appeal], visit: set[int] | None = None) -> None:
    if visit is not None:
        appeals = [appeal for appeal in appeals if appeal.pk not in visit]
        visit.update(appeal.pk for appeal in appeals)
    if not appeals:
        return
    account = account_of(user)
    department = account.department.code if account and account.department_id else None
    actor = actor_of(user)
    with transaction.atomic():
        log_append(
            [
                AuditRecord(
                    action=AuditAction.DATA_READ_BY_REVIEWER,
                    subject=appeal.citizen.identity_index,
                    purpose=HANDLING_PURPOSE,
                    legal_basis=LEGAL_BASIS,
                    object_ref=f"appeal:{appeal.pk}",
                    details={"department": department, "event": appeal.event_id},
                    **actor,
                )
                for appeal in appeals
            ]
        )
