"""A deduction whose decision is not yet final becomes final (ZJ 11).

A department may send a deduction whose penalty decision is still open to
administrative review or lawsuit, or whose judgment is still open to appeal, with
``evidence.finality = {"state": "pending", "review_period_ends": date}``
(gateway.validation.Finality). It is kept, and the resident told, but it does not
count in any score or eligibility answer and is not disclosed to departments until it
becomes final, in one of two ways:

- the department that submitted it reports finality (``event_finality_report``,
  ``POST /api/v1/events/{id}/finality``): the day it became final and why (periods
  passed, upheld on review, upheld on appeal);
- the review period passes with no report (``events_finalize_due``, run daily by
  ``manage.py finalize_events``): final the day after ``review_period_ends``.

Each step is one transaction: the record's evidence says it is final, the audit entry
commits to the changed row (gateway.services.binding), and the resident is told. A
decision revoked on review is reported through the revocation endpoint instead (SH 37).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.actions import ActorKind, AuditAction
from compliance.models import Department
from compliance.workdays import to_local_date
from gateway.errors import Conflict, InvalidRequest, problem
from gateway.models import EventKind, EventStatus, NotificationKind, ScoreEvent
from gateway.services.audit_boundary import log_record
from gateway.services.binding import LedgerBinding
from gateway.services.notices import bilingual_notification, local_day, notifications_bulk_send
from gateway.services.revocations import department_event_pk
from gateway.validation import Finality, OutOfRange, is_pending, parse_calendar_date

LEGAL_BASIS = "ZJ 11"
FIELDS = frozenset({"final_on", "ground"})
BY_PERIOD = "period_passed"
BY_REPORT = "reported"


class Why:
    NOT_YOURS = _("Only the department that submitted a record reports that its decision is final.")
    NOT_PENDING = _("This record's decision is already final (ZJ 11).")
    NO_LONGER_COUNTS = _("This record no longer counts (%(status)s); there is nothing to report.")
    UNKNOWN_FIELD = _("unknown field")
    NOT_OBJECT = _("must be a JSON object")
    REQUIRED = _("required: the day the decision became final (ZJ 11)")
    DATE = _("must be a date, YYYY-MM-DD")
    GROUND = _("must be one of: periods_passed, upheld_on_review, upheld_on_appeal")
    FUTURE = _("a decision cannot be final on a day still to come")
    BEFORE_DECISION = _("a decision cannot become final before it was issued (ZJ 11)")


class NotPending(Conflict):
    code = "not_pending"


class FinalityDateInvalid(InvalidRequest):
    """Well-formed dates the decision cannot have become final on."""

    status_code = 422
    code = "finality_date_invalid"


def _input(data: Any) -> tuple[dt.date, str]:
    if not isinstance(data, dict):
        raise InvalidRequest([problem("", Why.NOT_OBJECT)])
    problems = [problem(f"/{name}", Why.UNKNOWN_FIELD) for name in data if name not in FIELDS]
    ground = data.get("ground", "periods_passed")
    if ground not in Finality.GROUNDS:
        problems.append(problem("/ground", Why.GROUND))
    raw, final_on = data.get("final_on"), None
    if raw is None:
        problems.append(problem("/final_on", Why.REQUIRED))
    else:
        try:
            final_on = parse_calendar_date(raw)
        except (OutOfRange, ValueError):
            problems.append(problem("/final_on", Why.DATE))
    if problems:
        raise InvalidRequest(problems)
    return final_on, ground


def event_finality_report(
    *,
    department: Department,
    key_id: str,
    event_id: Any,
    data: Any,
    now: dt.datetime | None = None,
) -> ScoreEvent:
    """The submitting department reports that a pending deduction's decision is final."""
    pk = department_event_pk(
        department=department,
        key_id=key_id,
        event_id=event_id,
        action=AuditAction.EVENT_FINAL,
        legal_basis=LEGAL_BASIS,
        why=Why.NOT_YOURS,
    )
    return _report(department=department, key_id=key_id, pk=pk, data=data, now=now)


@transaction.atomic
def _report(
    *, department: Department, key_id: str, pk: int, data: Any, now: dt.datetime | None
) -> ScoreEvent:
    now = now or timezone.now()
    final_on, ground = _input(data)
    event = _locked(pk)
    _check_pending(event, now)
    issued_on = _issued_on(event)
    if final_on > to_local_date(now):
        raise FinalityDateInvalid([problem("/final_on", Why.FUTURE)])
    if issued_on is not None and final_on < issued_on:
        raise FinalityDateInvalid([problem("/final_on", Why.BEFORE_DECISION)])
    return event_finalize(
        event=event,
        final_on=final_on,
        ground=ground,
        how=BY_REPORT,
        actor=(ActorKind.DEPARTMENT, department.code),
        details={"key": key_id},
        now=now,
    )


def _locked(pk: int) -> ScoreEvent:
    return (
        ScoreEvent.objects.select_for_update(of=("self",))
        .select_related("rule", "department", "citizen")
        .get(pk=pk)
    )


def _check_pending(event: ScoreEvent, now: dt.datetime) -> None:
    if event.kind != EventKind.RECORD or event.points >= 0 or not is_pending(event.evidence):
        raise NotPending(Why.NOT_PENDING)
    lapsed = event.expires_at is not None and event.expires_at <= now
    if event.status not in (EventStatus.ACTIVE, EventStatus.DISPUTED) or lapsed:
        shown = EventStatus.EXPIRED if lapsed else event.status
        raise NotPending(Why.NO_LONGER_COUNTS % {"status": shown})


def _issued_on(event: ScoreEvent) -> dt.date | None:
    try:
        return dt.date.fromisoformat(event.evidence.get("issued_on", ""))
    except (TypeError, ValueError):
        return None


def event_finalize(
    *,
    event: ScoreEvent,
    final_on: dt.date,
    ground: str,
    how: str,
    actor: tuple[str, str],
    details: dict[str, Any],
    now: dt.datetime,
) -> ScoreEvent:
    """Make a locked pending deduction final, in the caller's transaction: its evidence
    says so, the audit entry commits to the row, and the resident is told."""
    before = event.evidence.get("finality", {})
    finality = {
        "state": Finality.FINAL,
        "final_on": final_on.isoformat(),
        "ground": ground,
        "review_period_ends": before.get("review_period_ends"),
        "became_final_at": now.isoformat(),
        "how": how,
    }
    event.evidence = {**event.evidence, "finality": finality}
    binding = LedgerBinding()
    ScoreEvent.objects.filter(pk=event.pk).update(
        evidence=event.evidence, audit_entry=binding.entry_id
    )
    log_record(
        entry_id=binding.entry_id,
        action=AuditAction.EVENT_FINAL,
        actor_kind=actor[0],
        actor_id=actor[1],
        subject=event.citizen.identity_index,
        object_ref=f"event:{event.pk}",
        legal_basis=LEGAL_BASIS,
        details={
            **details,
            "final_on": finality["final_on"],
            "ground": ground,
            "how": how,
            "points": event.points,
            **binding.commitment(),
        },
    )
    _notify(event, finality, now)
    return event


def events_finalize_due(*, now: dt.datetime | None = None) -> int:
    """Make final every pending deduction whose review period has passed; idempotent.

    Each record is its own transaction, so one failure leaves the others done.
    """
    now = now or timezone.now()
    today = to_local_date(now)
    candidates = (
        ScoreEvent.objects.filter(
            kind=EventKind.RECORD,
            points__lt=0,
            status__in=(EventStatus.ACTIVE, EventStatus.DISPUTED),
            evidence__finality__state=Finality.PENDING,
        )
        .order_by("id")
        .values_list("id", "evidence")
    )
    done = 0
    for pk, evidence in candidates.iterator(chunk_size=500):
        ends = _period_end(evidence)
        if ends is not None and ends < today:
            done += _finalize_one(pk, now)
    return done


def _period_end(evidence: dict) -> dt.date | None:
    try:
        return dt.date.fromisoformat(evidence["finality"]["review_period_ends"])
    except (KeyError, TypeError, ValueError):
        return None


@transaction.atomic
def _finalize_one(pk: int, now: dt.datetime) -> int:
    event = _locked(pk)
    if not is_pending(event.evidence) or event.status not in (
        EventStatus.ACTIVE,
        EventStatus.DISPUTED,
    ):
        return 0  # made final, revoked or expired since it was listed
    if event.expires_at is not None and event.expires_at <= now:
        return 0
    ends = _period_end(event.evidence)
    event_finalize(
        event=event,
        final_on=ends + dt.timedelta(days=1),
        ground="periods_passed",
        how=BY_PERIOD,
        actor=(ActorKind.SYSTEM, "finalize_events"),
        details={"review_period_ends": ends.isoformat()},
        now=now,
    )
    return 1


_ZH = (
    "处罚决定已生效：{rule}",
    "您{occurred_on}的记录“{rule}”（{department}，{points}分）所依据的决定已于{final_on}生效"
    "（{how_zh}），自即日起计入您的信用分（《浙江省公共信用信息管理条例》第十一条）。"
    "您仍可对该记录提出异议或申请信用修复。",
)
_EN = (
    "Decision now final: {rule}",
    'The decision behind your record "{rule}" of {occurred_on} ({department}, {points} '
    "points) became final on {final_on} ({how_en}). From now it counts in your score "
    "(ZJ 11). You may still object to the record or apply for credit repair.",
)
_HOW = {
    "periods_passed": ("复议、诉讼期限届满", "the review and lawsuit periods passed"),
    "upheld_on_review": ("经行政复议维持", "upheld on administrative review"),
    "upheld_on_appeal": ("经上诉或诉讼维持", "upheld on appeal or lawsuit"),
}


def _notify(event: ScoreEvent, finality: dict, now: dt.datetime) -> None:
    how_zh, how_en = _HOW[finality["ground"]]
    common = {
        "occurred_on": local_day(event.occurred_at).isoformat(),
        "points": event.points,
        "final_on": finality["final_on"],
    }
    zh = {**common, "rule": event.rule.title_zh, "department": event.department.title_zh}
    en = {**common, "rule": event.rule.title_en, "department": event.department.title_en}
    notifications_bulk_send(
        [
            bilingual_notification(
                citizen_id=event.citizen_id,
                kind=NotificationKind.EVENT_FINAL,
                zh=(_ZH[0].format(**zh), _ZH[1].format(**zh, how_zh=how_zh)),
                en=(_EN[0].format(**en), _EN[1].format(**en, how_en=how_en)),
                payload={
                    "event": event.pk,
                    "final_on": finality["final_on"],
                    "ground": finality["ground"],
                    "legal_basis": LEGAL_BASIS,
                },
                now=now,
                event_id=event.pk,
            )
        ]
    )
