"""Reads of the score store."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Min, Q, Sum

from compliance import law
from compliance.periods import publication_last_day
from compliance.workdays import to_local_date
from gateway.models import (
    STARTING_SCORE,
    EventKind,
    EventStatus,
    Notification,
    NotificationKind,
    Score,
    ScoreEvent,
    clamp_score,
)
from gateway.validation import is_pending


@dataclass(frozen=True)
class ScoreSnapshot:
    score: int
    eligibility_score: int  # without disputed deductions (SH 36) and expired events
    as_of: dt.datetime
    disputed_points: int


def score_snapshot(citizen_id: int | None, *, now: dt.datetime) -> ScoreSnapshot:
    """The score as of now: never counts an event past its period, even before expiry runs,
    nor a deduction whose decision is not yet final (ZJ 11), which the stored score holds
    as it holds a disputed one."""
    if citizen_id is None:
        return ScoreSnapshot(STARTING_SCORE, STARTING_SCORE, now, 0)
    stored = Score.objects.filter(citizen_id=citizen_id).values_list("points_sum", flat=True)
    points_sum = stored.first() or 0
    adjustments = ScoreEvent.objects.filter(citizen_id=citizen_id).aggregate(
        lapsed=Sum(
            "points",
            filter=Q(expires_at__lte=now) & ~Q(status=EventStatus.EXPIRED),
        ),
        disputed=Sum(
            "points",
            filter=Q(status=EventStatus.DISPUTED, points__lt=0)
            & (Q(expires_at__isnull=True) | Q(expires_at__gt=now)),
        ),
    )
    pending, pending_disputed = _pending_points(citizen_id, now)
    counted = points_sum - (adjustments["lapsed"] or 0) - pending
    disputed = (adjustments["disputed"] or 0) - pending_disputed
    return ScoreSnapshot(
        score=clamp_score(counted),
        eligibility_score=clamp_score(counted - disputed),
        as_of=now,
        disputed_points=disputed,
    )


def _pending_points(citizen_id: int, now: dt.datetime) -> tuple[int, int]:
    """(points, disputed points) of retained deductions whose decision is not yet final,
    with the rows compensating them (ZJ 11)."""
    rows = list(
        _retained(citizen_id, now)
        .filter(Q(evidence__has_key="finality") | Q(compensates__isnull=False))
        .values("id", "kind", "points", "status", "evidence", "compensates_id")
    )
    pending = {
        row["id"]
        for row in rows
        if row["kind"] == EventKind.RECORD and row["points"] < 0 and is_pending(row["evidence"])
    }
    if not pending:
        return 0, 0
    total = sum(r["points"] for r in rows if r["id"] in pending or r["compensates_id"] in pending)
    disputed = sum(
        r["points"] for r in rows if r["id"] in pending and r["status"] == EventStatus.DISPUTED
    )
    return total, disputed


def eligibility_answers(thresholds, snapshot: ScoreSnapshot) -> dict[str, bool]:
    return {t.code: snapshot.eligibility_score >= t.minimum_score for t in thresholds}


# --- what departments are told -----------------------------------------------------------


@dataclass(frozen=True)
class DepartmentView:
    """Whether a retained ledger row counts for what departments are told, and until when.

    ``published_until`` is the last Asia/Shanghai day a deduction is published (State
    Council General Office 2025 No. 22), counted from the end of the act; None for a
    row that is not a deduction (nothing ends its publication but its own period).
    ``disclosed_from`` is the instant from which a deduction counts for departments:
    its notice delivered to the resident and the notice period passed (CRR 15), and its
    decision final (ZJ 11); None while it is pending or was never told.
    """

    counts: bool
    published_until: dt.date | None = None
    reason: str = ""
    disclosed_from: dt.datetime | None = None


# Why a retained row does not count for departments.
PENDING = "pending"  # its decision is not yet final (ZJ 11)
NOT_PUBLISHED = "not_published"  # a minor item with a publication period of 0 months
PUBLICATION_ENDED = "publication_ended"
NOT_TOLD = "not_told"  # no notice was delivered: it is never passed on (CRR 15)
NOTICE_PERIOD = "notice_period"  # told, but the period before disclosure runs (CRR 15)

_VIEW_FIELDS = (
    "id",
    "kind",
    "points",
    "status",
    "occurred_at",
    "ended_at",
    "expires_at",
    "compensates_id",
    "evidence",
    "rule__severity",
    "rule__publication_months",
)


def _publication_months(row: dict) -> int:
    months = row["rule__publication_months"]
    return months if months is not None else law.PUBLICATION_MONTHS[row["rule__severity"]][1]


def _is_deduction(row: dict) -> bool:
    return row["kind"] == EventKind.RECORD and row["points"] < 0


def _became_final_at(evidence: dict) -> dt.datetime | None:
    finality = evidence.get("finality") if isinstance(evidence, dict) else None
    try:
        return dt.datetime.fromisoformat(finality["became_final_at"])
    except (KeyError, TypeError, ValueError):
        return None


def _disclosed_from(row: dict, told_at: dt.datetime | None) -> dt.datetime | None:
    if told_at is None:
        return None
    start = told_at + dt.timedelta(days=settings.GATEWAY_NOTICE_BEFORE_DISCLOSURE_DAYS)
    final_at = _became_final_at(row["evidence"])
    return max(start, final_at) if final_at is not None else start


def _record_view(row: dict, told_at: dt.datetime | None, now: dt.datetime) -> DepartmentView:
    if not _is_deduction(row):
        return DepartmentView(True)
    last = publication_last_day(row["ended_at"] or row["occurred_at"], _publication_months(row))
    if is_pending(row["evidence"]):
        return DepartmentView(False, last, PENDING)
    disclosed_from = _disclosed_from(row, told_at)
    if last is None:
        return DepartmentView(False, None, NOT_PUBLISHED, disclosed_from)
    if to_local_date(now) > last:
        return DepartmentView(False, last, PUBLICATION_ENDED, disclosed_from)
    if disclosed_from is None:
        return DepartmentView(False, last, NOT_TOLD)
    if now < disclosed_from:
        return DepartmentView(False, last, NOTICE_PERIOD, disclosed_from)
    return DepartmentView(True, last, "", disclosed_from)


def _notices_delivered(citizen_id: int, event_ids: list[int]) -> dict[int, dt.datetime]:
    """When each deduction's notice was delivered: created in the resident's portal, from
    where it is also e-mailed (gateway.services.notices)."""
    if not event_ids:
        return {}
    return dict(
        Notification.objects.filter(
            citizen_id=citizen_id, kind=NotificationKind.DEDUCTION_NOTICE, event_id__in=event_ids
        )
        .values("event_id")
        .annotate(first=Min("created_at"))
        .values_list("event_id", "first")
    )


def _retained(citizen_id: int, now: dt.datetime):
    return (
        ScoreEvent.objects.filter(citizen_id=citizen_id)
        .exclude(status=EventStatus.EXPIRED)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    )


def department_views(citizen_id: int, *, now: dt.datetime) -> dict[int, DepartmentView]:
    """For each row still retained as of ``now``, whether it counts for departments.

    A compensating row (reversal, correction, repair) follows the record it compensates,
    so that the pair nets out in what departments are told as in the resident's score.
    """
    rows = list(_retained(citizen_id, now).values(*_VIEW_FIELDS))
    told = _notices_delivered(citizen_id, [row["id"] for row in rows if _is_deduction(row)])
    views = {
        row["id"]: _record_view(row, told.get(row["id"]), now)
        for row in rows
        if row["compensates_id"] is None
    }
    for row in rows:
        if row["compensates_id"] is not None:
            views[row["id"]] = views.get(row["compensates_id"], DepartmentView(False))
    return views


def events_disclosed_to_departments(citizen_id: int | None, now: dt.datetime) -> list[int]:
    """The ids of the ledger rows that count for what departments are told as of ``now``:
    retained, and for a deduction final (ZJ 11), told to the resident at least the notice
    period before (CRR 15) and within its publication period (2025 No. 22)."""
    if citizen_id is None:
        return []
    return sorted(pk for pk, view in department_views(citizen_id, now=now).items() if view.counts)


def department_snapshot(citizen_id: int | None, *, now: dt.datetime) -> ScoreSnapshot:
    """The score and eligibility score as departments are told them as of ``now``."""
    if citizen_id is None:
        return ScoreSnapshot(STARTING_SCORE, STARTING_SCORE, now, 0)
    ids = events_disclosed_to_departments(citizen_id, now)
    totals = ScoreEvent.objects.filter(pk__in=ids).aggregate(
        counted=Sum("points"),
        disputed=Sum("points", filter=Q(status=EventStatus.DISPUTED, points__lt=0)),
    )
    counted = totals["counted"] or 0
    disputed = totals["disputed"] or 0
    return ScoreSnapshot(
        score=clamp_score(counted),
        eligibility_score=clamp_score(counted - disputed),
        as_of=now,
        disputed_points=disputed,
    )


def score_history(
    citizen, *, now: dt.datetime, by_act: bool = False
) -> list[tuple[dt.datetime, int]]:
    """The score after each change, oldest first, ending with the score as of ``now``.

    Starts at 100 when the resident was registered; each ledger row changes the sum
    when it is recorded and again when its period ends (if that is past), and the
    score is the sum clamped to 0..200, as ``Score`` keeps it; a deduction not yet
    final is left out, as the resident's score leaves it out. With BY_ACT, each row
    counts from the day of its act instead (a reversal or repair from its decision), so
    the line tells the history as it happened, whenever the department sent it.
    """
    changes: list[tuple[dt.datetime, int, int]] = []
    rows = list(
        ScoreEvent.objects.filter(citizen=citizen).values_list(
            "pk",
            "points",
            "recorded_at",
            "expires_at",
            "occurred_at",
            "kind",
            "evidence",
            "compensates_id",
        )
    )
    # A deduction whose decision is not yet final counts nowhere (ZJ 11), nor do the rows
    # compensating it: the line ends at the score the resident is shown.
    pending = {
        row[0] for row in rows if row[5] == EventKind.RECORD and row[1] < 0 and is_pending(row[6])
    }
    for pk, points, recorded_at, expires_at, occurred_at, _kind, _evidence, compensates in rows:
        if pk in pending or compensates in pending:
            continue
        if expires_at is not None and expires_at <= recorded_at:
            continue
        if recorded_at <= now:
            changes.append((min(occurred_at, recorded_at) if by_act else recorded_at, pk, points))
            if expires_at is not None and expires_at <= now:
                changes.append((expires_at, pk, -points))
    changes.sort(key=lambda change: (change[0], change[1]))
    start = citizen.registered_at
    if changes and changes[0][0] < start:
        start = changes[0][0]
    history = [(min(start, now), STARTING_SCORE)]
    points_sum = 0
    for moment, _pk, delta in changes:
        points_sum += delta
        history.append((moment, clamp_score(points_sum)))
    history.append((now, clamp_score(points_sum)))
    return history


def notifications_of_citizen(citizen):
    """The resident's notifications, newest first."""
    return Notification.objects.filter(citizen=citizen).order_by("-created_at", "-pk")


def deduction_notices(citizen, event_ids) -> dict[int, Notification]:
    """The notice of each deduction among ``event_ids`` (the latest, should there be two)."""
    notices: dict[int, Notification] = {}
    for notice in Notification.objects.filter(
        citizen=citizen, kind=NotificationKind.DEDUCTION_NOTICE, event_id__in=list(event_ids)
    ).order_by("created_at", "pk"):
        notices[notice.event_id] = notice
    return notices
