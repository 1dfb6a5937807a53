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
from audit.services import audit_record
from compliance.models import (
    Department,
    EligibilityThreshold,
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


class ComplianceError(Exception):
    """A change the law or the catalogue's lifecycle does not allow."""


_POLICY_MODELS = (ScreeningCategory, ScreeningTerm, ScreeningPattern, ScreeningDecoder)
_ACTIONS: dict[type[models.Model], int] = {
    Rule: AuditAction.RULE_CHANGED,
    Purpose: AuditAction.PURPOSE_CHANGED,
    Department: AuditAction.DEPARTMENT_CHANGED,
    EligibilityThreshold: AuditAction.THRESHOLD_CHANGED,
    WorkdayOverride: AuditAction.CALENDAR_CHANGED,
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
    if model is Rule and obj.pk is not None:
        stored = Rule.objects.select_for_update().get(pk=obj.pk)
        if stored.status == RuleStatus.PUBLISHED:
            raise ComplianceError(
                "A published rule is never edited: create a new version with its own "
                "effective dates (SH 10)."
            )
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
        details=details,
    )
    return obj


@transaction.atomic
def catalogue_object_delete(obj: models.Model, *, actor_kind: str, actor_id: str) -> None:
    model = type(obj)
    if model is Rule and obj.status == RuleStatus.PUBLISHED:
        raise ComplianceError("A published rule is withdrawn, never deleted.")
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
        details=details,
    )


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
