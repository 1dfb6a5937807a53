"""Canonical, versioned bytes of one audit entry (Django-free).

Layout of version 1, the bytes that are hashed into the Merkle tree:

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


@dataclass(frozen=True, slots=True)
class DecodedEntry:
    version: int
    sequence: int
    previous_hash: bytes
    fields: dict[str, Any]


def decode_entry(data: bytes) -> DecodedEntry:
    if len(data) < HEADER_SIZE or data[0] != FORMAT_VERSION:
        raise EntryFormatError("not a version 1 audit entry")
    try:
        fields = json.loads(data[HEADER_SIZE:].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise EntryFormatError("entry body is not UTF-8 JSON") from exc
    if not isinstance(fields, dict):
        raise EntryFormatError("entry body is not a JSON object")
    return DecodedEntry(
        version=data[0],
        sequence=int.from_bytes(data[1:9], "big"),
        previous_hash=bytes(data[9:41]),
        fields=fields,
    )
