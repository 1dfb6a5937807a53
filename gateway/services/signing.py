"""Department signing keys and signature policy: each change audited; and the check of a
submission's signature against them."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Mapping

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.actions import ActorKind, AuditAction
from compliance.models import Department, SignaturePolicy
from gateway.errors import Conflict, InvalidRequest, Msg, NotFound, problem
from gateway.models import DepartmentSigningKey
from gateway.services.audit_boundary import closed, log_record
from gateway.signatures import (
    Reason,
    SignatureRefused,
    VerifiedSignature,
    key_id_for,
    verify_submission_signature,
)


def public_key_decode(text: str) -> bytes:
    """The raw 32 bytes of a base64 Ed25519 public key, or InvalidRequest."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise InvalidRequest([problem("/public_key", Msg.SIGNING_KEY_MALFORMED)])
    return raw


@transaction.atomic
def signing_key_add(
    *,
    department: Department,
    public_key: str,
    valid_from: dt.datetime | None = None,
    valid_until: dt.datetime | None = None,
    actor_kind: str = ActorKind.SYSTEM,
    actor_id: str = "manage.py",
) -> DepartmentSigningKey:
    raw = public_key_decode(public_key)
    now = timezone.now()
    valid_from = valid_from or now
    if valid_until is not None and valid_until <= valid_from:
        raise InvalidRequest([problem("/valid_until", Msg.SIGNING_KEY_PERIOD)])
    key_id = key_id_for(raw)
    if DepartmentSigningKey.objects.filter(key_id=key_id).exists():
        raise Conflict(Msg.SIGNING_KEY_EXISTS, key_id=key_id)
    key = DepartmentSigningKey.objects.create(
        department=department,
        key_id=key_id,
        public_key=base64.b64encode(raw).decode(),
        valid_from=valid_from,
        valid_until=valid_until,
        added_at=now,
    )
    log_record(
        action=AuditAction.SIGNING_KEY_ADDED,
        actor_kind=actor_kind,
        actor_id=actor_id,
        object_ref=closed(f"signing_key:{key_id}"),
        details={
            "department": department.code,
            "key_id": closed(key_id),  # derived from the key: a closed value
            # The public key itself, so an export alone names every key ever registered.
            "public_key": closed(key.public_key),  # 32 bytes, checked above
            "valid_from": valid_from.isoformat(),
            "valid_until": valid_until.isoformat() if valid_until else None,
        },
    )
    return key


@transaction.atomic
def signing_key_revoke(
    *,
    department: Department,
    key_id: str,
    reason: str = "",
    actor_kind: str = ActorKind.SYSTEM,
    actor_id: str = "manage.py",
) -> DepartmentSigningKey:
    key = (
        DepartmentSigningKey.objects.select_for_update()
        .filter(department=department, key_id=key_id)
        .first()
    )
    if key is None:
        raise NotFound(Msg.SIGNING_KEY_UNKNOWN, key_id=key_id)
    if key.revoked_at is not None:
        return key
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at"])
    log_record(
        action=AuditAction.SIGNING_KEY_REVOKED,
        actor_kind=actor_kind,
        actor_id=actor_id,
        object_ref=closed(f"signing_key:{key.key_id}"),
        details={
            "department": department.code,
            "key_id": closed(key.key_id),
            "revoked_at": key.revoked_at.isoformat(),
            "reason": reason[:200],
        },
    )
    return key


@transaction.atomic
def signature_policy_set(
    *,
    department: Department,
    policy: str,
    actor_kind: str = ActorKind.SYSTEM,
    actor_id: str = "manage.py",
) -> None:
    if policy not in SignaturePolicy.values:
        raise InvalidRequest([problem("/policy", Msg.SIGNATURE_POLICY_UNKNOWN)])
    department = Department.objects.select_for_update().get(pk=department.pk)
    previous = department.signature_policy
    if previous == policy:
        return
    department.signature_policy = policy
    department.save(update_fields=["signature_policy"])
    log_record(
        action=AuditAction.SIGNATURE_POLICY_CHANGED,
        actor_kind=actor_kind,
        actor_id=actor_id,
        object_ref=f"department:{department.code}",
        details={"department": department.code, "from": previous, "to": policy},
    )


def signing_keys_of(department: Department) -> list[DepartmentSigningKey]:
    return list(DepartmentSigningKey.objects.filter(department=department).order_by("added_at"))


def signing_keys_export(department_code: str | None = None) -> dict[str, list[dict]]:
    """Every registered key by department: what the offline verifier is given."""
    keys = DepartmentSigningKey.objects.select_related("department").order_by("added_at")
    if department_code:
        keys = keys.filter(department__code=department_code)
    exported: dict[str, list[dict]] = {}
    for key in keys:
        exported.setdefault(key.department.code, []).append(
            {
                "key_id": key.key_id,
                "public_key": key.public_key,
                "valid_from": key.valid_from.isoformat(),
                "valid_until": key.valid_until.isoformat() if key.valid_until else None,
                "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
            }
        )
    return exported


def submission_signature_check(
    *, department: Department, path: str, headers: Mapping[str, str], body: bytes
) -> VerifiedSignature:
    """Verify a submission's signature with the department's keys valid now."""
    now = timezone.now()

    def public_key_for(key_id: str) -> bytes:
        key = DepartmentSigningKey.objects.filter(department=department, key_id=key_id).first()
        if key is None:
            raise SignatureRefused(Reason.UNKNOWN_KEY)
        if key.revoked_at is not None:
            raise SignatureRefused(Reason.KEY_REVOKED, key_id)
        if key.valid_from > now or (key.valid_until is not None and key.valid_until <= now):
            raise SignatureRefused(Reason.KEY_NOT_VALID, key_id)
        return base64.b64decode(key.public_key)

    return verify_submission_signature(
        method="POST",
        path=path,
        headers=headers,
        body=body,
        public_key_for=public_key_for,
        now=now,
        max_age=dt.timedelta(seconds=settings.GATEWAY_SIGNATURE_MAX_AGE_SECONDS),
        max_skew=dt.timedelta(seconds=settings.GATEWAY_SIGNATURE_MAX_SKEW_SECONDS),
    )
