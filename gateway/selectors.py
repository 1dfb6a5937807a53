"""Reads of the score store."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, Sum

from gateway.models import (
    STARTING_SCORE,
    EventStatus,
    Notification,
    NotificationKind,
    Score,
    ScoreEvent,
    clamp_score,
)


@dataclass(frozen=True)
class ScoreSnapshot:
    score: int
    eligibility_score: int  # without disputed deductions (SH 36) and expired events
    as_of: dt.datetime
    disputed_points: int


def score_snapshot(citizen_id: int | None, *, now: dt.datetime) -> ScoreSnapshot:
    """The score as of now: never counts an event past its period, even before expiry runs."""
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
    counted = points_sum - (adjustments["lapsed"] or 0)
    disputed = adjustments["disputed"] or 0
    return ScoreSnapshot(
        score=clamp_score(counted),
        eligibility_score=clamp_score(counted - disputed),
        as_of=now,
        disputed_points=disputed,
    )


def eligibility_answers(thresholds, snapshot: ScoreSnapshot) -> dict[str, bool]:
    return {t.code: snapshot.eligibility_score >= t.minimum_score for t in thresholds}


def score_history(
    citizen, *, now: dt.datetime, by_act: bool = False
) -> list[tuple[dt.datetime, int]]:
    """The score after each change, oldest first, ending with the score as of ``now``.

    Starts at 100 when the resident was registered; each ledger row changes the sum
    when it is recorded and again when its period ends (if that is past), and the
    score is the sum clamped to 0..200, as ``Score`` keeps it. With BY_ACT, each row
    counts from the day of its act instead (a reversal or repair from its decision), so
    the line tells the history as it happened, whenever the department sent it.
    """
    changes: list[tuple[dt.datetime, int, int]] = []
    rows = ScoreEvent.objects.filter(citizen=citizen).values_list(
        "pk", "points", "recorded_at", "expires_at", "occurred_at"
    )
    for pk, points, recorded_at, expires_at, occurred_at in rows:
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
