"""Reads of the score store."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, Sum

from gateway.models import STARTING_SCORE, EventStatus, Score, ScoreEvent, clamp_score


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
