"""Domain errors. One DRF exception handler turns each into the API's one error shape:

{"error": "<code>", "message": "<human text>", ...details}
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class Msg:
    """Error messages as constants, so tests can hold the code to them."""

    BODY_TOO_LARGE = _("The request body is larger than the limit of %(limit)d bytes.")
    BATCH_TOO_LARGE = _("A batch holds at most %(limit)d records.")
    NOT_UTF8 = _("The request body is not valid UTF-8.")
    NOT_JSON = _("The request body is not valid JSON: %(detail)s")
    TOO_DEEP = _("The request body is nested more than %(limit)d levels deep.")
    KEY_TOO_LONG = _("A member name is longer than %(limit)d characters.")
    STRING_TOO_LONG = _("A string is longer than %(limit)d characters.")
    LONE_SURROGATE = _("A string contains an unpaired UTF-16 surrogate escape.")
    INVALID = _("The request is invalid; see problems.")
    PROHIBITED = _(
        "The submission contains data the law forbids collecting (SH 14, ZJ 14, CRR 14, "
        "TJ 16, PIPL 28). Nothing was stored."
    )
    RULE_NOT_AUTHORIZED = _("The department is not authorised to apply this rule.")
    IDEMPOTENCY_CONFLICT = _(
        "This idempotency key was already used by this department for a different body."
    )
    PURPOSE_REQUIRED = _("A purpose is required to read a score (ZJ 19, SH 17).")
    PURPOSE_NOT_GRANTED = _("The department has not been granted this purpose.")
    UNAUTHENTICATED = _("Authentication credentials were missing or invalid.")
    FORBIDDEN = _("You do not have permission to perform this action.")
    NOT_FOUND = _("Not found.")
    METHOD_NOT_ALLOWED = _("Method not allowed.")
    UNSUPPORTED_MEDIA_TYPE = _("Send the body as application/json.")
    THROTTLED = _("Too many requests; try again in %(wait)d seconds.")
    SERVER_BUSY = _("The service is busy; retry with the same idempotency key.")
    SIGNATURE_REQUIRED = _(
        "This department must sign its submissions (HTTP Message Signatures, RFC 9421, "
        "ed25519). Nothing was stored."
    )
    SIGNATURE_REQUIRED_DEDUCTIONS = _(
        "This department must sign submissions that hold deductions (HTTP Message "
        "Signatures, RFC 9421, ed25519). Nothing was stored."
    )
    SIGNATURE_MALFORMED = _(
        "The Signature-Input or Signature header is malformed; send exactly one signature "
        'with created, keyid and alg="ed25519". Nothing was stored.'
    )
    SIGNATURE_UNKNOWN_KEY = _(
        "The signing key is not registered for this department. Nothing was stored."
    )
    SIGNATURE_KEY_REVOKED = _("The signing key has been revoked. Nothing was stored.")
    SIGNATURE_KEY_NOT_VALID = _(
        "The signing key is not valid now (expired or not yet valid). Nothing was stored."
    )
    SIGNATURE_COVERAGE = _(
        'The signature must cover "@method", "@path" and "content-digest" (and '
        'may cover "content-type"), without parameters. Nothing was stored.'
    )
    SIGNATURE_DIGEST_MISMATCH = _(
        "The Content-Digest is missing or does not match the body: the signature was made "
        "over another body. Nothing was stored."
    )
    SIGNATURE_CLOCK_SKEW = _(
        "The signature's created time is too far from the gateway's clock (at most "
        "%(max_age)d seconds old, %(max_skew)d seconds ahead); check the clock and sign "
        "again. Nothing was stored."
    )
    SIGNATURE_BAD = _("The signature does not verify with this key. Nothing was stored.")
    SIGNING_KEY_MALFORMED = _("A public key is the base64 of 32 raw Ed25519 bytes.")
    SIGNING_KEY_PERIOD = _("A key's validity must end after it begins.")
    SIGNING_KEY_EXISTS = _("This public key is already registered.")
    SIGNING_KEY_UNKNOWN = _("No such signing key for this department.")
    SIGNATURE_POLICY_UNKNOWN = _("The signature policy is one of optional, required, deductions.")


class GatewayError(Exception):
    status_code = 400
    code = "invalid"

    def __init__(self, message: Any, **details: Any):
        super().__init__(str(message))
        self.message = message
        self.details = details

    def payload(self) -> dict[str, Any]:
        return {"error": self.code, "message": str(self.message), **self.details}


class InvalidRequest(GatewayError):
    status_code = 400
    code = "invalid"

    def __init__(self, problems: list[dict[str, Any]], message: Any = Msg.INVALID):
        super().__init__(message, problems=problems)


class PayloadTooLarge(GatewayError):
    status_code = 413
    code = "too_large"


class ProhibitedData(GatewayError):
    status_code = 422
    code = "prohibited_data"


class RuleNotAuthorized(GatewayError):
    status_code = 403
    code = "rule_not_authorized"


class IdempotencyConflict(GatewayError):
    status_code = 409
    code = "idempotency_conflict"


class SignatureRequired(GatewayError):
    status_code = 401
    code = "signature_required"


class SignatureInvalid(GatewayError):
    status_code = 401
    code = "signature_invalid"


class PurposeRequired(GatewayError):
    status_code = 400
    code = "purpose_required"


class PurposeNotGranted(GatewayError):
    status_code = 403
    code = "purpose_not_granted"


class NotFound(GatewayError):
    status_code = 404
    code = "not_found"


class Conflict(GatewayError):
    status_code = 409
    code = "conflict"


class Forbidden(GatewayError):
    status_code = 403
    code = "forbidden"


class ServiceBusy(GatewayError):
    status_code = 503
    code = "busy"


def problem(path: str, message: Any, record: int | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"path": path, "message": str(message)}
    if record is not None:
        item = {"record": record, **item}
    return item
