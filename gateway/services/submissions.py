"""submission_accept: the one way records enter the ledger."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone

from audit.actions import ActorKind, AuditAction
from compliance import selectors as compliance_selectors
from compliance.consent import sort_violations
from compliance.models import Department, Rule, ScreeningRefusal, SignaturePolicy
from gateway.bodies import check_storable, parse_json_body
from gateway.errors import (
    ConsentRequired,
    GatewayError,
    IdempotencyConflict,
    InvalidRequest,
    Msg,
    ProhibitedData,
    RuleNotAuthorized,
    ServiceBusy,
    SignatureInvalid,
    SignatureRequired,
    problem,
)
from gateway.logging import has_identity_shape
from gateway.models import EventKind, EventStatus, ScoreEvent, Submission
from gateway.principals import DepartmentPrincipal
from gateway.services.audit_boundary import (
    AuditRecord,
    closed,
    idempotency_digest,
    log_append,
    log_record,
    safe_pointer,
    safe_text,
)
from gateway.services.binding import LedgerBinding
from gateway.services.bulk import db_datetime, db_json, db_uuid, insert_rows
from gateway.services.free_text import IDENTITY_NUMBER_IN_TEXT
from gateway.services.ledger import residents_resolve, scores_apply
from gateway.services.notices import notices_create_for_events
from gateway.services.signing import submission_signature_check
from gateway.signatures import Reason, SignatureRefused, VerifiedSignature, has_signature
from gateway.validation import (
    IDEMPOTENCY_KEY,
    ValidRecord,
    add_years,
    is_pending,
    validate_body_shape,
    validate_records,
)

logger = logging.getLogger(__name__)

# Transient conflicts between concurrent writers (deadlock, serialisation failure, a
# resident registered by a concurrent batch) are retried here, never shown to clients.
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class SubmissionOutcome:
    status: int
    payload: dict[str, Any]
    replayed: bool = False


SUBMISSIONS_PATH = "/api/v1/submissions"


def submission_accept(
    *,
    principal: DepartmentPrincipal,
    body: bytes,
    headers: Mapping[str, str] | None = None,
    path: str = SUBMISSIONS_PATH,
) -> SubmissionOutcome:
    """Check the signature, then screen, validate and record a batch all-or-nothing;
    replays return the first response. HEADERS are the request's, for its signature."""
    department = principal.department
    body_sha256 = hashlib.sha256(body).hexdigest()
    signature = _signature_check(principal, body, body_sha256, headers or {}, path)
    try:
        text, document = parse_json_body(
            body, max_bytes=settings.GATEWAY_MAX_BODY_BYTES, check_characters=False
        )
    except GatewayError as error:
        _refusal_record(principal, error, body_sha256)
        raise

    # A replay of an accepted body gets its first response, whatever changed since.
    claimed_key = document.get("idempotency_key") if isinstance(document, dict) else None
    # Only a well-formed key can have been accepted before (and any other, U+0000 for one,
    # must not reach the database before the body is refused).
    well_formed = isinstance(claimed_key, str) and IDEMPOTENCY_KEY.fullmatch(claimed_key)
    key_digest = idempotency_digest(claimed_key) if well_formed else None
    previous = _submission_lookup(department.pk, key_digest) if key_digest else None
    if previous is not None and previous.body_sha256 == body_sha256:
        return SubmissionOutcome(201, previous.response, replayed=True)

    # Screening comes before every other refusal, so that prohibited data is always
    # recorded as such, however malformed the rest of the body is.
    policy_version, screener = compliance_selectors.current_screener()
    screened = sort_violations(
        screener.screen_text(text, document),
        document,
        compliance_selectors.consent_category_codes(),
    )
    violations = screened.prohibited
    if violations:
        # A member whose own name is the prohibited text is named by its position.
        paths = [safe_pointer(document, v.path) for v in violations]
        error = ProhibitedData(
            Msg.PROHIBITED,
            violations=[
                _violation_payload(v, path) for v, path in zip(violations, paths, strict=True)
            ],
            policy_version=policy_version,
        )
        _prohibited_refusal_record(principal, violations, paths, body_sha256, policy_version)
        raise error
    if screened.without_consent:
        _consent_refusal(principal, screened.without_consent, document, body_sha256, policy_version)

    try:
        _refuse_identity_numbers_outside_citizen_id(document)
        check_storable(text, document)
        idempotency_key, records = validate_body_shape(
            document, max_records=settings.GATEWAY_MAX_BATCH_RECORDS
        )
        if previous is not None:
            raise _conflict(idempotency_key)
        now = timezone.now()
        valid = validate_records(
            records,
            published_codes=compliance_selectors.published_rule_codes(),
            applicable=compliance_selectors.rules_applicable_by(department),
            now=now,
        )
        if (
            signature is None
            and department.signature_policy == SignaturePolicy.DEDUCTIONS
            and any(record.rule.is_deduction for record in valid)
        ):
            raise SignatureRequired(Msg.SIGNATURE_REQUIRED_DEDUCTIONS, reason=Reason.MISSING)
    except GatewayError as error:
        _name_unsafe_members_by_position(error, document)
        _refusal_record(principal, error, body_sha256)
        raise

    for _attempt in range(MAX_ATTEMPTS):
        try:
            return _write(principal, idempotency_key, body_sha256, valid, signature)
        except IntegrityError:
            # A concurrent request with the same key won, or registered a shared resident.
            previous = _submission_lookup(department.pk, idempotency_digest(idempotency_key))
            if previous is not None:
                if previous.body_sha256 == body_sha256:
                    return SubmissionOutcome(201, previous.response, replayed=True)
                error = _conflict(idempotency_key)
                _refusal_record(principal, error, body_sha256)
                raise error from None
        except OperationalError as exc:
            if not _is_transient(exc):
                raise
            logger.info("retrying submission after a transient database conflict")
    raise ServiceBusy(Msg.SERVER_BUSY)


_SIGNATURE_MESSAGES = {
    Reason.MALFORMED: Msg.SIGNATURE_MALFORMED,
    Reason.UNKNOWN_KEY: Msg.SIGNATURE_UNKNOWN_KEY,
    Reason.KEY_REVOKED: Msg.SIGNATURE_KEY_REVOKED,
    Reason.KEY_NOT_VALID: Msg.SIGNATURE_KEY_NOT_VALID,
    Reason.COVERAGE: Msg.SIGNATURE_COVERAGE,
    Reason.DIGEST_MISMATCH: Msg.SIGNATURE_DIGEST_MISMATCH,
    Reason.CLOCK_SKEW: Msg.SIGNATURE_CLOCK_SKEW,
    Reason.BAD_SIGNATURE: Msg.SIGNATURE_BAD,
}


def _signature_detail(signature: VerifiedSignature) -> dict[str, object]:
    """The signature as the audit entry keeps it. The key id is a registered key's and the
    input holds only checked tokens, so both are closed: a run of digits in a key id's hex
    that looks like an identity number must not be masked, or the offline check fails."""
    record = signature.as_record()
    return {
        **record,
        "key_id": closed(signature.key_id),
        "input": closed(signature.signature_input),
    }


def _signature_check(
    principal: DepartmentPrincipal,
    body: bytes,
    body_sha256: str,
    headers: Mapping[str, str],
    path: str,
) -> VerifiedSignature | None:
    """The verified signature, None for an unsigned body the policy allows, else 401.

    It runs before anything else reads the body. Whether a body holds deductions is
    known only once it is validated, so that policy is applied later for unsigned bodies.
    """
    department = principal.department
    error: GatewayError
    if has_signature(headers):
        try:
            return submission_signature_check(
                department=department, path=path, headers=headers, body=body
            )
        except SignatureRefused as refused:
            message = _SIGNATURE_MESSAGES[refused.reason]
            if refused.reason == Reason.CLOCK_SKEW:
                message = message % {
                    "max_age": settings.GATEWAY_SIGNATURE_MAX_AGE_SECONDS,
                    "max_skew": settings.GATEWAY_SIGNATURE_MAX_SKEW_SECONDS,
                }
            details = {"reason": refused.reason}
            if refused.key_id:  # set only for a registered key: a closed value
                details["key_id"] = closed(refused.key_id)
            error = SignatureInvalid(message, **details)
    elif department.signature_policy == SignaturePolicy.REQUIRED:
        error = SignatureRequired(Msg.SIGNATURE_REQUIRED, reason=Reason.MISSING)
    else:
        return None
    _refusal_record(principal, error, body_sha256)
    raise error


def _submission_lookup(department_id: int, key_digest: str) -> Submission | None:
    submissions = Submission.objects.filter(department_id=department_id)
    return submissions.filter(idempotency_key=key_digest).first()


def _refuse_identity_numbers_outside_citizen_id(document: Any) -> None:
    """A record names its resident in ``citizen_id`` only; any other number is refused.

    ``data`` and ``evidence`` are kept in plaintext and shown or sent to the resident,
    so another person's identity number there would be disclosed to them.
    """
    records = document.get("records") if isinstance(document, dict) else None
    if not isinstance(records, list):
        return
    problems: list[dict[str, Any]] = []
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            continue
        for member in ("data", "evidence"):
            for pointer in _identity_shaped(record.get(member), f"/records/{index}/{member}"):
                problems.append(
                    problem(safe_pointer(document, pointer), IDENTITY_NUMBER_IN_TEXT, index)
                )
    if problems:
        raise InvalidRequest(problems[:1000])


def _identity_shaped(value: Any, pointer: str):
    if isinstance(value, str):
        if has_identity_shape(value):
            yield pointer
    elif isinstance(value, dict):
        for name, item in value.items():
            child = f"{pointer}/{name.replace('~', '~0').replace('/', '~1')}"
            if has_identity_shape(name):
                yield child
            else:
                yield from _identity_shaped(item, child)
    elif isinstance(value, list):
        for position, item in enumerate(value):
            yield from _identity_shaped(item, f"{pointer}/{position}")


def _conflict(idempotency_key: str) -> IdempotencyConflict:
    # The key is the client's own text: repeated only masked (it may be anything that
    # matches the key's pattern, an identity number included).
    return IdempotencyConflict(Msg.IDEMPOTENCY_CONFLICT, idempotency_key=safe_text(idempotency_key))


def _name_unsafe_members_by_position(error: GatewayError, document: Any) -> None:
    """Rewrite the problems' paths so that none repeats an unsafe member name."""
    problems = error.details.get("problems")
    if isinstance(problems, list):
        for item in problems:
            if isinstance(item, dict) and isinstance(item.get("path"), str):
                item["path"] = safe_pointer(document, item["path"])


def _is_transient(exc: OperationalError) -> bool:
    cause = exc.__cause__
    sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    if sqlstate in {"40001", "40P01", "55P03"}:
        return True
    return "database is locked" in str(exc)


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """A ledger row as just inserted, with its rule and department in memory."""

    pk: int
    record_index: int
    citizen_id: int
    rule: Rule
    department: Department
    submission_id: object
    points: int
    occurred_at: dt.datetime
    expires_at: dt.datetime | None
    evidence: dict
    kind: str = EventKind.RECORD
    status: str = EventStatus.ACTIVE


EVENT_FIELDS = (
    "citizen", "department", "rule", "submission", "record_index", "kind", "points",
    "occurred_at", "recorded_at", "expires_at", "evidence", "data", "status", "audit_entry",
    "ended_at",
)  # fmt: skip


@transaction.atomic(durable=True)
def _write(
    principal: DepartmentPrincipal,
    idempotency_key: str,
    body_sha256: str,
    valid: list[ValidRecord],
    signature: VerifiedSignature | None = None,
) -> SubmissionOutcome:
    department = principal.department
    now = timezone.now()
    key_digest = idempotency_digest(idempotency_key)
    submission = Submission.objects.create(
        department=department,
        idempotency_key=key_digest,
        body_sha256=body_sha256,
        received_at=now,
        record_count=len(valid),
        signature_key_id=signature.key_id if signature else "",
        signature=signature.as_record() if signature else None,
    )
    # The submission's entry vouches for every ledger and score row it writes.
    binding = LedgerBinding()
    residents = residents_resolve(
        (record.identity_number for record in valid), now=now, audit_entry=binding.entry_id
    )
    recorded_db = db_datetime(now)
    rows, expiries = [], []
    for record in valid:
        rule = record.rule
        expires_at = (
            add_years(record.period_start, rule.retention_years) if rule.is_deduction else None
        )
        expiries.append(expires_at)
        rows.append(
            (
                residents[record.identity_number].id, department.pk, rule.pk,
                db_uuid(submission.pk), record.index,
                EventKind.RECORD.value, rule.points, db_datetime(record.occurred_at), recorded_db,
                db_datetime(expires_at), db_json(record.evidence), db_json(record.data),
                EventStatus.ACTIVE.value, binding.entry_id, db_datetime(record.ended_at),
            )
        )  # fmt: skip
    ids = insert_rows(ScoreEvent, EVENT_FIELDS, rows, returning_pk=True)
    events = [
        RecordedEvent(
            pk=pk,
            record_index=record.index,
            citizen_id=row[0],
            rule=record.rule,
            department=department,
            submission_id=submission.pk,
            points=record.rule.points,
            occurred_at=record.occurred_at,
            expires_at=expires_at,
            evidence=record.evidence,
        )
        for pk, record, row, expires_at in zip(ids, valid, rows, expiries, strict=True)
    ]
    deltas: dict[int, int] = defaultdict(int)
    for event in events:
        deltas[event.citizen_id] += event.points
    scores_apply(
        deltas, now=now, reason=f"submission {submission.pk}", audit_entry=binding.entry_id
    )
    notice_entry = notices_create_for_events(events, now=now)  # CRR 15; ZJ 28, SH 32, GB22

    subjects = sorted({resident.identity_index for resident in residents.values()})
    accepted = AuditRecord(
        action=AuditAction.SUBMISSION_ACCEPTED,
        actor_kind=ActorKind.DEPARTMENT,
        actor_id=department.code,
        subject=subjects[0] if len(subjects) == 1 else "",
        object_ref=f"submission:{submission.pk}",
        legal_basis=closed("; ".join(sorted({record.rule.legal_basis for record in valid}))[:300]),
        details={
            "idempotency_key": closed(key_digest),
            "key": principal.key_id,
            "records": len(valid),
            "residents": len(subjects),
            "subjects_sha256": closed(hashlib.sha256("\n".join(subjects).encode()).hexdigest()),
            "rules": {
                closed(code): count
                for code, count in Counter(_rule_tag(r.rule) for r in valid).items()
            },
            "body_sha256": closed(body_sha256),  # computed here
            "events": [events[0].pk, events[-1].pk],
            **binding.commitment(),
            **_consents(valid),
            # What a regulator needs to check, offline, that the department signed it.
            **({"signature": _signature_detail(signature)} if signature else {}),
        },
        entry_id=binding.entry_id,
    )
    # One lock for the whole batch: the submission's entry and its notices' entry.
    receipt = log_append([accepted, notice_entry] if notice_entry else [accepted])[0]
    response = {
        "submission_id": str(submission.pk),
        "accepted": len(events),
        "events": [
            {
                "id": event.pk,
                "record": event.record_index,
                "rule": event.rule.code,
                "rule_version": event.rule.version,
                "points": event.points,
                "status": event.status,
                # A deduction whose decision is not yet final does not count (ZJ 11).
                "finality": "pending"
                if event.rule.is_deduction and is_pending(event.evidence)
                else "final",
                "occurred_at": _iso(event.occurred_at),
                "expires_at": _iso(event.expires_at) if event.expires_at else None,
            }
            for event in events
        ],
        "receipt": receipt.as_dict(),
    }
    Submission.objects.filter(pk=submission.pk).update(response=response)
    return SubmissionOutcome(201, response)


def _rule_tag(rule: Rule) -> str:
    return f"{rule.code}@v{rule.version}"


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat()


def storable_text(value: str) -> str:
    """VALUE with characters no database column can hold (NUL, lone surrogates) escaped."""
    return value.replace("\x00", "\\u0000").encode("utf-8", "backslashreplace").decode("utf-8")


def _consents(valid: list[ValidRecord]) -> dict[str, Any]:
    """The written consents the records name (CRR 14 ¶2), kept in the acceptance's entry."""
    named = [
        {"record": record.index, "reference": record.consent_reference}
        for record in valid
        if record.consent_reference
    ]
    return {"consents": named} if named else {}


def format_chain(via: str) -> str:
    """The formats unwrapped (``base64 › json``), without the pointer inside them: the
    decoded content's member names are the department's text and may be prohibited."""
    return " › ".join(part for part in via.split(" › ") if not part.startswith("/"))


def _violation_payload(violation, path: str) -> dict[str, Any]:
    parts = violation.path.split("/")
    payload: dict[str, Any] = {"path": path, "category": violation.category}
    if violation.via:  # the formats unwrapped inside the string at ``path``
        payload["via"] = format_chain(violation.via)
    if len(parts) > 2 and parts[1] == "records" and parts[2].isdigit():
        payload = {"record": int(parts[2]), **payload}
    return payload


@transaction.atomic
def _prohibited_refusal_record(
    principal, violations, paths: list[str], body_sha256: str, policy_version: int
):
    now = timezone.now()
    # Category codes come from the policy's own catalogue.
    categories = [closed(code) for code in sorted({v.category for v in violations})]
    paths = [
        storable_text(f"{path} ({format_chain(v.via)})" if v.via else path)
        for v, path in zip(violations, paths, strict=True)
    ]
    ScreeningRefusal.objects.create(
        department=principal.department,
        refused_at=now,
        body_sha256=body_sha256,
        policy_version=policy_version,
        categories=categories,
        paths=paths[:200],
        violation_count=len(violations),
    )
    log_append(
        [
            AuditRecord(
                action=AuditAction.SUBMISSION_REFUSED_PROHIBITED,
                actor_kind=ActorKind.DEPARTMENT,
                actor_id=principal.department.code,
                legal_basis=closed("SH 14; ZJ 14; CRR 14; TJ 16; PIPL 28"),
                details={
                    "key": principal.key_id,
                    "body_sha256": closed(body_sha256),  # computed here
                    "policy_version": policy_version,
                    "categories": categories,
                    "paths": paths[:200],
                    "violations": len(violations),
                },
            )
        ]
    )


def _consent_refusal(principal, violations, document, body_sha256: str, policy_version: int):
    """Refuse consent-gated data without a consent reference (CRR 14 ¶2); record the refusal."""
    paths = [safe_pointer(document, v.path) for v in violations]
    payload = [_violation_payload(v, path) for v, path in zip(violations, paths, strict=True)]
    with transaction.atomic():
        log_record(
            action=AuditAction.SUBMISSION_REFUSED_CONSENT,
            actor_kind=ActorKind.DEPARTMENT,
            actor_id=principal.department.code,
            legal_basis=closed("CRR 14 ¶2; ZJ 14 ¶2; SH 14 ¶2"),
            details={
                "key": principal.key_id,
                "body_sha256": closed(body_sha256),  # computed here
                "policy_version": policy_version,
                "categories": [closed(c) for c in sorted({v.category for v in violations})],
                "paths": [item["path"] for item in payload][:200],
            },
        )
    raise ConsentRequired(Msg.CONSENT_REQUIRED, violations=payload, policy_version=policy_version)


_REFUSAL_ACTIONS = {
    RuleNotAuthorized: AuditAction.SUBMISSION_REFUSED_RULE,
    IdempotencyConflict: AuditAction.SUBMISSION_REFUSED_CONFLICT,
    SignatureRequired: AuditAction.SUBMISSION_REFUSED_SIGNATURE,
    SignatureInvalid: AuditAction.SUBMISSION_REFUSED_SIGNATURE,
}


@transaction.atomic
def _refusal_record(principal, error: GatewayError, body_sha256: str) -> None:
    action = _REFUSAL_ACTIONS.get(type(error), AuditAction.SUBMISSION_REFUSED_INVALID)
    problems = error.details.get("problems") or []
    log_record(
        action=action,
        actor_kind=ActorKind.DEPARTMENT,
        actor_id=principal.department.code,
        details={
            "key": principal.key_id,
            "status": error.status_code,
            "error": error.code,
            **{name: error.details[name] for name in ("reason", "key_id") if name in error.details},
            "body_sha256": closed(body_sha256),  # computed here
            # Paths and reasons only; values were never copied into a problem, and an
            # unsafe member name is already named by its position.
            "problems": [
                {"path": p.get("path", ""), "message": p.get("message", "")[:200]}
                for p in problems[:50]
            ]
            if isinstance(error, InvalidRequest | RuleNotAuthorized)
            else [],
        },
    )
