"""A resident's report of their own record, for printing (SH 34, PIPL 45).

The report is the portal's pages on one sheet, read through the same services: the
score, every record and every read of the resident's data by others, each part
recorded by its own service as the pages are. One more entry records the report as
a whole, so the two free reports a year of SH 34 can be counted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.actions import AuditAction
from gateway.models import Citizen
from gateway.selectors import notifications_of_citizen, score_history
from gateway.services.appeals import appeals_of_citizen
from gateway.services.audit_boundary import log_record
from gateway.services.rights import (
    MAX_PAGE,
    OWN_LEGAL_BASIS,
    _actor,
    accesses_read_by_citizen,
    events_read_by_citizen,
    score_read_by_citizen,
)


def _every_page(read: Callable[[int, int], dict[str, Any]]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = read(MAX_PAGE, offset)
        results.extend(page["results"])
        offset += MAX_PAGE
        if offset >= page["count"] or not page["results"]:
            return results


def report_read_by_citizen(*, citizen: Citizen, now: dt.datetime | None = None) -> dict[str, Any]:
    """Score, history, records, reads by others, objections and notifications, as of now."""
    with transaction.atomic():
        now = now or timezone.now()
        report = {
            "as_of": now,
            "score": score_read_by_citizen(citizen=citizen, now=now),
            "history": score_history(citizen, now=now),
            "events": _every_page(
                lambda limit, offset: events_read_by_citizen(
                    citizen=citizen, limit=limit, offset=offset, now=now
                )
            ),
            "accesses": _every_page(
                lambda limit, offset: accesses_read_by_citizen(
                    citizen=citizen, limit=limit, offset=offset
                )
            ),
            "appeals": list(appeals_of_citizen(citizen)),
            "notifications": list(notifications_of_citizen(citizen)),
        }
        log_record(
            action=AuditAction.REPORT_READ_BY_CITIZEN,
            subject=citizen.identity_index,
            legal_basis=OWN_LEGAL_BASIS,
            details={
                "events": len(report["events"]),
                "accesses": len(report["accesses"]),
                "appeals": len(report["appeals"]),
                "notifications": len(report["notifications"]),
            },
            **_actor(citizen),
        )
    return report
