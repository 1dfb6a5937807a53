"""Canonical, versioned bytes of one audit entry (Django-free).

Version 2, written since entries are sequenced off the request path, is the byte 0x02
followed by the UTF-8 JSON of the entry's fields (keys sorted, no spaces). The fields
carry the entry's random ``id`` and its ``time``; they do not carry its position, so
the leaf hash is known when the act commits, before the integrator gives the entry
its index, and a signed receipt can promise it at once. The Merkle tree orders the
entries; no hash chain is needed.

Layout of version 1 (logs written before version 2; still verified):

    offset  size  field
    0       1     format version (0x01)
    1       8     sequence number, unsigned big-endian (0-based, no gaps)
    9       32    leaf hash of the previous entry (32 zero bytes for entry 0)
    41      ...   UTF-8 JSON of the entry's fields, keys sorted, no spaces

The fixed header lets a verifier check order and chaining by slicing, without
parsing the JSON, which keeps offline verification fast.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

FORMAT_VERSION = 1
FORMAT_VERSION_2 = 2
HEADER_SIZE = 41
GENESIS_PREVIOUS_HASH = bytes(32)


class EntryFormatError(ValueError):
    """Bytes that are not a well-formed canonical entry."""


def canonical_json(fields: dict[str, Any]) -> bytes:
    return json.dumps(
        fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def encode_entry(sequence: int, previous_hash: bytes, fields: dict[str, Any]) -> bytes:
    if len(previous_hash) != 32:
        raise EntryFormatError("previous hash must be 32 bytes")
    return (
        bytes((FORMAT_VERSION,))
        + sequence.to_bytes(8, "big")
        + previous_hash
        + canonical_json(fields)
    )


def encode_entry_v2(fields: dict[str, Any]) -> bytes:
    """Version 2 bytes: position-free, so the leaf hash is fixed before sequencing."""
    return b"\x02" + canonical_json(fields)


@dataclass(frozen=True, slots=True)
class DecodedEntry:
    version: int
    sequence: int | None
    previous_hash: bytes
    fields: dict[str, Any]


def decode_entry(data: bytes) -> DecodedEntry:
    """Decode a version 1 or version 2 entry (``sequence`` is None for version 2)."""
    if data[:1] == b"\x02":
        body, sequence, previous = data[1:], None, b""
    elif len(data) >= HEADER_SIZE and data[0] == FORMAT_VERSION:
        body = data[HEADER_SIZE:]
        sequence, previous = int.from_bytes(data[1:9], "big"), bytes(data[9:41])
    else:
        raise EntryFormatError("not a version 1 or 2 audit entry")
    try:
        fields = json.loads(bytes(body).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise EntryFormatError("entry body is not UTF-8 JSON") from exc
    if not isinstance(fields, dict):
        raise EntryFormatError("entry body is not a JSON object")
    return DecodedEntry(version=data[0], sequence=sequence, previous_hash=previous, fields=fields)
