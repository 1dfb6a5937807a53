"""Score maintenance: recompute every score from the ledger and report drift."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Sum
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


def scores_find_drift() -> list[Drift]:
    """Compare each stored score with the sum of its ledger rows that have not expired."""
    ledger = dict(
        ScoreEvent.objects.exclude(status=EventStatus.EXPIRED)
        .values("citizen_id")
        .annotate(total=Sum("points"))
        .values_list("citizen_id", "total")
    )
    drift = []
    for citizen_id, points_sum, score in Score.objects.values_list(
        "citizen_id", "points_sum", "score"
    ).iterator(chunk_size=5000):
        expected = ledger.get(citizen_id, 0)
        if expected != points_sum or clamp_score(expected) != score:
            drift.append(Drift(citizen_id, points_sum, expected, score, clamp_score(expected)))
    return drift


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
