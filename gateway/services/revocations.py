"""A department reports that the decision behind one of its deductions was revoked (SH 37).

The record stops counting at once: its period is ended now, so every read leaves it
out from this moment, and ``expire_events`` (daily) removes it from the stored score
within the 3 working days SH 37 allows. The department must be the one that submitted
the record; the revoking document is kept beside the record, the act is audited and
the resident is told, all in one transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.actions import ActorKind, AuditAction
from compliance.law import REVOCATION_DELETION_WORKING_DAYS
from compliance.models import Department
from compliance.selectors import deadline
from compliance.workdays import to_local_date
from gateway.errors import Conflict, Forbidden, InvalidRequest, NotFound, problem
from gateway.models import (
    EventKind,
    EventStatus,
    NotificationKind,
    Revocation,
    RevocationOutcome,
    ScoreEvent,
)
from gateway.services.audit_boundary import log_record
from gateway.services.binding import LedgerBinding
from gateway.services.notices import bilingual_notification, local_day, notifications_bulk_send
from gateway.validation import parse_calendar_date

LEGAL_BASIS = "SH 37"
FIELDS = frozenset({"outcome", "document", "issued_by", "issued_on"})
MAX_CHARS = 200


class Why:
    NOT_FOUND = _("No record has this id.")
    NOT_YOURS = _(
        "Only the department that submitted a record reports that its decision was revoked (SH 37)."
    )
    NOT_A_DEDUCTION = _("Only a deduction rests on a decision that can be revoked (SH 11, SH 37).")
    ALREADY_REVOKED = _("This record's decision was already reported revoked.")
    NO_LONGER_COUNTS = _("This record no longer counts (%(status)s); there is nothing to remove.")
    UNKNOWN_FIELD = _("unknown field")
    NOT_OBJECT = _("must be a JSON object")
    REQUIRED = _("required: the revoking decision is named by its document (SH 37)")
    TEXT = _("must be a string of 1 to %(limit)d characters")
    OUTCOME = _("must be one of: revoked, changed")
    DATE = _("must be a date, YYYY-MM-DD")
    FUTURE = _("the revoking decision cannot be dated in the future")
    BEFORE_ACT = _("the revoking decision cannot be dated before the act")


class EventNotYours(Forbidden):
    code = "not_your_event"


class NotRevocable(Conflict):
    code = "not_revocable"


def _input(data: Any, *, occurred_on: dt.date, today: dt.date) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidRequest([problem("", Why.NOT_OBJECT)])
    problems = [problem(f"/{name}", Why.UNKNOWN_FIELD) for name in data if name not in FIELDS]
    cleaned: dict[str, Any] = {}
    outcome = data.get("outcome", RevocationOutcome.REVOKED)
    if outcome not in RevocationOutcome.values:
        problems.append(problem("/outcome", Why.OUTCOME))
    cleaned["outcome"] = outcome
    for name in ("document", "issued_by"):
        value = data.get(name)
        if value is None:
            problems.append(problem(f"/{name}", Why.REQUIRED))
        elif not isinstance(value, str) or not value.strip() or len(value) > MAX_CHARS:
            problems.append(problem(f"/{name}", Why.TEXT % {"limit": MAX_CHARS}))
        else:
            cleaned[name] = value.strip()
    raw = data.get("issued_on")
    issued_on = None
    if raw is None:
        problems.append(problem("/issued_on", Why.REQUIRED))
    else:
        try:
            # A calendar date only: Python's own parser also takes week and ordinal dates.
            issued_on = parse_calendar_date(raw)
        except ValueError:
            problems.append(problem("/issued_on", Why.DATE))
    if issued_on is not None and issued_on > today:
        problems.append(problem("/issued_on", Why.FUTURE))
    elif issued_on is not None and issued_on < occurred_on:
        problems.append(problem("/issued_on", Why.BEFORE_ACT))
    cleaned["issued_on"] = issued_on
    if problems:
        raise InvalidRequest(problems)
    return cleaned


def _event_id(value: Any) -> int:
    try:
        event_id = int(value)
    except (TypeError, ValueError):
        raise NotFound(Why.NOT_FOUND) from None
    if not 0 < event_id < 2**62:
        raise NotFound(Why.NOT_FOUND)
    return event_id  # a well-formed id; whose record it is, is checked next


def department_event_pk(
    *, department: Department, key_id: str, event_id: Any, action: int, legal_basis: str, why
) -> int:
    """The id of a record that ``department`` submitted, for a report about it (a
    revocation, a finality). A record that does not exist gets the same 403 as another
    department's, so a refusal never tells whether a record exists; the attempt is
    recorded in its own transaction, so the refusal rolls nothing back."""
    pk = _event_id(event_id)
    owner = ScoreEvent.objects.filter(pk=pk).values_list("department_id", flat=True).first()
    if owner is None or owner != department.pk:
        with transaction.atomic():
            log_record(
                action=action,
                actor_kind=ActorKind.DEPARTMENT,
                actor_id=department.code,
                object_ref=f"event:{pk}",
                legal_basis=legal_basis,
                details={"key": key_id, "refused": "not_your_event"},
            )
        raise EventNotYours(why)
    return pk


def event_revoke(
    *,
    department: Department,
    key_id: str,
    event_id: Any,
    data: Any,
    now: dt.datetime | None = None,
) -> Revocation:
    """Record the revocation; the record stops counting now and is removed by expiry."""
    pk = department_event_pk(
        department=department,
        key_id=key_id,
        event_id=event_id,
        action=AuditAction.EVENT_REVOKED,
        legal_basis=LEGAL_BASIS,
        why=Why.NOT_YOURS,
    )
    return _revoke(department=department, key_id=key_id, pk=pk, data=data, now=now)


@transaction.atomic
def _revoke(
    *, department: Department, key_id: str, pk: int, data: Any, now: dt.datetime | None
) -> Revocation:
    now = now or timezone.now()
    event = (
        ScoreEvent.objects.select_for_update(of=("self",))
        .select_related("rule", "department", "citizen")
        .get(pk=pk)
    )
    cleaned = _input(data, occurred_on=local_day(event.occurred_at), today=to_local_date(now))
    if event.kind != EventKind.RECORD or event.points >= 0:
        raise NotRevocable(Why.NOT_A_DEDUCTION)
    if Revocation.objects.filter(event=event).exists():
        raise NotRevocable(Why.ALREADY_REVOKED)
    lapsed = event.expires_at is not None and event.expires_at <= now
    if event.status not in (EventStatus.ACTIVE, EventStatus.DISPUTED) or lapsed:
        shown = EventStatus.EXPIRED if lapsed else event.status
        raise NotRevocable(Why.NO_LONGER_COUNTS % {"status": shown})

    due = deadline(now, REVOCATION_DELETION_WORKING_DAYS)
    revocation = Revocation.objects.create(
        event=event,
        department=department,
        reported_at=now,
        removal_due=due.due,
        removal_due_computed=due.computed,
        **cleaned,
    )
    # Ending the period now takes the record, and every row compensating it, out of
    # every read at once; expire_events then removes them from the stored score.
    binding = LedgerBinding()
    ScoreEvent.objects.filter(pk=event.pk).update(
        expires_at=now, status=EventStatus.REVERSED, audit_entry=binding.entry_id
    )
    ScoreEvent.objects.filter(compensates=event).update(
        expires_at=now, audit_entry=binding.entry_id
    )
    log_record(
        entry_id=binding.entry_id,
        action=AuditAction.EVENT_REVOKED,
        actor_kind=ActorKind.DEPARTMENT,
        actor_id=department.code,
        subject=event.citizen.identity_index,
        object_ref=f"event:{event.pk}",
        legal_basis=LEGAL_BASIS,
        details={
            "key": key_id,
            "revocation": revocation.pk,
            "outcome": revocation.outcome,
            "document": revocation.document,
            "issued_on": revocation.issued_on.isoformat(),
            "points": event.points,
            "removal_due": due.due.isoformat(),
            "removal_due_computed": due.computed,
            **binding.commitment(),
        },
    )
    _notify(event, revocation, now)
    return revocation


_ZH = (
    "处罚决定已撤销：{rule}",
    "{department}报告，您{occurred_on}的记录“{rule}”（{points}分）所依据的决定已被{document}"
    "撤销或变更。该记录自即日起不再计入您的信用分，并将于{removal_due}前删除（《上海市社会信用条例》"
    "第三十七条）。",
)
_EN = (
    "Decision revoked: {rule}",
    '{department} reports that the decision behind your record "{rule}" of {occurred_on} '
    "({points} points) was revoked or changed by {document}. The record no longer counts in "
    "your score from now and will be deleted by {removal_due} (SH 37).",
)
_COMPUTED = {
    "zh": "（该日期按法定节假日规则推算，当年节假日安排尚未公布。）",
    "en": " (This date was computed from the statutory holiday rules; the year's schedule "
    "is not yet published.)",
}


def _notify(event: ScoreEvent, revocation: Revocation, now: dt.datetime) -> None:
    common = {
        "occurred_on": local_day(event.occurred_at).isoformat(),
        "points": event.points,
        "document": revocation.document,
        "removal_due": revocation.removal_due.isoformat(),
    }
    zh = {**common, "rule": event.rule.title_zh, "department": event.department.title_zh}
    en = {**common, "rule": event.rule.title_en, "department": event.department.title_en}
    note = _COMPUTED if revocation.removal_due_computed else {"zh": "", "en": ""}
    notifications_bulk_send(
        [
            bilingual_notification(
                citizen_id=event.citizen_id,
                kind=NotificationKind.EVENT_REVOKED,
                zh=(_ZH[0].format(**zh), _ZH[1].format(**zh) + note["zh"]),
                en=(_EN[0].format(**en), _EN[1].format(**en) + note["en"]),
                payload={
                    "event": event.pk,
                    "revocation": revocation.pk,
                    "document": revocation.document,
                    "removal_due": common["removal_due"],
                    "removal_due_computed": revocation.removal_due_computed,
                    "legal_basis": LEGAL_BASIS,
                },
                now=now,
                event_id=event.pk,
            )
        ]
    )
