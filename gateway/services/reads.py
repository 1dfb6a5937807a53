"""Reads of a resident's data by a department: each one needs a purpose and leaves an entry."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.actions import ActorKind, AuditAction
from compliance import selectors as compliance_selectors
from compliance.models import Disclosure
from gateway.bodies import NUL_CHARACTER
from gateway.errors import InvalidRequest, Msg, PurposeNotGranted, PurposeRequired, problem
from gateway.identity import InvalidIdentityNumber, normalize_identity_number, vault
from gateway.principals import DepartmentPrincipal
from gateway.selectors import department_snapshot, eligibility_answers
from gateway.services.audit_boundary import closed, log_record, opaque
from gateway.services.ledger import citizen_find


def score_read_by_department(
    *, principal: DepartmentPrincipal, citizen_id: str, purpose_code: str | None
) -> dict[str, Any]:
    """Disclose what the purpose allows (ZJ 19, SH 17); every read is recorded (ZJ 20)."""
    department = principal.department
    if not purpose_code:
        raise PurposeRequired(Msg.PURPOSE_REQUIRED)
    if "\x00" in purpose_code:
        # A query string can carry U+0000, which no database text can hold (nor log).
        raise InvalidRequest([problem("purpose", NUL_CHARACTER)])
    try:
        identity_number = normalize_identity_number(citizen_id)
    except InvalidIdentityNumber as exc:
        raise InvalidRequest([problem("citizen_id", exc)]) from None
    subject = vault().blind_index(identity_number)
    purpose = compliance_selectors.purpose_for_department(department, purpose_code)
    if purpose is None:
        # A code the catalogue does not know is the caller's own text: kept only as a
        # keyed hash, and not repeated in the answer.
        known = compliance_selectors.purpose_code_known(purpose_code)
        stored = closed(purpose_code) if known else opaque(purpose_code)
        with transaction.atomic():
            log_record(
                action=AuditAction.SCORE_READ_REFUSED,
                actor_kind=ActorKind.DEPARTMENT,
                actor_id=department.code,
                subject=subject,
                purpose=stored,
                details={"key": principal.key_id, "reason": "purpose_not_granted"},
            )
        if known:
            raise PurposeNotGranted(Msg.PURPOSE_NOT_GRANTED, purpose=purpose_code)
        raise PurposeNotGranted(Msg.PURPOSE_NOT_GRANTED)

    with transaction.atomic():
        now = timezone.now()
        citizen = citizen_find(identity_number)
        # Only what is disclosed to departments: retained and within its publication
        # period (2025 No. 22), never the resident's full retained record.
        snapshot = department_snapshot(citizen.pk if citizen else None, now=now)
        thresholds = list(purpose.thresholds.all())
        payload: dict[str, Any] = {"as_of": now.isoformat()}
        if purpose.discloses == Disclosure.SCORE:
            payload["score"] = snapshot.score
        payload["eligibility"] = eligibility_answers(thresholds, snapshot)
        log_record(
            action=AuditAction.SCORE_READ_BY_DEPARTMENT,
            actor_kind=ActorKind.DEPARTMENT,
            actor_id=department.code,
            subject=subject,
            purpose=closed(purpose.code),
            legal_basis=closed(purpose.legal_basis[:300]),
            details={"key": principal.key_id, "disclosed": sorted(payload)},
        )
    return payload
