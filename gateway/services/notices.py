"""Notices of deductions: what was recorded, on what law and document, and the remedies.

The person is told before the information is passed on, with the reasons, the legal
basis and the remedies (CRR 15); the repair notice is delivered together with the
decision (ZJ 28, SH 32, GB22). Both paths are therefore in every deduction notice:

- Objection: possible at any time while the item is served, so the notice's
  "object by" date is the day the item stops being served (its ``expires_at``,
  SH 35). The item is flagged as disputed within 1 working day and decided within
  5 working days, extensible to 20 in total (SH 36, ZJ 30-31).
- Repair: once the act is rectified, the resident applies; the submitting
  department decides; a confirmed repair leaves the score within 3 working days
  (SH 38, GB22).

Language: the notice is written in both languages when it is created, because it is
a legal notice whose wording must not change afterwards. ``body`` holds the Chinese
title and text, a separator line, then the English title and text: that is what
e-mail receives, and ``notice_text(notification, language)`` gives a reader one
language. ``payload`` holds only short ASCII facts (the event, rule and dates): a
1,000-record batch writes 1,000 notices inside the submission's transaction, and
each text is stored once.

``notices_create_for_events`` runs inside the submission's transaction: it builds
every notice from objects already in memory, writes them with one bulk insert and
one audit entry, and registers a single after-commit callback for the e-mails.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import translation

from audit.actions import ActorKind, AuditAction
from audit.services import AuditRecord
from compliance import citations
from compliance.law import (
    DISPLAY_ZONE,
    OBJECTION_DECISION_WORKING_DAYS,
    OBJECTION_EXTENDED_WORKING_DAYS,
    OBJECTION_FLAG_WORKING_DAYS,
    REPAIR_REMOVAL_WORKING_DAYS,
)
from gateway.models import Account, EventKind, Notification, NotificationKind
from gateway.services.bulk import db_datetime, db_json, insert_rows
from gateway.services.notifications import notification_email

logger = logging.getLogger(__name__)

REPAIR_ENDPOINT = "/api/v1/me/repairs"
OBJECTION_ENDPOINT = "/api/v1/me/appeals"
# What a notice's text points the resident to (gateway/portal/urls.py): the record on
# "My records", where the ways to object and to apply for repair are offered while open.
PORTAL_RECORD_PAGE = "/portal/events/#event-{event}"


@functools.lru_cache(maxsize=256)
def _citation(law: str, article: str, language: str) -> str:
    """A rule's legal basis in one language (compliance.citations), for a notice's text."""
    with translation.override(language):
        return citations.citation({"law": law, "article": article})


PROCEDURE_TEXT = {
    "general": ("一般程序行政处罚决定", "administrative penalty decision (general procedure)"),
    "judicial": ("人民法院生效裁判文书", "court judgment"),
}

_ZH_TITLE = "信用扣分告知：{rule}（{points}分）"
_EN_TITLE = "Notice of a credit deduction: {rule} ({points} points)"
_ZH_BODY = "\n\n".join(
    [
        "{department}记录了您的一项失信信息，现依法告知（《征信业管理条例》第十五条）。",
        "记录内容：{rule}（目录编号 {code}，第{version}版），行为日期 {occurred_on}，扣{loss}分。\n"
        "法律依据：{citation}。\n"
        "依据文书：{issued_by} {document}，{issued_on}作出（{procedure}）。\n"
        "使用期限：该记录自行为之日起使用{years}年，自{served_until}起不再使用、不再计入分数"
        "（《上海市社会信用条例》第三十五条，《浙江省公共信用信息管理条例》第十六条）。",
        "如何提出异议：如您认为该记录有错误、遗漏、超期使用或不应列入，可在{served_until}前随时"
        "在居民门户提出异议：{objection_endpoint}（《上海市社会信用条例》第三十六条，"
        "《浙江省公共信用信息管理条例》第三十条）。收到异议后{flag}个工作日内，该记录标注为“有异议”，"
        "异议处理期间不用于资格判断；{decide}个工作日内作出处理决定并告知理由，经批准最长延至"
        "{extended}个工作日。",
        "如何修复信用：纠正失信行为后，您可在居民门户申请信用修复：{endpoint}，说明纠正情况并附"
        "证明；由{department}审核，确认后{removal}个工作日内从分数中移除该扣分（《上海市社会信用条例》"
        "第三十八条，国务院办公厅2025年第22号文件）。",
    ]
)
_EN_BODY = "\n\n".join(
    [
        "{department} recorded negative credit information about you. This notice is "
        "required by law (CRR 15).",
        "What was recorded: {rule} (catalogue code {code}, version {version}), act of "
        "{occurred_on}, {loss} points deducted.\n"
        "Legal basis: {citation}.\n"
        "Document: {issued_by} {document}, issued on {issued_on} ({procedure}).\n"
        "Period: the record is served for {years} years from the act and stops counting on "
        "{served_until} (SH 35, ZJ 16).",
        "How to object: if you think the record is wrong, incomplete, served too long or "
        "should not be listed, you may object at any time before {served_until} in the "
        "residents' portal: {objection_endpoint} (SH 36, ZJ 30). The record "
        "is flagged as disputed within {flag} working day and is not used for eligibility "
        "while the objection is pending; the decision, with reasons, follows within {decide} "
        "working days (at most {extended} with an approved extension).",
        "How to repair your credit: once you have rectified the act, apply for credit repair "
        "in the residents' portal: {endpoint}, saying what you did and giving proof. "
        "{department} decides; a confirmed repair is removed from your score within {removal} "
        "working days (SH 38, GB22).",
    ]
)


_ZH_TOLD_FIRST = (
    "告知在先：该记录自{day}起（且须在决定生效后）方计入向其他部门提供的信用信息（《征信业管理条例》"
    "第十五条）；在此之前您可以提出异议。"
)
_EN_TOLD_FIRST = (
    "Told first: this record counts in what other departments are told only from {day} "
    "(and only once its decision is final), so that you can object before it is passed on "
    "(CRR 15)."
)
_ZH_PENDING = (
    "尚未生效：该决定的行政复议、诉讼（或上诉）期限至{ends}届满。在决定生效前，该记录不计入您的"
    "信用分，也不向其他部门提供（《浙江省公共信用信息管理条例》第十一条）；生效时将另行告知您。"
)
_EN_PENDING = (
    "Not yet final: the decision remains open to administrative review, lawsuit or appeal "
    "until {ends}. Until it is final the record does not count in your score and is not "
    "passed on to other departments (ZJ 11); you will be told when it becomes final."
)


def local_day(moment: dt.datetime) -> dt.date:
    """The calendar day in Asia/Shanghai, where every date a resident is told is given."""
    return moment.astimezone(DISPLAY_ZONE).date()


SEPARATOR = "\n\n――――――――\n\n"


def notice_text(notification: Notification, language: str) -> tuple[str, str]:
    """(title, body) of a bilingual notification in ``zh-hans`` or ``en``."""
    parts = notification.body.split(SEPARATOR)
    if len(parts) != 2:
        return notification.title, notification.body
    title, _, text = parts[1 if language.lower().startswith("en") else 0].partition("\n\n")
    return title, text


def bilingual_notification(
    *,
    citizen_id: int,
    kind: str,
    zh: tuple[str, str],
    en: tuple[str, str],
    payload: dict[str, Any],
    now: dt.datetime,
    **links: Any,
) -> Notification:
    """An unsaved notification holding both languages (see the module docstring)."""
    return Notification(
        citizen_id=citizen_id,
        kind=kind,
        title=f"{zh[0]} | {en[0]}"[:200],
        body=f"{zh[0]}\n\n{zh[1]}{SEPARATOR}{en[0]}\n\n{en[1]}",
        payload=payload,
        created_at=now,
        **links,
    )


def notifications_bulk_send(notifications: Sequence[Notification]) -> list[Notification]:
    """Write notifications in one insert; e-mail them after commit with one callback.

    Only residents whose account has an e-mail address are mailed; each delivery
    is audited by ``notification_email``.
    """
    if not notifications:
        return []
    created = Notification.objects.bulk_create(notifications)
    pairs = [(n.pk, n.citizen_id) for n in created]
    transaction.on_commit(lambda: _email_all(pairs))
    return created


def _email_all(pairs: list[tuple[int, int]]) -> None:
    try:
        with_address = set(
            Account.objects.filter(citizen_id__in={citizen_id for _, citizen_id in pairs})
            .exclude(user__email="")
            .values_list("citizen_id", flat=True)
        )
        for notification_id, citizen_id in pairs:
            if citizen_id in with_address:
                notification_email(notification_id)
    except Exception:  # the act is committed; the portal copy stands
        logger.exception("e-mailing %d notification(s) failed", len(pairs))


def _deduction_notice_row(event, now, created_db) -> tuple:
    """One notice as a row for ``insert_rows`` (see NOTICE_FIELDS)."""
    rule = event.rule
    department = event.department
    evidence = event.evidence or {}
    served_until = local_day(event.expires_at) if event.expires_at else None
    procedure = PROCEDURE_TEXT.get(evidence.get("procedure"), ("", ""))
    common = {
        "code": rule.code,
        "version": rule.version,
        "occurred_on": local_day(event.occurred_at).isoformat(),
        "loss": -event.points,
        "law": rule.legal_basis_law,
        "article": rule.legal_basis_article,
        "issued_by": evidence.get("issued_by", ""),
        "document": evidence.get("document", ""),
        "issued_on": evidence.get("issued_on", ""),
        "years": rule.retention_years,
        "served_until": served_until.isoformat() if served_until else "",
        "flag": OBJECTION_FLAG_WORKING_DAYS,
        "decide": OBJECTION_DECISION_WORKING_DAYS,
        "extended": OBJECTION_EXTENDED_WORKING_DAYS,
        "removal": REPAIR_REMOVAL_WORKING_DAYS,
        # The portal's pages for this record, never the API's paths.
        "endpoint": PORTAL_RECORD_PAGE.format(event=event.pk),
        "objection_endpoint": PORTAL_RECORD_PAGE.format(event=event.pk),
    }
    zh = {**common, "rule": rule.title_zh, "department": department.title_zh}
    en = {**common, "rule": rule.title_en, "department": department.title_en}
    zh["citation"] = _citation(rule.legal_basis_law, rule.legal_basis_article, "zh-hans")
    en["citation"] = _citation(rule.legal_basis_law, rule.legal_basis_article, "en")
    zh["procedure"], en["procedure"] = procedure
    zh_title = _ZH_TITLE.format(**zh, points=event.points)
    en_title = _EN_TITLE.format(**en, points=event.points)
    # Short ASCII facts: the rule, document and legal basis are the event's own rows,
    # and their wording as told is in the body.
    payload = {
        "rule": rule.code,
        "rule_version": rule.version,
        "points": event.points,
        "served_until": common["served_until"],
        "object_by": common["served_until"],
        "appeal_at": OBJECTION_ENDPOINT,
        "repair_at": REPAIR_ENDPOINT,
    }
    zh_body, en_body = _ZH_BODY.format(**zh), _EN_BODY.format(**en)
    # Told first (CRR 15): it counts for other departments only after the notice period.
    disclosed_from = local_day(
        now + dt.timedelta(days=settings.GATEWAY_NOTICE_BEFORE_DISCLOSURE_DAYS)
    ).isoformat()
    zh_body += "\n\n" + _ZH_TOLD_FIRST.format(day=disclosed_from)
    en_body += "\n\n" + _EN_TOLD_FIRST.format(day=disclosed_from)
    payload["counts_for_departments_from"] = disclosed_from
    finality = evidence.get("finality")
    if isinstance(finality, dict) and finality.get("state") == "pending":
        ends = finality.get("review_period_ends", "")
        zh_body += "\n\n" + _ZH_PENDING.format(ends=ends)
        en_body += "\n\n" + _EN_PENDING.format(ends=ends)
        payload["finality"] = "pending"
    return (
        event.citizen_id,
        NotificationKind.DEDUCTION_NOTICE.value,
        f"{zh_title} | {en_title}"[:200],
        f"{zh_title}\n\n{zh_body}{SEPARATOR}{en_title}\n\n{en_body}",
        db_json(payload),
        created_db,
        event.pk,
    )


NOTICE_FIELDS = ("citizen", "kind", "title", "body", "payload", "created_at", "event")


def notices_create_for_events(events: Sequence, *, now: dt.datetime) -> AuditRecord | None:
    """A deduction notice for each newly recorded deduction, in the caller's transaction.

    ``events`` are the rows just recorded, with ``rule`` and ``department`` in memory:
    no query per event, one multi-row insert, one after-commit callback for e-mail.
    Returns the audit record of the portal delivery, for the caller to append with
    its own entry under one lock.
    """
    deductions = [e for e in events if e.kind == EventKind.RECORD and e.points < 0]
    if not deductions:
        return None
    created_db = db_datetime(now)
    rows = [_deduction_notice_row(e, now, created_db) for e in deductions]
    ids = insert_rows(Notification, NOTICE_FIELDS, rows, returning_pk=True)
    pairs = [(notice_id, row[0]) for notice_id, row in zip(ids, rows, strict=True)]
    transaction.on_commit(lambda: _email_all(pairs))
    first = deductions[0]
    return AuditRecord(
        action=AuditAction.NOTICE_DELIVERED,
        actor_kind=ActorKind.SYSTEM,
        actor_id="notices",
        object_ref=(
            f"submission:{first.submission_id}" if first.submission_id else f"event:{first.pk}"
        ),
        legal_basis="CRR 15; ZJ 28; SH 32; GB22",
        details={
            "kind": NotificationKind.DEDUCTION_NOTICE,
            "channel": "portal",
            "notices": len(ids),
            "residents": len({row[0] for row in rows}),
            "notifications": [ids[0], ids[-1]],
        },
    )
