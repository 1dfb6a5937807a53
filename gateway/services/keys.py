"""Department API keys: created and revoked only here, each change audited."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from audit.actions import ActorKind, AuditAction
from audit.services import audit_record
from compliance.models import Department
from gateway.models import DepartmentAPIKey


@transaction.atomic
def department_key_create(
    *,
    department: Department,
    name: str,
    expires_at: dt.datetime | None,
    actor_kind: str = ActorKind.SYSTEM,
    actor_id: str = "manage.py",
) -> tuple[DepartmentAPIKey, str]:
    """Return the key row and the plaintext key, which is never shown again."""
    api_key, plaintext = DepartmentAPIKey.objects.create_key(
        name=name[:50], department=department, expiry_date=expires_at
    )
    audit_record(
        action=AuditAction.KEY_CREATED,
        actor_kind=actor_kind,
        actor_id=actor_id,
        object_ref=f"api_key:{api_key.prefix}",
        details={
            "department": department.code,
            "name": api_key.name,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return api_key, plaintext


@transaction.atomic
def department_key_revoke(
    *, api_key: DepartmentAPIKey, actor_kind: str, actor_id: str, reason: str = ""
) -> None:
    api_key = DepartmentAPIKey.objects.select_for_update().get(pk=api_key.pk)
    if api_key.revoked:
        return
    api_key.revoked = True
    api_key.save(update_fields=["revoked"])
    audit_record(
        action=AuditAction.KEY_REVOKED,
        actor_kind=actor_kind,
        actor_id=actor_id,
        object_ref=f"api_key:{api_key.prefix}",
        details={"department": api_key.department.code, "reason": reason[:200]},
    )


def key_expiry_from_days(days: int | None) -> dt.datetime | None:
    return timezone.now() + dt.timedelta(days=days) if days else None
