"""The one way into what can never be erased: the audit log, refusal records and notices.

An entry of the append-only log cannot be deleted (PIPL 47) nor cleaned (CRR 14), so
whatever it holds must be safe before it is written. Every string that reaches it is
one of two things:

- a closed value the gateway itself chose (an action, a code looked up in the catalogue,
  a count, a hash, a time), marked with ``closed()``; or
- anything else, which ``safe_text()`` screens with the policy in force (through the
  screening adapter of ``free_text``) and masks:
  text the policy flags, or any text held in a member name, becomes a keyed hash with its
  length (``opaque()``), and identity numbers are masked.

Codes that come from outside and are not in the catalogue (a purpose, a rule, a
department) are stored only as ``opaque()``; idempotency keys as ``idempotency_digest()``.
A JSON pointer into a client's body names a member whose own name is prohibited or
shaped like an identity number by its position instead (``/records/0/data/#3``).

No other module of the gateway calls ``audit.services.audit_append`` or ``audit_record``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any

from audit import services as audit_services
from audit.services import AuditRecord, Receipt
from gateway.logging import has_identity_shape, mask_identity_shapes
from gateway.services.binding import LEDGER_KEY
from gateway.services.free_text import is_prohibited_text


class Closed(str):
    """A string the gateway chose from a closed set, stored as it is."""

    __slots__ = ()


def closed(value: str) -> Closed:
    return Closed(value)


def _keyed_digest(label: bytes, value: str) -> str:
    from gateway.identity import vault

    return vault().keyed_digest(label, value.encode("utf-8", "surrogatepass"))


def opaque(value: str) -> Closed:
    """A keyed hash of VALUE with its length: comparable between entries, never readable."""
    return Closed(f"~{_keyed_digest(b'audit-opaque', value)[:24]}/{len(value)}")


def idempotency_digest(key: str) -> str:
    """How an idempotency key is stored: the same key always finds its submission."""
    return _keyed_digest(b"idempotency-key", key)


def safe_text(value: str) -> str:
    """VALUE with identity numbers masked, or its opaque form if the policy flags it."""
    if isinstance(value, Closed):
        return str(value)
    if is_prohibited_text(value):
        return opaque(value)
    return _storable(mask_identity_shapes(value))


def _storable(value: str) -> str:
    # NUL and lone surrogates fit in no database column.
    return value.replace("\x00", "\\u0000").encode("utf-8", "backslashreplace").decode("utf-8")


def safe_value(value: Any) -> Any:
    """A JSON value with every string made safe; member names too."""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, Mapping):
        return {_safe_name(name): safe_value(item) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return [safe_value(item) for item in value]
    return value


def _safe_name(name: Any) -> str:
    name = str(name) if not isinstance(name, str) else name
    if isinstance(name, Closed):
        return str(name)
    if has_identity_shape(name) or is_prohibited_text(name):
        return opaque(name)
    return _storable(name)


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def safe_pointer(document: Any, pointer: str) -> str:
    """POINTER (RFC 6901) into DOCUMENT, naming unsafe member names by position (``#3``).

    The department can still find the member (the fourth of its object), and neither the
    response nor any record repeats its name.
    """
    if not pointer.startswith("/"):
        return safe_text(pointer)
    node: Any = document
    out: list[str] = []
    for token in pointer[1:].split("/"):
        name = _unescape(token)
        if isinstance(node, Mapping):
            unsafe = has_identity_shape(name) or is_prohibited_text(name)
            if unsafe:
                names = list(node)
                out.append(f"#{names.index(name)}" if name in node else "#?")
            else:
                out.append(_escape(_storable(name)))
            node = node.get(name)
        elif isinstance(node, list) and name.isdigit() and int(name) < len(node):
            out.append(name)
            node = node[int(name)]
        else:
            # Past the document (a name the problem made up, or a value): still a name.
            unsafe = has_identity_shape(name) or is_prohibited_text(name)
            out.append("#?" if unsafe else _escape(_storable(name)))
            node = None
    return "/" + "/".join(out)


def log_append(records: Sequence[AuditRecord]) -> list[Receipt]:
    """Append entries to the audit log, every field made safe first; see ``audit_append``."""
    # Looked up on the module at each call, so a benchmark can time the log's absence.
    return audit_services.audit_append([_safe_record(record) for record in records])


def log_record(**fields: Any) -> Receipt:
    """Append one entry; see ``log_append``."""
    return log_append([AuditRecord(**fields)])[0]


# An object reference the gateway builds from its own ids ("submission:<uuid>",
# "event:42", "score:list:7"): closed by its shape, so screening never rewrites it (a
# UUID's digits can look like a diagnosis code to the vocabulary).
_REFERENCE = re.compile(r"[a-z_]+(?::[a-z_]+)*:[0-9a-f-]{1,40}")


def _safe_reference(value: str) -> str:
    if _REFERENCE.fullmatch(value) and not has_identity_shape(value):
        return value
    return safe_text(value)


# A subject is the resident's blind index (identity.py): 64 hex digits the gateway
# computes, which may hold 18 decimal digits in a row. Masking those would hide the
# entry from the resident's "who saw my data"; no identity number has this shape.
_BLIND_INDEX = re.compile(r"[0-9a-f]{64}")


def _safe_subject(value: str) -> str:
    return value if _BLIND_INDEX.fullmatch(value) else safe_text(value)


def _safe_record(record: AuditRecord) -> AuditRecord:
    details = dict(record.details)
    # The ledger commitment is the gateway's own digests (binding.py): closed, and it
    # must reach the log byte for byte for audit_verify to match the ledger with it.
    commitment = details.pop(LEDGER_KEY, None)
    details = safe_value(details)
    if commitment is not None:
        details[LEDGER_KEY] = commitment
    return dataclasses.replace(
        record,
        actor_kind=str(record.actor_kind),
        actor_id=safe_text(record.actor_id),
        subject=_safe_subject(record.subject),
        purpose=safe_text(record.purpose),
        legal_basis=safe_text(record.legal_basis),
        object_ref=_safe_reference(record.object_ref),
        details=details,
    )
