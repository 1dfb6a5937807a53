"""Negative items stop being served at the end of their period (SH 35, ZJ 16, CRR 16).

Reads never count an event past its ``expires_at`` (see ``score_snapshot``); this
service makes the store agree: it marks the events expired, removes their personal
data (the row's ``data`` and ``evidence`` are emptied: PIPL 19, 47; CRR 16), takes
their points out of the stored scores, audits each row and tells each resident. The
row stays as a tombstone (rule, points, dates) so that every score it ever changed
can still be recomputed; the entry that expires it commits to the emptied row, so
``audit_verify`` accepts the removal while earlier entries keep the old row's hash.
Compensating rows (reversals, corrections, repairs) share the expiry of the row they
compensate and expire with it, so their pair nets to zero.

Run in batches, each its own transaction, so a large backlog never holds locks for
long; running it again, or twice at once, changes nothing more.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

from audit.actions import ActorKind, AuditAction
from compliance.models import Department, Rule
from gateway.models import Citizen, EventKind, EventStatus, NotificationKind, ScoreEvent
from gateway.services.audit_boundary import AuditRecord, log_append
from gateway.services.binding import LedgerBinding
from gateway.services.ledger import scores_apply
from gateway.services.notices import bilingual_notification, local_day, notifications_bulk_send

BATCH_SIZE = 1000
LEGAL_BASIS = "SH 35; ZJ 16; CRR 16; PIPL 47"

_ZH_TITLE = "记录不再使用：{rule}"
_EN_TITLE = "Record no longer served: {rule}"
_ZH_BODY = (
    "您{occurred_on}的记录“{rule}”（{department}，{points}分）使用期限已满，自{served_until}起"
    "不再使用，已不计入您的信用分（《上海市社会信用条例》第三十五条，《浙江省公共信用信息管理条例》"
    "第十六条，《征信业管理条例》第十六条）。该记录的详细信息（文书与其他数据）已依法删除，仅保留"
    "不含详情的记录标识（《个人信息保护法》第十九条、第四十七条）。"
)
_EN_BODY = (
    'Your record "{rule}" of {occurred_on} ({department}, {points} points) has reached the end '
    "of its period: from {served_until} it is no longer served and no longer counts in your "
    "score (SH 35, ZJ 16, CRR 16). Its details (the document and any other data) have been "
    "deleted; only a marker without them is kept (PIPL 19, 47)."
)


@dataclass(frozen=True)
class ExpiryResult:
    events: int = 0
    residents: int = 0
    notices: int = 0

    def __add__(self, other: ExpiryResult) -> ExpiryResult:
        return ExpiryResult(
            self.events + other.events,
            self.residents + other.residents,
            self.notices + other.notices,
        )


def events_expire(
    *,
    now: dt.datetime,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[ExpiryResult], None] | None = None,
) -> ExpiryResult:
    """Expire every event whose period ended at or before ``now``; idempotent.

    One transaction per batch: an interrupted run keeps the batches it committed, and
    the next run picks up what is left. ``progress`` hears the running total.
    """
    total = ExpiryResult()
    while True:
        result, selected = _expire_batch(now, batch_size)
        total += result
        if progress is not None:
            progress(total)
        if selected < batch_size:
            return total


_FIELDS = (
    "id",
    "citizen_id",
    "department_id",
    "rule_id",
    "kind",
    "status",
    "points",
    "occurred_at",
    "expires_at",
    "compensates_id",
)


@transaction.atomic
def _expire_batch(now: dt.datetime, batch_size: int) -> tuple[ExpiryResult, int]:
    rows = list(
        ScoreEvent.objects.select_for_update(of=("self",))
        .filter(expires_at__lte=now)
        .exclude(status=EventStatus.EXPIRED)
        .order_by("expires_at", "id")
        .values(*_FIELDS)[:batch_size]
    )
    if not rows:
        return ExpiryResult(), 0
    # The batch's first entry vouches for every row the batch changes.
    binding = LedgerBinding()
    ScoreEvent.objects.filter(pk__in=[row["id"] for row in rows]).update(
        status=EventStatus.EXPIRED, data={}, evidence={}, audit_entry=binding.entry_id
    )
    deltas: dict[int, int] = defaultdict(int)
    for row in rows:
        deltas[row["citizen_id"]] -= row["points"]
    scores_apply(deltas, now=now, reason="expired (SH 35)", audit_entry=binding.entry_id)
    commitment = binding.commitment()

    subjects = dict(
        Citizen.objects.filter(pk__in=deltas.keys()).values_list("id", "identity_index")
    )
    log_append(
        [
            AuditRecord(
                action=AuditAction.EVENT_EXPIRED,
                actor_kind=ActorKind.SYSTEM,
                actor_id="expire_events",
                subject=subjects[row["citizen_id"]],
                object_ref=f"event:{row['id']}",
                legal_basis=LEGAL_BASIS,
                details={
                    "kind": row["kind"],
                    "status_before": row["status"],
                    "points": row["points"],
                    "compensates": row["compensates_id"],
                    "expires_at": row["expires_at"].isoformat(),
                    "removed": ["data", "evidence"],
                    **(commitment if position == 0 else {}),
                },
                entry_id=binding.entry_id if position == 0 else None,
            )
            for position, row in enumerate(rows)
        ]
    )

    # Tell the resident about each record that still counted; a reversed record was
    # already taken out of the score and its resident told at the time.
    counted = [
        row
        for row in rows
        if row["kind"] == EventKind.RECORD
        and row["status"] in (EventStatus.ACTIVE, EventStatus.DISPUTED)
    ]
    notices = notifications_bulk_send(_notices(counted, now))
    return ExpiryResult(len(rows), len(deltas), len(notices)), len(rows)


def _notices(rows: list[dict], now: dt.datetime):
    if not rows:
        return []
    rules = Rule.objects.in_bulk({row["rule_id"] for row in rows})
    departments = Department.objects.in_bulk({row["department_id"] for row in rows})
    notices = []
    for row in rows:
        rule = rules[row["rule_id"]]
        department = departments[row["department_id"]]
        common = {
            "occurred_on": local_day(row["occurred_at"]).isoformat(),
            "served_until": local_day(row["expires_at"]).isoformat(),
            "points": row["points"],
        }
        zh = {**common, "rule": rule.title_zh, "department": department.title_zh}
        en = {**common, "rule": rule.title_en, "department": department.title_en}
        notices.append(
            bilingual_notification(
                citizen_id=row["citizen_id"],
                kind=NotificationKind.EVENT_EXPIRED,
                zh=(_ZH_TITLE.format(**zh), _ZH_BODY.format(**zh)),
                en=(_EN_TITLE.format(**en), _EN_BODY.format(**en)),
                payload={
                    "event": row["id"],
                    "rule": rule.code,
                    "rule_version": rule.version,
                    "points": row["points"],
                    "served_until": common["served_until"],
                    "legal_basis": LEGAL_BASIS,
                },
                now=now,
                event_id=row["id"],
            )
        )
    return notices
