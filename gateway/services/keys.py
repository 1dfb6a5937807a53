"""Department API keys: created and revoked only here, each change audited."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from audit.actions import ActorKind, AuditAction
from compliance.models import Department
from gateway.models import DepartmentAPIKey
from gateway.services.audit_boundary import log_record


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
    log_record(
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
    log_record(
        action=AuditAction.KEY_REVOKED,
        actor_kind=actor_kind,
        actor_id=actor_id,
        object_ref=f"api_key:{api_key.prefix}",
        details={"department": api_key.department.code, "reason": reason[:200]},
    )


# A key is a shared secret: one that outlives ten years is one nobody remembers to rotate.
MAX_KEY_LIFETIME_DAYS = 3650


def key_expiry_from_days(days: int | None) -> dt.datetime | None:
    """The expiry of a key valid for ``days`` from now; None (never) for 0 or None."""
    if days and not 0 < days <= MAX_KEY_LIFETIME_DAYS:
        raise ValueError(f"a key's lifetime is 1 to {MAX_KEY_LIFETIME_DAYS} days, or 0 for none")
    return timezone.now() + dt.timedelta(days=days) if days else None


def identity_numbers_reencrypt(*, batch_size: int = 500, actor_id: str = "manage.py") -> int:
    """Re-encrypt every identity number not yet under the active key of the ring.

    Rotation: put the new key first in IDENTITY_ENCRYPTION_KEYS and keep the old one
    after it (old rows stay readable, new rows use the new key), run this, then drop
    the old key. Each batch is its own transaction with its own audit entry.
    """
    from gateway.identity import vault
    from gateway.models import Citizen

    identity_vault = vault()
    active = identity_vault.active_key_id
    done = 0
    last_id = 0
    while True:
        with transaction.atomic():
            batch = list(
                Citizen.objects.select_for_update()
                .filter(pk__gt=last_id)
                .order_by("pk")
                .only("pk", "identity_ciphertext")[:batch_size]
            )
            if not batch:
                break
            last_id = batch[-1].pk
            stale = [c for c in batch if identity_vault.key_id_of(c.identity_ciphertext) != active]
            for citizen in stale:
                number = identity_vault.decrypt(citizen.identity_ciphertext)
                citizen.identity_ciphertext = identity_vault.encrypt(number)
            if stale:
                Citizen.objects.bulk_update(stale, ["identity_ciphertext"])
                log_record(
                    action=AuditAction.IDENTITY_KEY_ROTATED,
                    actor_kind=ActorKind.SYSTEM,
                    actor_id=actor_id,
                    details={"key": active, "residents": len(stale), "up_to": last_id},
                )
            done += len(stale)
    return done
