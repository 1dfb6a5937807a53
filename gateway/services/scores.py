"""Score maintenance: recompute every score from the ledger and report drift."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.db import transaction
from django.db.models import OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from audit.actions import ActorKind, AuditAction
from compliance.law import STARTING_SCORE
from gateway.models import EventStatus, Score, ScoreEvent, clamp_score
from gateway.services.audit_boundary import log_record
from gateway.services.binding import LedgerBinding
from gateway.services.ledger import scores_apply


@dataclass(frozen=True)
class Drift:
    citizen_id: int
    stored_points_sum: int
    ledger_points_sum: int
    stored_score: int
    ledger_score: int


#: Residents compared per query: the working set of a run, whatever the city's size.
CHUNK_SIZE = 10_000


@dataclass(frozen=True)
class DriftChunk:
    last_citizen_id: int
    checked: int
    drift: list[Drift]


def scores_find_drift_chunks(
    *, chunk_size: int = CHUNK_SIZE, after: int = 0
) -> Iterator[DriftChunk]:
    """Compare stored scores with their ledger, ``chunk_size`` residents at a time.

    Residents come in id order from ``after`` (exclusive), so an interrupted run resumes
    from the last id it reported. Each chunk is one statement, one snapshot: a score and
    the ledger rows it sums are read at the same instant, so a submission committing
    meanwhile never shows as drift. Memory holds one chunk, never the city.
    """
    ledger = (
        ScoreEvent.objects.filter(citizen_id=OuterRef("citizen_id"))
        .exclude(status=EventStatus.EXPIRED)
        .order_by()
        .values("citizen_id")
        .annotate(total=Sum("points"))
        .values("total")
    )
    while True:
        rows = list(
            Score.objects.filter(citizen_id__gt=after)
            .order_by("citizen_id")
            .annotate(ledger=Coalesce(Subquery(ledger), 0))
            .values_list("citizen_id", "points_sum", "score", "ledger")[:chunk_size]
        )
        if not rows:
            return
        drift = [
            Drift(citizen_id, points_sum, expected, score, clamp_score(expected))
            for citizen_id, points_sum, score, expected in rows
            if expected != points_sum or clamp_score(expected) != score
        ]
        after = rows[-1][0]
        yield DriftChunk(after, len(rows), drift)


def scores_find_drift() -> list[Drift]:
    """Every stored score that differs from the sum of its ledger rows that have not expired."""
    return [item for chunk in scores_find_drift_chunks() for item in chunk.drift]


@transaction.atomic
def scores_repair_drift(drift: list[Drift], *, actor_id: str = "manage.py") -> None:
    now = timezone.now()
    binding = LedgerBinding()
    for item in drift:
        Score.objects.filter(citizen_id=item.citizen_id).update(points_sum=0, score=STARTING_SCORE)
        scores_apply(
            {item.citizen_id: item.ledger_points_sum},
            now=now,
            reason="recomputed",
            audit_entry=binding.entry_id,
        )
    # A zero ledger sum leaves the row as reset above: vouch for it all the same.
    binding.mark_scores([item.citizen_id for item in drift])
    log_record(
        action=AuditAction.SCORE_RECOMPUTED,
        actor_kind=ActorKind.SYSTEM,
        actor_id=actor_id,
        details={"repaired": len(drift), **binding.commitment()},
        entry_id=binding.entry_id,
    )
