"""Credit repair (信用修复): a resident who rectified an act asks for its deduction to go.

The department that submitted the deduction confirms or refuses, with reasons. A
confirmed repair must leave the score within 3 working days (SH 38, GB22); the
gateway removes it at once with a compensating ledger row (kind ``repair``, the
opposite points, the same expiry), marks the original reversed and records both
the statutory ``removal_due`` date and the actual ``removed_at``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.actions import ActorKind, AuditAction
from compliance.law import REPAIR_REMOVAL_WORKING_DAYS
from compliance.models import Department
from compliance.selectors import deadline
from gateway.errors import Conflict, InvalidRequest, NotFound, problem
from gateway.models import (
    Account,
    Citizen,
    EventKind,
    EventStatus,
    NotificationKind,
    RepairApplication,
    RepairStatus,
    ScoreEvent,
)
from gateway.services.audit_boundary import AuditRecord, log_append, log_record
from gateway.services.binding import LedgerBinding
from gateway.services.free_text import free_text_screen
from gateway.services.ledger import scores_apply
from gateway.services.notices import (
    bilingual_notification,
    local_day,
    notifications_bulk_send,
)

STATEMENT_MAX_CHARS = 2000
REFERENCE_MAX_CHARS = 200
REASON_MAX_CHARS = 2000
REPAIRABLE = (EventStatus.ACTIVE, EventStatus.DISPUTED)
LEGAL_BASIS = "SH 38; GB22"
PENDING_PAGE = 200


class Why:
    """Why a repair application or decision is refused."""

    NOT_FOUND = _("No such deduction on your record.")
    EVENT_REQUIRED = _("Must be the id of one of your records.")
    NOT_A_DEDUCTION = _("Only a deduction can be repaired; this record did not deduct points.")
    NOT_COUNTED = _(
        "This deduction no longer counts in your score ({status}); there is nothing to repair."
    )
    ALREADY_OPEN = _("An application to repair this deduction is already awaiting the department.")
    STATEMENT_REQUIRED = _("Say what you did to rectify the act.")
    TOO_LONG = _("At most {limit} characters.")
    NOT_STRING = _("Must be a string.")
    REPAIR_NOT_FOUND = _("No such repair application awaits your department.")
    ALREADY_DECIDED = _("This application was already decided ({status}).")
    BAD_DECISION = _("Must be one of: confirmed, refused.")
    REASON_REQUIRED = _("A refusal must give its reasons (GB22).")


def _text(value: Any, path: str, limit: int, problems: list, *, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        problems.append(problem(path, Why.NOT_STRING))
        return ""
    value = value.strip()
    if required and not value:
        problems.append(problem(path, Why.STATEMENT_REQUIRED))
    elif len(value) > limit:
        problems.append(problem(path, Why.TOO_LONG.format(limit=limit)))
    else:
        # Applications and reasons are kept, shown to the other party and sent in notices.
        free_text_screen(value, path, problems)
    return value


def _counts(event: ScoreEvent, now: dt.datetime) -> bool:
    return event.status in REPAIRABLE and (event.expires_at is None or event.expires_at > now)


@transaction.atomic
def repair_apply(
    *,
    citizen: Citizen,
    event: ScoreEvent | int,
    statement: Any,
    reference: Any = "",
    now: dt.datetime | None = None,
) -> RepairApplication:
    """Apply to repair one of the resident's own deductions that still counts."""
    now = now or timezone.now()
    problems: list = []
    event_id = event.pk if isinstance(event, ScoreEvent) else event
    if isinstance(event_id, bool) or not isinstance(event_id, int) or not 0 < event_id < 2**62:
        problems.append(problem("/event", Why.EVENT_REQUIRED))
    statement = _text(statement, "/statement", STATEMENT_MAX_CHARS, problems, required=True)
    reference = _text(reference, "/reference", REFERENCE_MAX_CHARS, problems)
    if problems:
        raise InvalidRequest(problems)
    # Locking the event serialises two applications for it.
    locked = (
        ScoreEvent.objects.select_for_update()
        .select_related("rule")
        .filter(pk=event_id, citizen_id=citizen.pk)
        .first()
    )
    if locked is None:
        raise NotFound(Why.NOT_FOUND)
    if locked.kind != EventKind.RECORD or locked.points >= 0:
        raise InvalidRequest([problem("/event", Why.NOT_A_DEDUCTION)])
    if not _counts(locked, now):
        status = EventStatus.EXPIRED if locked.status in REPAIRABLE else locked.status
        raise Conflict(Why.NOT_COUNTED.format(status=status))
    if RepairApplication.objects.filter(event=locked, status=RepairStatus.PENDING).exists():
        raise Conflict(Why.ALREADY_OPEN)
    repair = RepairApplication(
        event=locked,
        citizen=citizen,
        statement=statement,
        reference=reference,
        status=RepairStatus.PENDING,
        applied_at=now,
    )
    account = Account.objects.filter(citizen=citizen).select_related("user").first()
    repair._history_user = account.user if account else None
    repair._change_reason = "applied"
    repair.save()
    log_record(
        action=AuditAction.REPAIR_APPLIED,
        actor_kind=ActorKind.CITIZEN,
        # As elsewhere: a resident acts as their account, never by name or number.
        actor_id=f"account:{account.user_id}" if account else f"citizen:{citizen.pk}",
        subject=citizen.identity_index,
        object_ref=f"repair:{repair.pk}",
        legal_basis=LEGAL_BASIS,
        details={"event": locked.pk, "rule": locked.rule.code, "points": locked.points},
    )
    return repair


def repairs_pending_read_by_department(
    *, department: Department, key_id: str = "", limit: int = PENDING_PAGE
) -> tuple[int, list[RepairApplication]]:
    """(count, oldest applications) awaiting the department, for deductions it submitted.

    Showing them to the department is a read of each resident's data, recorded per
    resident (ZJ 20, SH 34).
    """
    pending = RepairApplication.objects.filter(
        status=RepairStatus.PENDING, event__department=department
    )
    with transaction.atomic():
        count = pending.count()
        shown = list(
            pending.select_related("event__rule", "citizen").order_by("applied_at", "id")[:limit]
        )
        log_append(
            [
                AuditRecord(
                    action=AuditAction.DATA_READ_BY_REVIEWER,
                    actor_kind=ActorKind.DEPARTMENT,
                    actor_id=department.code,
                    subject=repair.citizen.identity_index,
                    purpose="credit_repair",
                    legal_basis=LEGAL_BASIS,
                    object_ref=f"repair:{repair.pk}",
                    details={"key": key_id, "event": repair.event_id},
                )
                for repair in shown
            ]
        )
    return count, shown


def repairs_of(citizen: Citizen):
    return (
        RepairApplication.objects.filter(citizen=citizen)
        .select_related("event__rule", "event__department")
        .order_by("-applied_at", "-id")
    )


@transaction.atomic
def repair_decide(
    *,
    department: Department,
    repair_id: int,
    decision: Any,
    reason: Any = "",
    actor_id: str | None = None,
    now: dt.datetime | None = None,
) -> RepairApplication:
    """The submitting department confirms or refuses; a confirmation restores the score now."""
    now = now or timezone.now()
    problems: list = []
    if decision not in (RepairStatus.CONFIRMED, RepairStatus.REFUSED):
        problems.append(problem("/decision", Why.BAD_DECISION))
    reason = _text(reason, "/reason", REASON_MAX_CHARS, problems)
    if decision == RepairStatus.REFUSED and not reason and not problems:
        problems.append(problem("/reason", Why.REASON_REQUIRED))
    if problems:
        raise InvalidRequest(problems)
    repair = (
        RepairApplication.objects.select_for_update()
        .filter(pk=repair_id, event__department=department)
        .first()
    )
    if repair is None:
        raise NotFound(Why.REPAIR_NOT_FOUND)
    if repair.status != RepairStatus.PENDING:
        raise Conflict(Why.ALREADY_DECIDED.format(status=repair.status))
    event = (
        ScoreEvent.objects.select_for_update()
        .select_related("rule", "citizen", "department")
        .get(pk=repair.event_id)
    )
    citizen = event.citizen
    details: dict[str, Any] = {
        "event": event.pk,
        "rule": event.rule.code,
        "decision": decision,
    }
    repair.status = decision
    repair.decided_at = now
    repair.decision_reason = reason
    binding = LedgerBinding()
    if decision == RepairStatus.CONFIRMED:
        if not _counts(event, now):
            status = EventStatus.EXPIRED if event.status in REPAIRABLE else event.status
            raise Conflict(Why.NOT_COUNTED.format(status=status))
        compensation = ScoreEvent.objects.create(
            citizen=citizen,
            department=event.department,
            rule=event.rule,
            kind=EventKind.REPAIR,
            compensates=event,
            points=-event.points,
            occurred_at=now,
            recorded_at=now,
            expires_at=event.expires_at,
            evidence={"repair": repair.pk, "reference": repair.reference},
            data={},
            status=EventStatus.ACTIVE,
            audit_entry=binding.entry_id,
        )
        ScoreEvent.objects.filter(pk=event.pk).update(
            status=EventStatus.REVERSED, audit_entry=binding.entry_id
        )
        scores_apply(
            {citizen.pk: compensation.points},
            now=now,
            reason=f"repair {repair.pk}",
            audit_entry=binding.entry_id,
        )
        due = deadline(now, REPAIR_REMOVAL_WORKING_DAYS)
        repair.removal_due = due.due
        repair.removal_due_computed = due.computed
        repair.removed_at = now
        repair.compensation = compensation
        details.update(
            compensation=compensation.pk,
            points=compensation.points,
            removal_due=repair.removal_due.isoformat(),
            removal_due_computed=repair.removal_due_computed,
        )
    repair._history_user = None  # a department key, not a login
    repair._change_reason = f"decided: {decision}"
    repair.save()
    log_record(
        action=AuditAction.REPAIR_DECIDED,
        actor_kind=ActorKind.DEPARTMENT,
        actor_id=actor_id or department.code,
        subject=citizen.identity_index,
        object_ref=f"repair:{repair.pk}",
        legal_basis=LEGAL_BASIS,
        details={**details, **binding.commitment()},
        entry_id=binding.entry_id,
    )
    _notify(repair, event)
    return repair


_ZH = {
    RepairStatus.CONFIRMED: (
        "信用修复已确认：{rule}",
        "{department}确认了您对“{rule}”（{occurred_on}，{points}分）的信用修复申请。该扣分已于"
        "{removed_on}从您的信用分中移除（法定期限：{removal_due}前，《上海市社会信用条例》第三十八条，"
        "国务院办公厅2025年第22号文件）。{reason}",
    ),
    RepairStatus.REFUSED: (
        "信用修复未获确认：{rule}",
        "{department}未确认您对“{rule}”（{occurred_on}，{points}分）的信用修复申请。理由：{reason}\n"
        "您可在进一步纠正后再次申请；如认为该记录本身有误，可提出异议（《上海市社会信用条例》第三十六条）。",
    ),
}
_EN = {
    RepairStatus.CONFIRMED: (
        "Credit repair confirmed: {rule}",
        '{department} confirmed your application to repair "{rule}" ({occurred_on}, {points} '
        "points). The deduction was removed from your score on {removed_on} (due by "
        "{removal_due}: SH 38, GB22). {reason}",
    ),
    RepairStatus.REFUSED: (
        "Credit repair refused: {rule}",
        '{department} did not confirm your application to repair "{rule}" ({occurred_on}, '
        "{points} points). Reasons: {reason}\nYou may apply again after further rectification; "
        "if you think the record itself is wrong, you may object to it (SH 36).",
    ),
}


def _notify(repair: RepairApplication, event: ScoreEvent) -> None:
    common = {
        "occurred_on": local_day(event.occurred_at).isoformat(),
        "points": event.points,
        "reason": repair.decision_reason,
        "removed_on": local_day(repair.removed_at).isoformat() if repair.removed_at else "",
        "removal_due": repair.removal_due.isoformat() if repair.removal_due else "",
    }
    zh = {**common, "rule": event.rule.title_zh, "department": event.department.title_zh}
    en = {**common, "rule": event.rule.title_en, "department": event.department.title_en}
    zh_title, zh_body = _ZH[repair.status]
    en_title, en_body = _EN[repair.status]
    notifications_bulk_send(
        [
            bilingual_notification(
                citizen_id=repair.citizen_id,
                kind=NotificationKind.REPAIR_DECIDED,
                zh=(zh_title.format(**zh), zh_body.format(**zh).strip()),
                en=(en_title.format(**en), en_body.format(**en).strip()),
                payload={
                    "repair": repair.pk,
                    "event": event.pk,
                    "decision": repair.status,
                    "reason": repair.decision_reason,
                    "compensation": repair.compensation_id,
                    "removal_due": common["removal_due"] or None,
                    "legal_basis": LEGAL_BASIS,
                },
                now=repair.decided_at,
                event=event,
                repair=repair,
            )
        ]
    )
