"""Changes to the catalogue, purposes, parties and screening policy, each audited.

The admin calls these from save_model/delete_model, so no edit of an audited
model happens around them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import Group
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from audit.actions import ActorKind, AuditAction
from audit.guard import guarded
from audit.services import audit_record
from compliance.errors import ComplianceError
from compliance.models import (
    Department,
    EligibilityThreshold,
    PublishedSchedule,
    Purpose,
    Rule,
    RuleStatus,
    ScreeningCategory,
    ScreeningDecoder,
    ScreeningPattern,
    ScreeningPolicyRevision,
    ScreeningTerm,
    WorkdayOverride,
)
from compliance.signals import calendar_changed

_POLICY_MODELS = (ScreeningCategory, ScreeningTerm, ScreeningPattern, ScreeningDecoder)
_CALENDAR_MODELS = (WorkdayOverride, PublishedSchedule)
_ACTIONS: dict[type[models.Model], int] = {
    Rule: AuditAction.RULE_CHANGED,
    Purpose: AuditAction.PURPOSE_CHANGED,
    Department: AuditAction.DEPARTMENT_CHANGED,
    EligibilityThreshold: AuditAction.THRESHOLD_CHANGED,
    WorkdayOverride: AuditAction.CALENDAR_CHANGED,
    PublishedSchedule: AuditAction.CALENDAR_CHANGED,
    ScreeningCategory: AuditAction.POLICY_CHANGED,
    ScreeningTerm: AuditAction.POLICY_CHANGED,
    ScreeningPattern: AuditAction.POLICY_CHANGED,
    ScreeningDecoder: AuditAction.POLICY_CHANGED,
}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    return value


def _policy_bump() -> int:
    revision, _ = ScreeningPolicyRevision.objects.get_or_create(pk=1)
    ScreeningPolicyRevision.objects.filter(pk=1).update(
        number=F("number") + 1, changed_at=timezone.now()
    )
    revision.refresh_from_db()
    return revision.number


@transaction.atomic
def catalogue_object_save(
    obj: models.Model,
    *,
    actor_kind: str,
    actor_id: str,
    changed_fields: list[str] | None = None,
) -> models.Model:
    """Save a catalogue or policy object and write its audit entry in the same transaction."""
    model = type(obj)
    if model is Rule:
        return _rule_save(obj, actor_kind=actor_kind, actor_id=actor_id)
    if model is Department and obj.pk is None and not getattr(obj, "group_id", None):
        obj.group = Group.objects.create(name=f"department:{obj.code}")
    created = obj.pk is None
    obj.full_clean()
    obj.save()
    details: dict[str, Any] = {
        "model": model._meta.label,
        "created": created,
        "fields": {
            name: _jsonable(getattr(obj, name))
            for name in (changed_fields or [])
            if hasattr(obj, name) and not isinstance(getattr(obj, name), models.Manager)
        },
    }
    if model in _POLICY_MODELS:
        details["policy_version"] = _policy_bump()
    audit_record(
        action=_ACTIONS[model],
        actor_kind=actor_kind,
        actor_id=actor_id,
        object_ref=f"{model._meta.model_name}:{obj.pk}",
        details=guarded(details) or {},
    )
    if model in _CALENDAR_MODELS:
        calendar_changed.send(sender=model, actor_kind=actor_kind, actor_id=actor_id)
    return obj


@transaction.atomic
def catalogue_object_delete(obj: models.Model, *, actor_kind: str, actor_id: str) -> None:
    model = type(obj)
    if model is Rule:
        from compliance import lifecycle

        lifecycle.rule_draft_delete(rule=obj, actor_kind=actor_kind, actor_id=actor_id)
        return
    object_ref = f"{model._meta.model_name}:{obj.pk}"
    details: dict[str, Any] = {"model": model._meta.label, "deleted": True}
    obj.delete()
    if model in _POLICY_MODELS:
        details["policy_version"] = _policy_bump()
    audit_record(
        action=_ACTIONS[model],
        actor_kind=actor_kind,
        actor_id=actor_id,
        object_ref=object_ref,
        details=guarded(details) or {},
    )
    if model in _CALENDAR_MODELS:
        calendar_changed.send(sender=model, actor_kind=actor_kind, actor_id=actor_id)


def _rule_save(rule: Rule, *, actor_kind: str, actor_id: str) -> Rule:
    """Rules change only through the lifecycle, whichever door the change comes in by."""
    from compliance import lifecycle

    actor = {"actor_kind": actor_kind, "actor_id": actor_id}
    if rule.pk is not None:
        return lifecycle.rule_edit(rule=rule, **actor)
    if rule.status == RuleStatus.DRAFT:
        created = lifecycle.rule_draft_create(
            code=rule.code,
            title_zh=rule.title_zh,
            title_en=rule.title_en,
            points=rule.points,
            severity=rule.severity,
            legal_basis_law=rule.legal_basis_law,
            legal_basis_article=rule.legal_basis_article,
            effective_from=rule.effective_from,
            retention_years=rule.retention_years,
            publication_months=rule.publication_months,
            **actor,
        )
    elif rule.status == RuleStatus.PUBLISHED:
        created = lifecycle.rule_import_published(
            code=rule.code,
            version=rule.version,
            title_zh=rule.title_zh,
            title_en=rule.title_en,
            points=rule.points,
            severity=rule.severity,
            legal_basis_law=rule.legal_basis_law,
            legal_basis_article=rule.legal_basis_article,
            comment_opens_on=rule.comment_opens_on,
            comment_closes_on=rule.comment_closes_on,
            published_at=rule.published_at,
            effective_from=rule.effective_from,
            effective_to=rule.effective_to,
            retention_years=rule.retention_years,
            publication_months=rule.publication_months,
            **actor,
        )
    else:
        raise ComplianceError(
            "A new rule starts as a draft, or is recorded as published with its comment "
            "period and publication (SH 10)."
        )
    # The caller's object becomes the saved row, as after a plain save().
    for field in Rule._meta.concrete_fields:
        setattr(rule, field.attname, getattr(created, field.attname))
    rule._state.adding = False
    rule._state.db = created._state.db
    return rule


@transaction.atomic
def department_create(
    *,
    code: str,
    title_zh: str,
    title_en: str,
    contact_email: str = "",
    actor_kind: str = ActorKind.SYSTEM,
    actor_id: str = "manage.py",
) -> Department:
    department = Department(
        code=code, title_zh=title_zh, title_en=title_en, contact_email=contact_email
    )
    return catalogue_object_save(
        department,
        actor_kind=actor_kind,
        actor_id=actor_id,
        changed_fields=["code", "title_zh", "title_en"],
    )


@transaction.atomic
def grant_set(
    obj: Rule | Purpose,
    departments: list[Department],
    *,
    actor_kind: str,
    actor_id: str,
) -> None:
    """Set exactly which departments may apply a rule or read for a purpose."""
    perm = "compliance.apply_rule" if isinstance(obj, Rule) else "compliance.use_purpose"
    wanted = {department.group_id: department for department in departments}
    current = set(
        obj.rulegroupobjectpermission_set.values_list("group_id", flat=True)
        if isinstance(obj, Rule)
        else obj.purposegroupobjectpermission_set.values_list("group_id", flat=True)
    )
    for group_id in current - wanted.keys():
        remove_perm(perm, Group.objects.get(pk=group_id), obj)
    for group_id, department in wanted.items():
        if group_id not in current:
            assign_perm(perm, department.group, obj)
    audit_record(
        action=_ACTIONS[type(obj)],
        actor_kind=actor_kind,
        actor_id=actor_id,
        object_ref=f"{type(obj)._meta.model_name}:{obj.pk}",
        details={"departments": sorted(d.code for d in departments)},
    )
