"""A resident's own reads: their score, their records, and who read their data.

SH 34, PIPL 45 and GDPR 15(1)(c) give a person the right to see their own record, its
sources, why it changed, and who used or queried it. Each of these reads is itself an
access to the resident's data and is recorded in the same transaction (ZJ 20).

Choices made here:

- "Who saw my data" lists reads by others: departments, reviewers, regulators and
  administrators, and the department reads that were refused (a query beyond one's
  authority is itself something the resident should learn of, SH 20). The
  resident's own reads are left out by default: they are the resident's own acts
  and would drown the list, since every look at it adds one. ``include_own=True``
  adds them; even then the entry this very read writes is not in the page it
  returns, because it is written after the page is taken.
- A reviewer's read names the reviewer's department and role, not the person, as
  Estonia's Data Tracker names the institution.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.actions import READ_ACTIONS, ActorKind, AuditAction
from audit.selectors import entries_for_subject
from compliance.models import Department, EligibilityThreshold, Purpose
from gateway.errors import InvalidRequest, problem
from gateway.models import Appeal, Citizen, EventStatus, ScoreEvent
from gateway.selectors import (
    DepartmentView,
    department_snapshot,
    department_views,
    eligibility_answers,
    score_snapshot,
)
from gateway.services.appeals import HANDLING_PURPOSE, OPEN_STATUSES
from gateway.services.audit_boundary import log_record

DEFAULT_PAGE = 50
MAX_PAGE = 200
EVIDENCE_FIELDS = ("document", "reference", "issued_by", "issued_on", "procedure", "finality")
SHOWN_ACTIONS = frozenset(READ_ACTIONS | {AuditAction.SCORE_READ_REFUSED})
OWN_LEGAL_BASIS = "SH 34; PIPL 45"


class RightsMsg:
    BAD_LIMIT = _("must be an integer from 1 to %(max)d")
    BAD_OFFSET = _("must be a non-negative integer")
    BAD_CURSOR = _("must be the next value of an earlier page")


def page_bounds(limit: Any, offset: Any) -> tuple[int, int]:
    """Validate limit and offset (ints or query-string text); 400 on anything else."""
    problems = []
    limit = _as_int(limit, DEFAULT_PAGE)
    offset = _as_int(offset, 0)
    if limit is None or not 1 <= limit <= MAX_PAGE:
        problems.append(problem("/limit", RightsMsg.BAD_LIMIT % {"max": MAX_PAGE}))
    if offset is None or not 0 <= offset < 2**62:
        problems.append(problem("/offset", RightsMsg.BAD_OFFSET))
    if problems:
        raise InvalidRequest(problems)
    return limit, offset


def page_cursor(before: Any) -> int | None:
    """The ``before`` cursor (the ``next`` of an earlier page), or None; 400 on anything else.

    A page that starts from a cursor is an index range: as fast at the ten-thousandth
    page as at the first, where an offset reads and drops every row before the page.
    """
    if before is None or before == "":
        return None
    number = _as_int(before, 0)
    if number is None or not 0 < number < 2**62:
        raise InvalidRequest([problem("/before", RightsMsg.BAD_CURSOR)])
    return number


def _as_int(value: Any, default: int) -> int | None:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        return int(value)
    return None


def _actor(citizen: Citizen) -> dict[str, str]:
    account = getattr(citizen, "account", None)
    actor_id = f"account:{account.user_id}" if account is not None else f"citizen:{citizen.pk}"
    return {"actor_kind": ActorKind.CITIZEN, "actor_id": actor_id}


def _bilingual(obj, field: str) -> dict[str, str]:
    return {"zh": getattr(obj, f"{field}_zh"), "en": getattr(obj, f"{field}_en")}


# --- my score ----------------------------------------------------------------------------


def score_read_by_citizen(*, citizen: Citizen, now: dt.datetime | None = None) -> dict[str, Any]:
    """The score and every eligibility answer, with and without disputed deductions.

    ``score`` counts everything still retained (the resident sees it all);
    ``score_for_departments`` and ``eligibility_without_disputed`` are what departments
    are told: deductions within their publication period (2025 No. 22), without those
    disputed while objections are pending (SH 36); ``eligibility`` is what applies to
    the full retained record if the disputed deductions stand.
    """
    with transaction.atomic():
        now = now or timezone.now()
        snapshot = score_snapshot(citizen.pk, now=now)
        told = department_snapshot(citizen.pk, now=now)
        thresholds = list(EligibilityThreshold.objects.order_by("code"))
        payload = {
            "score": snapshot.score,
            "score_without_disputed": snapshot.eligibility_score,
            "score_for_departments": told.score,
            "as_of": now.isoformat(),
            "eligibility": {t.code: snapshot.score >= t.minimum_score for t in thresholds},
            "eligibility_without_disputed": eligibility_answers(thresholds, told),
            "disputed_points": snapshot.disputed_points,
        }
        log_record(
            action=AuditAction.SCORE_READ_BY_CITIZEN,
            subject=citizen.identity_index,
            legal_basis=OWN_LEGAL_BASIS,
            details={"disclosed": sorted(payload)},
            **_actor(citizen),
        )
    return payload


# The resident's own pages other than the score, records, accesses and report, by name.
OWN_PAGES = frozenset({"appeals", "appeal", "repairs", "notifications", "objection", "repair"})


def own_records_read_by_citizen(*, citizen: Citizen, page: str, shown: int) -> None:
    """Record that the resident was shown their own appeals, repair applications, notices
    or the form for one of their records: every page with a resident's data leaves an
    entry, theirs too (in "who saw my data" with ``include_own``)."""
    if page not in OWN_PAGES:
        raise ValueError(page)
    with transaction.atomic():
        log_record(
            action=AuditAction.OWN_RECORDS_READ_BY_CITIZEN,
            subject=citizen.identity_index,
            legal_basis=OWN_LEGAL_BASIS,
            details={"page": page, "shown": shown},
            **_actor(citizen),
        )


# --- my records --------------------------------------------------------------------------


def shown_status(event: ScoreEvent, now: dt.datetime) -> str:
    """The status as of now: a record past its period is expired before the job runs."""
    if event.status in (EventStatus.REVERSED, EventStatus.EXPIRED):
        return event.status
    if event.expires_at is not None and event.expires_at <= now:
        return EventStatus.EXPIRED
    return event.status


def events_read_by_citizen(
    *,
    citizen: Citizen,
    limit: Any = None,
    offset: Any = None,
    before: Any = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """The resident's ledger rows, newest first, with their sources and compensations.

    ``before`` (the ``next`` of the page before) starts the page after that row;
    ``offset`` then counts from there.
    """
    limit, offset = page_bounds(limit, offset)
    cursor = page_cursor(before)
    with transaction.atomic():
        now = now or timezone.now()
        rows = ScoreEvent.objects.filter(citizen=citizen)
        count = rows.count()
        ordered = rows.order_by("-occurred_at", "-id")
        if cursor is not None:
            anchor = rows.filter(pk=cursor).values_list("occurred_at", flat=True).first()
            if anchor is None:
                raise InvalidRequest([problem("/before", RightsMsg.BAD_CURSOR)])
            ordered = ordered.filter(
                Q(occurred_at__lt=anchor) | Q(occurred_at=anchor, id__lt=cursor)
            )
        events = list(ordered.select_related("rule", "department")[offset : offset + limit + 1])
        following = events[limit - 1].pk if len(events) > limit else None
        events = events[:limit]
        ids = [event.pk for event in events]
        compensations: dict[int, list[dict[str, Any]]] = {}
        for row in (
            ScoreEvent.objects.filter(compensates_id__in=ids)
            .order_by("id")
            .values("id", "kind", "points", "compensates_id")
        ):
            compensations.setdefault(row["compensates_id"], []).append(
                {"id": row["id"], "kind": row["kind"], "points": row["points"]}
            )
        appeals: dict[int, list[dict[str, Any]]] = {}
        for row in (
            Appeal.objects.filter(event_id__in=ids)
            .order_by("filed_at", "id")
            .values("id", "status", "event_id")
        ):
            appeals.setdefault(row["event_id"], []).append(
                {"id": row["id"], "status": row["status"]}
            )
        views = department_views(citizen.pk, now=now)
        results = [
            _event_dict(
                event,
                now,
                compensations.get(event.pk, []),
                appeals.get(event.pk, []),
                views.get(event.pk, DepartmentView(False, reason="not_retained")),
            )
            for event in events
        ]
        details = {"limit": limit, "offset": offset, "shown": len(results)}
        if cursor is not None:
            details["before"] = cursor
        log_record(
            action=AuditAction.EVENTS_READ_BY_CITIZEN,
            subject=citizen.identity_index,
            legal_basis=OWN_LEGAL_BASIS,
            details=details,
            **_actor(citizen),
        )
    return _page(count, limit, offset, cursor, following, results)


def _page(count, limit, offset, cursor, following, results) -> dict[str, Any]:
    return {
        "count": count,
        "limit": limit,
        "offset": offset,
        "before": cursor,
        "next": following,
        "results": results,
    }


def _event_dict(
    event: ScoreEvent, now, compensations, appeals, view: DepartmentView
) -> dict[str, Any]:
    rule = event.rule
    department = event.department
    open_appeal = next((a["id"] for a in appeals if a["status"] in OPEN_STATUSES), None)
    return {
        "id": event.pk,
        "kind": event.kind,
        "points": event.points,
        "status": shown_status(event, now),
        "rule": {
            "code": rule.code,
            "version": rule.version,
            "title": _bilingual(rule, "title"),
            "legal_basis": {"law": rule.legal_basis_law, "article": rule.legal_basis_article},
        },
        "department": {"code": department.code, "title": _bilingual(department, "title")},
        # The source of the record and nothing else: ``data`` stays with the department.
        "evidence": {k: event.evidence[k] for k in EVIDENCE_FIELDS if k in event.evidence},
        "occurred_at": event.occurred_at.isoformat(),
        "recorded_at": event.recorded_at.isoformat(),
        "ended_at": event.ended_at.isoformat() if event.ended_at else None,
        "expires_at": event.expires_at.isoformat() if event.expires_at else None,
        # What departments are told: only within the publication period (2025 No. 22).
        "counts_for_departments": view.counts,
        "published_until": view.published_until.isoformat() if view.published_until else None,
        # From when departments are told of it: notice first (CRR 15), once final (ZJ 11).
        "counts_for_departments_from": (
            view.disclosed_from.isoformat() if view.disclosed_from else None
        ),
        # Why not, when it does not: pending, notice_period, publication_ended, ...
        "not_for_departments": view.reason or None,
        "compensates": event.compensates_id,
        "compensations": compensations,
        "open_appeal": open_appeal,
        "appeals": appeals,
    }


# --- who read my data --------------------------------------------------------------------


UNKNOWN_PURPOSE = {
    "title": {"zh": "未登记的用途", "en": "A purpose not in the catalogue"},
    "description": {
        "zh": "查询方声称的用途不在公开目录中，查询被拒绝。",
        "en": "The caller named a purpose that is not in the public catalogue; the read "
        "was refused.",
    },
}


def _builtin_purposes() -> dict[str, dict[str, Any]]:
    return {
        HANDLING_PURPOSE: {
            "title": {"zh": "处理您的异议", "en": "Handling your objection"},
            "description": {
                "zh": "复核人员或监管部门为处理您的异议查看了相关记录。",
                "en": "A reviewer or the regulator looked at the record to decide your objection.",
            },
        },
        "credit_repair": {
            "title": {"zh": "处理您的信用修复申请", "en": "Handling your credit repair"},
            "description": {
                "zh": "提交该记录的部门为审核您的信用修复申请查看了相关记录。",
                "en": "The department that submitted the record looked at it to decide "
                "your credit repair application.",
            },
        },
    }


def accesses_read_by_citizen(
    *,
    citizen: Citizen,
    limit: Any = None,
    offset: Any = None,
    before: Any = None,
    include_own: bool = False,
) -> dict[str, Any]:
    """Every read of the resident's data by others, newest first (SH 34, PIPL 45).

    ``before`` (the ``next`` of the page before) starts the page after that read.
    """
    limit, offset = page_bounds(limit, offset)
    cursor = page_cursor(before)
    with transaction.atomic():
        entries = entries_for_subject(citizen.identity_index, SHOWN_ACTIONS)
        if not include_own:
            entries = entries.exclude(actor_kind=ActorKind.CITIZEN)
        count = entries.count()
        if cursor is not None:
            entries = entries.filter(id__lt=cursor)
        page = list(entries[offset : offset + limit + 1])
        following = page[limit - 1].pk if len(page) > limit else None
        page = page[:limit]
        department_codes = {e.actor_id for e in page if e.actor_kind == ActorKind.DEPARTMENT} | {
            e.details.get("department")
            for e in page
            if e.actor_kind != ActorKind.DEPARTMENT and isinstance(e.details, dict)
        }
        departments = {
            d.code: d for d in Department.objects.filter(code__in=department_codes - {None})
        }
        purposes = {
            p.code: p
            for p in Purpose.objects.filter(code__in={e.purpose for e in page if e.purpose})
        }
        results = [_access_dict(entry, departments, purposes) for entry in page]
        log_record(
            action=AuditAction.ACCESSES_READ_BY_CITIZEN,
            subject=citizen.identity_index,
            legal_basis=OWN_LEGAL_BASIS,
            details={
                "limit": limit,
                "offset": offset,
                "shown": len(results),
                "include_own": include_own,
                **({"before": cursor} if cursor is not None else {}),
            },
            **_actor(citizen),
        )
    return _page(count, limit, offset, cursor, following, results)


def _access_dict(entry, departments, purposes) -> dict[str, Any]:
    if entry.actor_kind == ActorKind.DEPARTMENT:
        code = entry.actor_id
    else:
        code = entry.details.get("department") if isinstance(entry.details, dict) else None
    department = departments.get(code) if code else None
    purpose: dict[str, Any] | None = None
    if entry.purpose:
        known = purposes.get(entry.purpose)
        if known is not None:
            purpose = {
                "code": known.code,
                "title": _bilingual(known, "title"),
                "description": _bilingual(known, "description"),
            }
        elif entry.purpose in _builtin_purposes():
            builtin = _builtin_purposes()[entry.purpose]
            purpose = {"code": entry.purpose, **builtin}
        else:
            # A code the catalogue does not know was the caller's own text: the resident
            # sees that a read under an unknown purpose was refused, never the text.
            purpose = {"code": None, **UNKNOWN_PURPOSE}
    return {
        "time": entry.recorded_at.isoformat(),
        "what": {"code": int(entry.action), "label": str(AuditAction(entry.action).label)},
        "refused": entry.action == AuditAction.SCORE_READ_REFUSED,
        "role": entry.actor_kind,
        "department": (
            {"code": department.code, "title": _bilingual(department, "title")}
            if department is not None
            else None
        ),
        "purpose": purpose,
        "legal_basis": entry.legal_basis,
    }


def accesses_summary_of_citizen(*, citizen: Citizen, include_own: bool = False) -> list[dict]:
    """Every read of the resident's data grouped by who read it and for what, with counts.

    Shown beside ``accesses_read_by_citizen``'s page, whose read records this one too.
    Most frequent first; each group names the department (or the role) and the purpose
    as that page does, and counts the refused attempts and the latest time.
    """
    entries = entries_for_subject(citizen.identity_index, SHOWN_ACTIONS)
    if not include_own:
        entries = entries.exclude(actor_kind=ActorKind.CITIZEN)
    groups: dict[tuple, dict[str, Any]] = {}
    rows = list(
        entries.only("actor_kind", "actor_id", "purpose", "action", "details", "recorded_at")
    )
    department_codes = {e.actor_id for e in rows if e.actor_kind == ActorKind.DEPARTMENT} | {
        e.details.get("department")
        for e in rows
        if e.actor_kind != ActorKind.DEPARTMENT and isinstance(e.details, dict)
    }
    departments = {d.code: d for d in Department.objects.filter(code__in=department_codes - {None})}
    purposes = {
        p.code: p for p in Purpose.objects.filter(code__in={e.purpose for e in rows if e.purpose})
    }
    for entry in rows:
        shown = _access_dict(entry, departments, purposes)
        department = shown["department"]
        purpose = shown["purpose"]
        key = (
            shown["role"],
            department["code"] if department else None,
            purpose["code"] if purpose else None,
            purpose is not None and purpose["code"] is None,
        )
        group = groups.setdefault(
            key,
            {
                "role": shown["role"],
                "department": department,
                "purpose": purpose,
                "count": 0,
                "refused": 0,
                "latest": shown["time"],
            },
        )
        group["count"] += 1
        group["refused"] += shown["refused"]
        group["latest"] = max(group["latest"], shown["time"])
    return sorted(groups.values(), key=lambda g: (-g["count"], g["latest"]), reverse=False)
