"""Signed receipts: the log's promise to include an entry (Django-free).

An audited act gets its entry's leaf hash at once (entry format version 2 does not
depend on the entry's position), and the log signs, with its checkpoint key, a note
promising to include that leaf within the maximum merge delay, as a Certificate
Transparency log signs an SCT. Body of the note::

    <origin>
    receipt
    <base64 leaf hash>
    <time: milliseconds since the Unix epoch>
    <maximum merge delay: seconds>

Its second line is not a decimal number, so a receipt can never be read as a
checkpoint (C2SP tlog-checkpoint), whose second line is the tree size.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from audit.note import NoteError, UnknownKeyError, Verifier, open_note, sign_note

RECEIPT_KIND = "receipt"


class ReceiptError(ValueError):
    """A receipt that is malformed, not signed by the log, or for another log."""


@dataclass(frozen=True, slots=True)
class ReceiptClaim:
    origin: str
    leaf_hash: bytes
    time_ms: int
    max_merge_delay: int

    @property
    def due_ms(self) -> int:
        """When the entry must be in the log, in milliseconds since the epoch."""
        return self.time_ms + self.max_merge_delay * 1000


def receipt_body(origin: str, leaf_hash: bytes, time_ms: int, max_merge_delay: int) -> str:
    if len(leaf_hash) != 32:
        raise ReceiptError("a leaf hash is 32 bytes")
    leaf = base64.b64encode(leaf_hash).decode("ascii")
    return f"{origin}\n{RECEIPT_KIND}\n{leaf}\n{int(time_ms)}\n{int(max_merge_delay)}\n"


def sign_receipt(
    origin: str, leaf_hash: bytes, time_ms: int, max_merge_delay: int, key_name: str, key
) -> str:
    return sign_note(receipt_body(origin, leaf_hash, time_ms, max_merge_delay), key_name, key)


def parse_receipt_body(body: str) -> ReceiptClaim:
    lines = body.split("\n")
    if len(lines) != 6 or lines[5] != "" or lines[1] != RECEIPT_KIND:
        raise ReceiptError("not a receipt note")
    origin, _kind, leaf_b64, time_text, delay_text = lines[:5]
    try:
        leaf = base64.b64decode(leaf_b64, validate=True)
    except (binascii.Error, ValueError):
        raise ReceiptError("the receipt's leaf hash is not base64") from None
    if len(leaf) != 32 or not time_text.isdigit() or not delay_text.isdigit():
        raise ReceiptError("malformed receipt body")
    return ReceiptClaim(origin, leaf, int(time_text), int(delay_text))


def open_receipt(note_text: str, verifiers: Sequence[Verifier], origin: str) -> ReceiptClaim:
    """The promise a receipt makes, if one of the log's keys signed it for ``origin``."""
    body = None
    for verifier in verifiers:
        try:
            body = open_note(note_text, verifier)
            break
        except UnknownKeyError:
            continue
        except NoteError as exc:
            raise ReceiptError(f"receipt signature does not verify: {exc}") from None
    if body is None:
        raise ReceiptError("receipt is not signed by the log's key")
    claim = parse_receipt_body(body)
    if claim.origin != origin:
        raise ReceiptError(f"receipt is for the log {claim.origin!r}, not {origin!r}")
    return claim


def load_receipts(path: str | Path) -> list[str]:
    """Receipt notes from a file: a JSON array or JSON lines of receipt objects (as the
    API returns them, with a ``note`` member), or of bare note strings."""
    text = Path(path).read_text(encoding="utf-8")
    stripped = text.strip()
    try:
        items = (
            json.loads(stripped)
            if stripped.startswith("[")
            else [json.loads(line) for line in stripped.splitlines() if line.strip()]
        )
    except ValueError as exc:
        raise ReceiptError(f"{path} is not JSON or JSON lines: {exc}") from None
    notes = []
    for number, item in enumerate(items, start=1):
        if isinstance(item, dict) and isinstance(item.get("receipt"), dict):
            item = item["receipt"]
        note_text = item.get("note") if isinstance(item, dict) else item
        if not isinstance(note_text, str):
            raise ReceiptError(f"receipt {number} has no signed note")
        notes.append(note_text)
    return notes


def millis(when: dt.datetime) -> int:
    return int(when.timestamp() * 1000)
