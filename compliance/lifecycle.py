"""The catalogue's lifecycle: draft, public comment, publication, new versions, withdrawal.

One service per transition. Each locks the rule, checks the law, saves it (which
writes its history row) and writes a RULE_TRANSITIONED audit entry in the same
transaction.

Dates are calendar days in Asia/Shanghai (the settings' TIME_ZONE):

- A comment period runs from ``opens_on`` to ``closes_on``, both days included.
  Serious-dishonesty standards need at least 30 days (SH 10, ZJ 12, State Council
  2020 No. 49 §7). No statute fixes a minimum for ordinary entries; the gateway asks
  for 7 days so that every draft gets at least one full working week of comment.
- A period may not open in the past: a backdated period would claim comment that
  was never possible.
- Publication comes after the last day of comment, and a version takes effect no
  earlier than the day it is published.
- The comment period must be the full one of the rule's severity when it is
  published; a change of severity or points during comment restarts it (the rule
  goes back to draft), so the public always comments on what is published.
- A rule is saved only here: ``Rule.save`` refuses any other caller, so the admin,
  a command or a shell cannot skip a step. Rules published before the gateway
  existed come in through ``rule_import_published``, which checks the same law
  against the dates they carry.
- A new version that replaces one already published takes effect from the day
  after publication at the earliest. The version it replaces then ends the day
  before, so that version still covers every act up to and including today: no
  act already committed changes law, and no recorded event changes points.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from audit.actions import AuditAction
from audit.guard import guarded
from audit.services import audit_record
from compliance import law
from compliance.models import Department, Rule, RuleComment, RuleSeverity, RuleStatus
from compliance.selectors import departments_by_rule
from compliance.services import ComplianceError, grant_set
from compliance.workdays import to_local_date

MIN_COMMENT_DAYS = {
    RuleSeverity.SERIOUS: law.SERIOUS_COMMENT_DAYS,
    RuleSeverity.ORDINARY: 7,
    RuleSeverity.MINOR: 7,
}
COMMENT_MAX_CHARS = 2000
# What a new version may change; the code is the identity of the catalogue entry.
VERSION_FIELDS = frozenset(
    {
        "title_zh",
        "title_en",
        "points",
        "severity",
        "legal_basis_law",
        "legal_basis_article",
        "retention_years",
        "publication_months",
    }
)


class Refusal:
    """Why a transition is refused, each naming the rule of law behind it."""

    NOT_DRAFT = "Only a draft can be opened for public comment (it is now {status})."
    PERIOD_IN_PAST = "A comment period cannot open in the past ({opens_on} is before {today})."
    PERIOD_REVERSED = "The comment period closes before it opens."
    PERIOD_TOO_SHORT = (
        "A {severity} catalogue entry needs at least {minimum} days of public comment; "
        "{opens_on} to {closes_on} is {days} (SH 10, ZJ 12, State Council 2020 No. 49 §7)."
    )
    NOT_IN_COMMENT = "Only a rule that went through public comment can be published (SH 10)."
    COMMENT_NOT_CLOSED = (
        "The public comment period runs until {closes_on}; publish from the day after (SH 10)."
    )
    RETROACTIVE = (
        "Refused: a rule cannot apply retroactively. It is published on {today} and would "
        "take effect on {effective_from}; choose {today} or later (SH 10: rules apply only "
        "from their published effective date)."
    )
    RETROACTIVE_VERSION = (
        "Refused: version {version} would shorten version {previous} into the past. Version "
        "{previous} covers acts up to {today} at least, so the new version can take effect "
        "from {earliest} at the earliest (SH 10: no retroactive rules)."
    )
    BEFORE_PREVIOUS = (
        "Version {version} cannot take effect on {effective_from}, before version {previous} "
        "itself takes effect on {previous_from}."
    )
    NOT_PUBLISHED = "A new version is made from the published version (this one is {status})."
    VERSION_PENDING = (
        "Version {version} of {code} is already in preparation ({status}); publish or "
        "withdraw it first."
    )
    UNKNOWN_CHANGE = "A new version cannot change: {fields}."
    CODE_EXISTS = "The code {code} is already in the catalogue; make a new version of it instead."
    ALREADY_WITHDRAWN = "The rule is already withdrawn."
    REASON_REQUIRED = "Give the reason for withdrawing the rule."
    COMMENT_CLOSED = "This rule is not open for public comment today."
    COMMENT_EMPTY = "Write a comment."
    COMMENT_TOO_LONG = "A comment holds at most {limit} characters."
    COMMENT_TOO_SHORT_FOR_SEVERITY = (
        "A {severity} catalogue entry needs at least {minimum} days of public comment; its "
        "period {opens_on} to {closes_on} was {days} (SH 10, ZJ 12, State Council 2020 "
        "No. 49 §7). Withdraw it and open a new draft for the full period."
    )
    NOT_EDITABLE = "A {status} rule is not edited (SH 10): make a new version or withdraw it."
    PUBLISHED_NEVER_EDITED = (
        "A published rule is never edited: create a new version with its own effective "
        "dates (SH 10)."
    )
    TRANSITION_FIELDS = (
        "{fields} change only through the lifecycle's transitions (open for comment, "
        "publish, withdraw), never by editing (SH 10)."
    )
    VERSION_EXISTS = "Version {version} of {code} is already in the catalogue."
    PUBLISHED_BEFORE_COMMENT_CLOSED = (
        "A rule is published after its comment period: published on {published_on}, "
        "comment closed on {closes_on} (SH 10)."
    )
    PUBLISHED_IN_FUTURE = "A rule cannot be recorded as published in the future ({published_at})."
    NAIVE_PUBLISHED_AT = "The publication instant needs its time zone."


def _today(now: dt.datetime | None = None) -> dt.date:
    return timezone.localdate(now or timezone.now())


def _locked(rule: Rule) -> Rule:
    return Rule.objects.select_for_update().get(pk=rule.pk)


def _save(rule: Rule, reason: str, fields: list[str] | None = None) -> None:
    rule._change_reason = reason[:100]
    rule._lifecycle_write = True
    rule.save(update_fields=fields)


def _check_comment_period(severity: str, opens_on: dt.date, closes_on: dt.date, message: str):
    days = (closes_on - opens_on).days + 1
    minimum = MIN_COMMENT_DAYS[RuleSeverity(severity)]
    if days < minimum:
        raise ComplianceError(
            message.format(
                severity=RuleSeverity(severity).label,
                minimum=minimum,
                opens_on=opens_on,
                closes_on=closes_on,
                days=days,
            )
        )
    return days


def _audit(
    rule: Rule,
    *,
    before: str | None,
    actor_kind: str,
    actor_id: str,
    legal_basis: str = "",
    **details: Any,
) -> None:
    audit_record(
        action=AuditAction.RULE_TRANSITIONED,
        actor_kind=actor_kind,
        actor_id=actor_id,
        object_ref=f"rule:{rule.pk}",
        legal_basis=legal_basis,
        # A reason a regulator typed passes the project's guard like any outside text.
        details=guarded(
            {
                "code": rule.code,
                "version": rule.version,
                "from": before,
                "to": rule.status,
                **{k: v.isoformat() if isinstance(v, dt.date) else v for k, v in details.items()},
            }
        )
        or {},
    )


def _clean(rule: Rule) -> None:
    try:
        rule.full_clean(validate_unique=False)
    except ValidationError as error:
        raise ComplianceError("; ".join(error.messages)) from None


@transaction.atomic
def rule_draft_create(
    *,
    code: str,
    title_zh: str,
    title_en: str,
    points: int,
    legal_basis_law: str,
    legal_basis_article: str,
    effective_from: dt.date,
    severity: str = RuleSeverity.ORDINARY,
    retention_years: int = law.RETENTION_YEARS,
    publication_months: int | None = None,
    actor_kind: str,
    actor_id: str,
) -> Rule:
    """A new catalogue entry as draft version 1; ``effective_from`` is only proposed."""
    if Rule.objects.filter(code=code).exists():
        raise ComplianceError(Refusal.CODE_EXISTS.format(code=code))
    rule = Rule(
        code=code,
        version=1,
        title_zh=title_zh,
        title_en=title_en,
        points=points,
        severity=severity,
        legal_basis_law=legal_basis_law,
        legal_basis_article=legal_basis_article,
        effective_from=effective_from,
        retention_years=retention_years,
        publication_months=publication_months,
        status=RuleStatus.DRAFT,
    )
    _clean(rule)
    _save(rule, "draft created")
    _audit(rule, before=None, actor_kind=actor_kind, actor_id=actor_id, points=points)
    return rule


@transaction.atomic
def rule_open_comment(
    *,
    rule: Rule,
    opens_on: dt.date,
    closes_on: dt.date,
    actor_kind: str,
    actor_id: str,
    now: dt.datetime | None = None,
) -> Rule:
    """Put a draft out for public comment (SH 10, ZJ 12; 30 days for serious entries)."""
    rule = _locked(rule)
    today = _today(now)
    if rule.status != RuleStatus.DRAFT:
        raise ComplianceError(Refusal.NOT_DRAFT.format(status=rule.get_status_display()))
    if opens_on < today:
        raise ComplianceError(Refusal.PERIOD_IN_PAST.format(opens_on=opens_on, today=today))
    if closes_on < opens_on:
        raise ComplianceError(Refusal.PERIOD_REVERSED)
    days = _check_comment_period(rule.severity, opens_on, closes_on, Refusal.PERIOD_TOO_SHORT)
    before = rule.status
    rule.status = RuleStatus.COMMENT
    rule.comment_opens_on = opens_on
    rule.comment_closes_on = closes_on
    _save(rule, "opened for public comment", ["status", "comment_opens_on", "comment_closes_on"])
    _audit(
        rule,
        before=before,
        actor_kind=actor_kind,
        actor_id=actor_id,
        legal_basis="SH 10; ZJ 12; State Council 2020 No. 49 §7",
        opens_on=opens_on,
        closes_on=closes_on,
        days=days,
    )
    return rule


@transaction.atomic
def rule_publish(
    *,
    rule: Rule,
    effective_from: dt.date,
    actor_kind: str,
    actor_id: str,
    now: dt.datetime | None = None,
) -> Rule:
    """Publish a rule after its comment period; the version it replaces ends the day before."""
    now = now or timezone.now()
    rule = _locked(rule)
    today = _today(now)
    if rule.status != RuleStatus.COMMENT:
        raise ComplianceError(Refusal.NOT_IN_COMMENT)
    if rule.comment_closes_on is None or today <= rule.comment_closes_on:
        raise ComplianceError(Refusal.COMMENT_NOT_CLOSED.format(closes_on=rule.comment_closes_on))
    _check_comment_period(
        rule.severity,
        rule.comment_opens_on,
        rule.comment_closes_on,
        Refusal.COMMENT_TOO_SHORT_FOR_SEVERITY,
    )
    if effective_from < today:
        raise ComplianceError(
            Refusal.RETROACTIVE.format(today=today, effective_from=effective_from)
        )
    superseded = list(
        Rule.objects.select_for_update()
        .filter(code=rule.code, status=RuleStatus.PUBLISHED, version__lt=rule.version)
        .exclude(effective_to__lt=effective_from)
        .order_by("version")
    )
    new_end = effective_from - dt.timedelta(days=1)
    for previous in superseded:
        if new_end < today:
            raise ComplianceError(
                Refusal.RETROACTIVE_VERSION.format(
                    version=rule.version,
                    previous=previous.version,
                    today=today,
                    earliest=today + dt.timedelta(days=1),
                )
            )
        if new_end < previous.effective_from:
            raise ComplianceError(
                Refusal.BEFORE_PREVIOUS.format(
                    version=rule.version,
                    effective_from=effective_from,
                    previous=previous.version,
                    previous_from=previous.effective_from,
                )
            )
    for previous in superseded:
        old_end = previous.effective_to
        previous.effective_to = new_end
        _save(previous, f"superseded by version {rule.version}", ["effective_to"])
        _audit(
            previous,
            before=previous.status,
            actor_kind=actor_kind,
            actor_id=actor_id,
            legal_basis="SH 10",
            superseded_by=rule.version,
            effective_to_before=old_end,
            effective_to=new_end,
        )
    before = rule.status
    rule.status = RuleStatus.PUBLISHED
    rule.published_at = now
    rule.effective_from = effective_from
    _save(rule, "published", ["status", "published_at", "effective_from"])
    _audit(
        rule,
        before=before,
        actor_kind=actor_kind,
        actor_id=actor_id,
        legal_basis="SH 9-11; SH 10",
        effective_from=effective_from,
        effective_to=rule.effective_to,
        points=rule.points,
        supersedes=[previous.version for previous in superseded],
    )
    return rule


@transaction.atomic
def rule_new_version(
    *,
    rule: Rule,
    effective_from: dt.date,
    actor_kind: str,
    actor_id: str,
    **changes: Any,
) -> Rule:
    """A draft of the next version of a published rule, with the same departments granted.

    The published version is not touched here; it is shortened only when the new
    version is published.
    """
    unknown = sorted(set(changes) - VERSION_FIELDS)
    if unknown:
        raise ComplianceError(Refusal.UNKNOWN_CHANGE.format(fields=", ".join(unknown)))
    rule = _locked(rule)
    if rule.status != RuleStatus.PUBLISHED:
        raise ComplianceError(Refusal.NOT_PUBLISHED.format(status=rule.get_status_display()))
    pending = (
        Rule.objects.filter(code=rule.code, status__in=[RuleStatus.DRAFT, RuleStatus.COMMENT])
        .order_by("-version")
        .first()
    )
    if pending is not None:
        raise ComplianceError(
            Refusal.VERSION_PENDING.format(
                version=pending.version, code=rule.code, status=pending.get_status_display()
            )
        )
    latest = Rule.objects.filter(code=rule.code).aggregate(latest=Max("version"))["latest"]
    draft = Rule(
        code=rule.code,
        version=latest + 1,
        **{name: changes.get(name, getattr(rule, name)) for name in sorted(VERSION_FIELDS)},
        effective_from=effective_from,
        status=RuleStatus.DRAFT,
    )
    _clean(draft)
    _save(draft, f"draft of a new version of v{rule.version}")
    granted = departments_by_rule([rule.pk]).get(rule.pk, [])
    departments = list(Department.objects.filter(code__in=granted))
    grant_set(draft, departments, actor_kind=actor_kind, actor_id=actor_id)
    _audit(
        draft,
        before=None,
        actor_kind=actor_kind,
        actor_id=actor_id,
        previous_version=rule.version,
        changes={
            name: value.isoformat() if isinstance(value, dt.date) else value
            for name, value in changes.items()
        },
    )
    return draft


@transaction.atomic
def rule_withdraw(
    *,
    rule: Rule,
    reason: str,
    actor_kind: str,
    actor_id: str,
    now: dt.datetime | None = None,
) -> Rule:
    """Withdraw a draft, a rule in comment, or a published rule; recorded events keep it.

    A published version withdrawn before it takes effect gives back to the version
    it would have replaced the days it had taken from it.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ComplianceError(Refusal.REASON_REQUIRED)
    rule = _locked(rule)
    today = _today(now)
    if rule.status == RuleStatus.WITHDRAWN:
        raise ComplianceError(Refusal.ALREADY_WITHDRAWN)
    before = rule.status
    restored = []
    if before == RuleStatus.PUBLISHED and rule.effective_from > today:
        for previous in Rule.objects.select_for_update().filter(
            code=rule.code,
            status=RuleStatus.PUBLISHED,
            version__lt=rule.version,
            effective_to=rule.effective_from - dt.timedelta(days=1),
        ):
            previous.effective_to = rule.effective_to
            _save(previous, f"version {rule.version} withdrawn before it took effect")
            restored.append(previous.version)
    rule.status = RuleStatus.WITHDRAWN
    _save(rule, f"withdrawn: {reason}", ["status"])
    _audit(
        rule,
        before=before,
        actor_kind=actor_kind,
        actor_id=actor_id,
        reason=reason[:500],
        restored_versions=restored,
    )
    return rule


# What an edit of a draft, or of a rule in comment, may change.
EDITABLE_FIELDS = frozenset(
    {
        "title_zh",
        "title_en",
        "points",
        "severity",
        "legal_basis_law",
        "legal_basis_article",
        "effective_from",
        "effective_to",
        "retention_years",
        "publication_months",
    }
)
# Changing these during comment changes what the public was asked about.
RESTARTS_COMMENT = frozenset({"points", "severity", "publication_months"})


@transaction.atomic
def rule_edit(*, rule: Rule, actor_kind: str, actor_id: str) -> Rule:
    """Save the edited fields of a draft or of a rule in comment.

    ``rule`` carries the new values. A change of points or severity during comment
    sends the rule back to draft: its comment period must start again.
    """
    stored = _locked(rule)
    if stored.status == RuleStatus.PUBLISHED:
        raise ComplianceError(Refusal.PUBLISHED_NEVER_EDITED)
    if stored.status != RuleStatus.DRAFT and stored.status != RuleStatus.COMMENT:
        raise ComplianceError(Refusal.NOT_EDITABLE.format(status=stored.status))
    changed = sorted(
        field.name
        for field in Rule._meta.concrete_fields
        if getattr(rule, field.attname) != getattr(stored, field.attname)
    )
    forbidden = [name for name in changed if name not in EDITABLE_FIELDS]
    if forbidden:
        raise ComplianceError(Refusal.TRANSITION_FIELDS.format(fields=", ".join(forbidden)))
    if not changed:
        return stored
    restarted = stored.status == RuleStatus.COMMENT and bool(RESTARTS_COMMENT & set(changed))
    if restarted:
        rule.status = RuleStatus.DRAFT
        rule.comment_opens_on = None
        rule.comment_closes_on = None
    _clean(rule)
    _save(rule, "edited" + ("; comment period restarted" if restarted else ""))
    _audit(
        rule,
        before=stored.status,
        actor_kind=actor_kind,
        actor_id=actor_id,
        legal_basis="SH 10; ZJ 12" if restarted else "",
        changed={name: _plain(getattr(rule, name)) for name in changed},
        comment_restarted=restarted,
    )
    return rule


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


@transaction.atomic
def rule_draft_delete(*, rule: Rule, actor_kind: str, actor_id: str) -> None:
    """Delete a draft that never went out for comment; anything later is withdrawn."""
    stored = _locked(rule)
    if stored.status == RuleStatus.PUBLISHED:
        raise ComplianceError("A published rule is withdrawn, never deleted.")
    if stored.status != RuleStatus.DRAFT:
        raise ComplianceError(Refusal.NOT_EDITABLE.format(status=stored.status))
    pk = stored.pk
    stored._lifecycle_write = True
    stored.delete()
    stored.pk = pk
    _audit(stored, before=RuleStatus.DRAFT, actor_kind=actor_kind, actor_id=actor_id, deleted=True)


@transaction.atomic
def rule_import_published(
    *,
    code: str,
    title_zh: str,
    title_en: str,
    points: int,
    legal_basis_law: str,
    legal_basis_article: str,
    comment_opens_on: dt.date,
    comment_closes_on: dt.date,
    published_at: dt.datetime,
    effective_from: dt.date,
    effective_to: dt.date | None = None,
    severity: str = RuleSeverity.ORDINARY,
    retention_years: int = law.RETENTION_YEARS,
    publication_months: int | None = None,
    version: int = 1,
    actor_kind: str,
    actor_id: str,
    now: dt.datetime | None = None,
) -> Rule:
    """Record a rule published before the gateway existed, checking the dates it carries
    against the same law as ``rule_open_comment`` and ``rule_publish``."""
    now = now or timezone.now()
    if Rule.objects.filter(code=code, version=version).exists():
        raise ComplianceError(Refusal.VERSION_EXISTS.format(version=version, code=code))
    if published_at.tzinfo is None or published_at.utcoffset() is None:
        raise ComplianceError(Refusal.NAIVE_PUBLISHED_AT)
    if published_at > now:
        raise ComplianceError(Refusal.PUBLISHED_IN_FUTURE.format(published_at=published_at))
    if comment_opens_on is None or comment_closes_on is None:
        raise ComplianceError(Refusal.NOT_IN_COMMENT)
    if comment_closes_on < comment_opens_on:
        raise ComplianceError(Refusal.PERIOD_REVERSED)
    _check_comment_period(severity, comment_opens_on, comment_closes_on, Refusal.PERIOD_TOO_SHORT)
    published_on = to_local_date(published_at)
    if published_on <= comment_closes_on:
        raise ComplianceError(
            Refusal.PUBLISHED_BEFORE_COMMENT_CLOSED.format(
                published_on=published_on, closes_on=comment_closes_on
            )
        )
    if effective_from < published_on:
        raise ComplianceError(
            Refusal.RETROACTIVE.format(today=published_on, effective_from=effective_from)
        )
    rule = Rule(
        code=code,
        version=version,
        title_zh=title_zh,
        title_en=title_en,
        points=points,
        severity=severity,
        legal_basis_law=legal_basis_law,
        legal_basis_article=legal_basis_article,
        status=RuleStatus.PUBLISHED,
        comment_opens_on=comment_opens_on,
        comment_closes_on=comment_closes_on,
        published_at=published_at,
        effective_from=effective_from,
        effective_to=effective_to,
        retention_years=retention_years,
        publication_months=publication_months,
    )
    _clean(rule)
    _save(rule, "recorded as published")
    _audit(
        rule,
        before=None,
        actor_kind=actor_kind,
        actor_id=actor_id,
        legal_basis="SH 9-11; SH 10",
        imported=True,
        points=points,
        comment_opens_on=comment_opens_on,
        comment_closes_on=comment_closes_on,
        published_at=published_at.isoformat(),
        effective_from=effective_from,
    )
    return rule


def comment_open_on(rule: Rule, day: dt.date) -> bool:
    return (
        rule.status == RuleStatus.COMMENT
        and rule.comment_opens_on is not None
        and rule.comment_closes_on is not None
        and rule.comment_opens_on <= day <= rule.comment_closes_on
    )


@transaction.atomic
def comment_submit(*, rule: Rule, body: str, now: dt.datetime | None = None) -> RuleComment:
    """A member of the public comments on a rule while its period is open (SH 10, ZJ 12).

    Comments are anonymous: nothing about the author is stored.
    """
    now = now or timezone.now()
    text = (body or "").strip()
    if not text:
        raise ComplianceError(Refusal.COMMENT_EMPTY)
    if len(text) > COMMENT_MAX_CHARS:
        raise ComplianceError(Refusal.COMMENT_TOO_LONG.format(limit=COMMENT_MAX_CHARS))
    rule = Rule.objects.select_for_update().get(pk=rule.pk)
    if not comment_open_on(rule, _today(now)):
        raise ComplianceError(Refusal.COMMENT_CLOSED)
    return RuleComment.objects.create(rule=rule, body=text, submitted_at=now)
