"""Detached signatures over a submission's exact body (Django-free).

The scheme is HTTP Message Signatures (RFC 9421) with the ``ed25519`` algorithm, over
a ``Content-Digest`` (RFC 9530) of the body. A signature must cover ``@method``,
``@path`` and ``content-digest`` (``content-type`` may be covered too, nothing else),
and carry ``created``, ``keyid`` and ``alg="ed25519"`` and no other parameter, so that
the serialised input holds only checked values, which the audit entry can keep whole for
the offline check. The idempotency key is inside
the body, so a signed body cannot be replayed under another key: its digest no longer
matches. ``created`` must lie within a short window around the gateway's clock.

The covered values and the signature parameters are kept with the submission and in its
audit entry, so that :func:`signature_base` rebuilds the signed bytes offline.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import http_sf
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from http_message_signatures import (
    HTTPMessageSignaturesException,
    HTTPMessageVerifier,
    InvalidSignature,
    algorithms,
)

ALGORITHM = "ed25519"
REQUIRED_COMPONENTS = ("@method", "@path", "content-digest")
ALLOWED_COMPONENTS = frozenset({*REQUIRED_COMPONENTS, "content-type"})
ALLOWED_PARAMETERS = frozenset({"created", "keyid", "alg"})
SIGNATURE_HEADERS = ("Signature-Input", "Signature", "Content-Digest")


class Reason:
    """Why a signature was refused; each has its own message at the door."""

    MISSING = "missing"
    MALFORMED = "malformed"
    UNKNOWN_KEY = "unknown_key"
    KEY_REVOKED = "key_revoked"
    KEY_NOT_VALID = "key_not_valid"
    COVERAGE = "coverage"
    DIGEST_MISMATCH = "digest_mismatch"
    CLOCK_SKEW = "clock_skew"
    BAD_SIGNATURE = "bad_signature"


class SignatureRefused(Exception):
    """KEY_ID is set only for a key the gateway knows: a claimed id is client input and
    is neither recorded nor echoed."""

    def __init__(self, reason: str, key_id: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.key_id = key_id


@dataclass(frozen=True, slots=True)
class VerifiedSignature:
    key_id: str
    created: int
    signature_input: str  # the serialised inner list with its parameters
    signature: str  # base64 of the 64 signature bytes
    # [name, value] pairs in signed order (a JSON object's order would not survive jsonb).
    components: list[list[str]]

    def as_record(self) -> dict[str, object]:
        return {
            "key_id": self.key_id,
            "input": self.signature_input,
            "value": self.signature,
            "components": self.components,
        }


@dataclass
class _Message:
    method: str
    url: str
    headers: dict[str, str]


def has_signature(headers: Mapping[str, str]) -> bool:
    return any(headers.get(name) for name in ("Signature-Input", "Signature"))


def content_digest(body: bytes) -> str:
    """The ``Content-Digest`` field value (RFC 9530) of BODY with SHA-256."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"


def _single_input(headers: Mapping[str, str]) -> tuple[str, list[str], dict, bytes]:
    try:
        inputs = http_sf.parse(headers.get("Signature-Input", "").encode(), tltype="dictionary")
        values = http_sf.parse(headers.get("Signature", "").encode(), tltype="dictionary")
    except (ValueError, TypeError):
        raise SignatureRefused(Reason.MALFORMED) from None
    if len(inputs) != 1 or inputs.keys() != values.keys():
        raise SignatureRefused(Reason.MALFORMED)
    label = next(iter(inputs))
    members, params = inputs[label]
    value = values[label][0]
    if not isinstance(members, list) or not isinstance(value, bytes):
        raise SignatureRefused(Reason.MALFORMED)
    # Component parameters (;sf, ;key, ;req) are not part of this profile.
    if not all(isinstance(name, str) and not extra for name, extra in members):
        raise SignatureRefused(Reason.COVERAGE)
    serialised = http_sf.ser({label: inputs[label]}).split("=", 1)[1]
    return serialised, [name for name, _extra in members], params, value


def verify_submission_signature(
    *,
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    public_key_for: Callable[[str], bytes],
    now: dt.datetime,
    max_age: dt.timedelta,
    max_skew: dt.timedelta,
) -> VerifiedSignature:
    """Verify the one signature of a request or raise SignatureRefused naming why.

    PUBLIC_KEY_FOR returns the raw 32-byte Ed25519 key of a key id, or raises
    SignatureRefused itself (unknown, revoked or not valid now).
    """
    if not has_signature(headers):
        raise SignatureRefused(Reason.MISSING)
    signature_input, components, params, signature_bytes = _single_input(headers)
    key_id = params.get("keyid")
    if not isinstance(key_id, str) or not key_id:
        raise SignatureRefused(Reason.MALFORMED)
    if params.get("alg", ALGORITHM) != ALGORITHM or not isinstance(params.get("created"), int):
        raise SignatureRefused(Reason.MALFORMED)
    if not set(params) <= ALLOWED_PARAMETERS:
        raise SignatureRefused(Reason.MALFORMED)
    if len(set(components)) != len(components) or not (
        set(REQUIRED_COMPONENTS) <= set(components) <= ALLOWED_COMPONENTS
    ):
        raise SignatureRefused(Reason.COVERAGE)
    try:
        created = dt.datetime.fromtimestamp(params["created"], tz=dt.UTC)
    except (ValueError, OverflowError, OSError):
        raise SignatureRefused(Reason.CLOCK_SKEW) from None
    if created > now + max_skew or created < now - max_age:
        raise SignatureRefused(Reason.CLOCK_SKEW)
    public_key = Ed25519PublicKey.from_public_bytes(public_key_for(key_id))
    digest = headers.get("Content-Digest", "")
    if not digest:
        raise SignatureRefused(Reason.DIGEST_MISMATCH, key_id)

    message = _Message(
        method=method,
        # Only @path is allowed among the URL's parts, so the host is a placeholder.
        url="https://gateway.invalid" + path,
        headers={
            name: headers[name]
            for name in (*SIGNATURE_HEADERS, "Content-Type")
            if headers.get(name) is not None
        },
    )
    verifier = HTTPMessageVerifier(
        signature_algorithm=algorithms.ED25519, key_resolver=_OneKey(key_id, public_key)
    )
    # The window was checked above against the injected clock.
    verifier.max_clock_skew = dt.timedelta(days=365 * 100)
    try:
        results = verifier.verify(message, max_age=None, body=body)
    except InvalidSignature as error:
        text = str(error).lower()
        reason = Reason.DIGEST_MISMATCH if "digest" in text else Reason.BAD_SIGNATURE
        raise SignatureRefused(reason, key_id) from None
    except (HTTPMessageSignaturesException, ValueError, TypeError):
        raise SignatureRefused(Reason.MALFORMED, key_id) from None
    result = results[0]
    covered = [
        [_bare(name), value]
        for name, value in result.covered_components.items()
        if _bare(name) != "@signature-params"
    ]
    return VerifiedSignature(
        key_id=key_id,
        created=params["created"],
        signature_input=signature_input,
        signature=base64.b64encode(signature_bytes).decode(),
        components=covered,
    )


def _bare(component: str) -> str:
    return component.strip('"')


class _OneKey:
    def __init__(self, key_id: str, key: Ed25519PublicKey):
        self.key_id, self.key = key_id, key

    def resolve_public_key(self, key_id: str):
        return self.key if key_id == self.key_id else None

    def resolve_private_key(self, key_id: str):
        raise NotImplementedError("the gateway never holds a department's private key")


def signature_base(components: list[list[str]], signature_input: str) -> bytes:
    """The signed bytes (RFC 9421 section 2.5) rebuilt from recorded values."""
    lines = [f'"{name}": {value}' for name, value in components]
    lines.append(f'"@signature-params": {signature_input}')
    return "\n".join(lines).encode("ascii")


def key_id_for(public_key: bytes) -> str:
    """A key's id: the first 16 bytes of its SHA-256, in hex; the client derives the same."""
    return hashlib.sha256(public_key).hexdigest()[:32]
