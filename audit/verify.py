"""Offline verifier for audit-log exports (Django-free).

Usage::

    python -m audit.verify EXPORT_FILE --public-key KEY [--receipts FILE]
        [--witness-key KEY ... --witness-quorum N --witnessed FILE ...]

Verification streams: memory stays flat however long the log, and the tree is kept as
its compact range (one hash per set bit of the size).

``KEY`` is a verifier key string (``<name>+<key id>+<base64 key>``), or a path to a file
holding one, or a path to a PEM Ed25519 public key. The command prints one line, either
``OK ...`` or ``FAIL at index N: reason``, and exits 0 (verified), 1 (verification
failed) or 2 (unreadable file or bad arguments).

Export format, version 2 (written since entries are sequenced by the integrator)::

    b"audit-export v2\n"
    one line of UTF-8 JSON, then b"\n":
        {"origin": str, "size": N, "verifier_key": str, "exported_at": RFC 3339,
         "checkpoints": K}
    N entry records and K checkpoint records, interleaved: one tag byte (b"E" entry,
    b"C" checkpoint), a 4-byte big-endian length L, L bytes. A checkpoint of size S
    follows the S-th entry, so a reader checks it as soon as it has the entries it
    covers. The last checkpoint's size is N: an export is a signed prefix of the log.

Export format, version 1 (still read)::

    b"audit-export v1\\n"
    one line of UTF-8 JSON, then b"\\n":
        {"origin": str, "size": N, "checkpoints": [signed note, ...], "verifier_key": str}
    N records: 4-byte big-endian length L, then L bytes of one canonical entry

The checks live in :func:`verify_log`, which takes the entries from anywhere (a file, or
the database). It stops at the first failure, in log order, and names the first entry
index that cannot be trusted:

* An entry that is not a version-1 entry: that entry.
* A sequence number that differs from the entry's position (an entry deleted, inserted
  or moved): that position.
* An entry whose previous-hash field is not the leaf hash of the entry before it: the
  entry *before* it. Changing an entry changes its leaf hash, so its successor no longer
  chains to it; the changed entry is the one named. (If instead only the link field of
  the successor was edited, the same index is reported, as both entries are then
  suspect.) A change to the very last entry has no successor; the checkpoint root
  check below catches it.
* A checkpoint that does not verify (bad signature, unknown key, wrong origin,
  malformed body), that is smaller than the checkpoint before it, or whose root differs
  from the root recomputed from the first S entries: the first index the previous
  verified checkpoint does not cover. The data cannot say more precisely which entry in
  ``[previous size, S)`` differs, because the chain in that range may have been
  rebuilt; the message gives the whole range.
* A checkpoint of size S larger than the log: the log lost its tail; the first missing
  index (the log's length) is reported.

Entries are checked by slicing their fixed header, without parsing their JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import mmap
import os
import re
import struct
import sys
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import BinaryIO

from audit.canonical import FORMAT_VERSION, FORMAT_VERSION_2, GENESIS_PREVIOUS_HASH, HEADER_SIZE
from audit.merkle import CompactRange
from audit.note import (
    NoteError,
    UnknownKeyError,
    Verifier,
    load_public_key_pem,
    open_note,
    parse_checkpoint,
    parse_verifier_key,
    verifier_key,
)
from audit.receipts import ReceiptError, load_receipts, millis, open_receipt

__all__ = [
    "EXPORT_MAGIC",
    "Export",
    "ExportFormatError",
    "VerifyResult",
    "load_verifier",
    "main",
    "parse_export",
    "read_export",
    "verify_export",
    "verify_log",
    "write_export",
]

EXPORT_MAGIC = b"audit-export v1\n"
EXPORT_MAGIC_V2 = b"audit-export v2\n"
#: Entries hashed per step of the streaming verifier: large enough for whole-list
#: speed, small enough for flat memory.
CHUNK = 8192
_LENGTH = struct.Struct(">I")
# Smallest canonical entry: the header followed by "{}".
_MIN_ENTRY_SIZE = HEADER_SIZE + 2
_VERSION_AND_SEQUENCE = itemgetter(slice(0, 9))
_PREVIOUS_HASH = itemgetter(slice(9, HEADER_SIZE))


class ExportFormatError(ValueError):
    """A file that is not a readable audit export."""


@dataclass(frozen=True, slots=True)
class VerifyResult:
    ok: bool
    size: int
    checkpoints_checked: int
    first_bad_index: int | None
    message: str
    latest_root: bytes | None = None
    latest_checkpoint_size: int | None = None

    def line(self) -> str:
        if self.ok:
            return f"OK {self.message}"
        if self.first_bad_index is None:
            return f"FAIL: {self.message}"
        return f"FAIL at index {self.first_bad_index}: {self.message}"


def _all_version_2(entries: Sequence[bytes]) -> bool:
    """True when every entry of a chunk is a version 2 entry (whole-list operations only)."""
    n = len(entries)
    first_bytes = b"".join([e[:1] for e in entries])
    return first_bytes == bytes((FORMAT_VERSION_2,)) * n and min(map(len, entries)) >= 3


def _scan_v1_fast(entries: Sequence[bytes], leaves: Sequence[bytes], start: int,
                  previous: bytes) -> bool:  # fmt: skip
    n = len(entries)
    heads = b"".join(map(_VERSION_AND_SEQUENCE, entries))
    if len(heads) != 9 * n or heads[0::9] != bytes((FORMAT_VERSION,)) * n:
        return False
    expected = array("Q", range(start, start + n))
    if sys.byteorder == "little":
        expected.byteswap()
    seq = expected.tobytes()
    if not all(heads[k + 1 :: 9] == seq[k::8] for k in range(8)):
        return False
    if min(map(len, entries)) < _MIN_ENTRY_SIZE:
        return False
    links = list(map(_PREVIOUS_HASH, entries))
    return links[0] == previous and links[1:] == list(leaves[:-1])


class _EntryScanner:
    """Format checks of each entry, in order: version 1 entries (a hash chain with
    sequence numbers) may only be a prefix of the log; version 2 entries carry neither."""

    def __init__(self) -> None:
        self.previous: bytes | None = GENESIS_PREVIOUS_HASH  # None once version 2 began
        self.version_2_from: int | None = None

    def scan(self, entries: Sequence[bytes], leaves: Sequence[bytes],
             start: int) -> tuple[int, str] | None:  # fmt: skip
        """First bad entry of the chunk as ``(index, reason)``, or None."""
        if not entries:
            return None
        previous = self.previous
        if _all_version_2(entries):
            if self.version_2_from is None:
                self.version_2_from = start
            self.previous = None
            return None
        if previous is not None and _scan_v1_fast(entries, leaves, start, previous):
            self.previous = leaves[-1]
            return None
        # Slow path, only for a log with a defect or at the switch from version 1 to 2.
        for offset, entry in enumerate(entries):
            i = start + offset
            version = entry[0] if len(entry) else None
            if version == FORMAT_VERSION_2 and len(entry) >= 3:
                if previous is not None:
                    self.version_2_from = i
                previous = None
            elif version == FORMAT_VERSION and len(entry) >= _MIN_ENTRY_SIZE:
                if previous is None:
                    # Version 1 entries may only be a prefix: the run of version 2 entries
                    # before this one is as suspect as this entry; name its start.
                    k = self.version_2_from if self.version_2_from is not None else i
                    return k, (
                        f"entry {i} is a version 1 entry after version 2 entries "
                        f"(from entry {k}): not a version {FORMAT_VERSION} log"
                    )
                seq_no = int.from_bytes(entry[1:9], "big")
                if seq_no != i:
                    return i, (
                        f"position {i} holds sequence number {seq_no} "
                        "(entry missing, inserted or out of order)"
                    )
                if entry[9:HEADER_SIZE] != previous:
                    if i == 0:
                        return 0, "entry 0 does not start the chain (previous hash is not zero)"
                    return i - 1, (
                        f"entry {i} does not chain to entry {i - 1}: "
                        f"entry {i - 1} was altered (or the link stored in entry {i})"
                    )
                previous = leaves[offset]
            else:
                return i, f"entry {i} is not a version {FORMAT_VERSION} or 2 audit entry"
        self.previous = previous
        return None


def _open_with_any(note_text: str, verifiers: Sequence[Verifier]) -> str:
    """The note's body if one of the keys signed it; a bad signature by any key fails."""
    unknown: UnknownKeyError | None = None
    for verifier in verifiers:
        try:
            return open_note(note_text, verifier)
        except UnknownKeyError as exc:
            unknown = exc
    raise unknown or UnknownKeyError("no verifier key given")


class _Failure(Exception):
    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index
        self.message = message


class StreamVerifier:
    """Verify a log fed in order, chunk by chunk, against its checkpoints.

    ``checkpoint_notes`` is an iterable of signed notes in the order they were signed
    (sizes never decrease); each is checked as soon as the entries it covers have been
    fed. Memory: one chunk, the compact range, and the set of promised leaf hashes.
    """

    def __init__(
        self,
        checkpoint_notes: Iterable[str],
        verifier_key: str | Verifier | Sequence[str | Verifier],
        *,
        origin: str | None = None,
        require_checkpoint: bool = True,
        promised_leaves: Iterable[bytes] = (),
        roots_wanted: Iterable[int] = (),
    ) -> None:
        keys = [verifier_key] if isinstance(verifier_key, str | Verifier) else list(verifier_key)
        self.verifiers = [k if isinstance(k, Verifier) else parse_verifier_key(k) for k in keys]
        self.origin = origin
        self.require_checkpoint = require_checkpoint
        self.promised = set(promised_leaves)
        self._notes = iter(checkpoint_notes)
        self._number = 0
        self._next: tuple[int, bytes, str] | None = None  # (size, root, label)
        self._scanner = _EntryScanner()
        self._tree = CompactRange()
        self._lag: tuple[list[bytes], list[bytes], int] | None = None
        self.size = 0
        self.checked = 0
        self.prev_size = 0
        self.last_good: int | None = None
        #: Roots of the log's prefixes at every checkpoint size and at ``roots_wanted``,
        #: recomputed from the entries (a witness check compares them with what it signed).
        self.checkpoint_roots: dict[int, bytes] = {}
        self._wanted = sorted({size for size in roots_wanted if size > 0}, reverse=True)
        if any(size == 0 for size in roots_wanted):
            self.checkpoint_roots[0] = self._tree.root()
        self.failure: _Failure | None = None
        try:
            self._pull()
        except _Failure as failure:
            self.failure = failure

    # -- checkpoints -------------------------------------------------------------------

    def _pull(self) -> None:
        """Read and check the signature of the next checkpoint (at ``prev_size``)."""
        self._next = None
        if self.failure is not None:
            return
        try:
            note_text = next(self._notes)
        except StopIteration:
            return
        self._number += 1
        label = f"checkpoint {self._number}"
        try:
            checkpoint = parse_checkpoint(_open_with_any(note_text, self.verifiers))
        except NoteError as exc:
            raise _Failure(self.prev_size, f"{label} does not verify: {exc}") from None
        except (TypeError, UnicodeError) as exc:
            raise _Failure(self.prev_size, f"{label} is not a signed note: {exc}") from None
        size = checkpoint.size
        label = f"checkpoint {self._number} (size {size})"
        if self.origin is None:
            self.origin = checkpoint.origin
        if checkpoint.origin != self.origin:
            raise _Failure(
                self.prev_size, f"{label} has origin {checkpoint.origin!r}, not {self.origin!r}"
            )
        if size < self.prev_size:
            raise _Failure(
                size, f"{label} is smaller than the checkpoint before it ({self.prev_size})"
            )
        self._next = (size, checkpoint.root_hash, label)

    def _check_due_checkpoints(self) -> None:
        # Every checkpoint whose size the tree has reached; repeats of one size included.
        while self._next is not None and self._next[0] == self._tree.size:
            size, root_hash, label = self._next
            if self._tree.root() != root_hash:
                prev = self.prev_size
                where = (
                    f"entry {prev} differs"
                    if size - prev == 1
                    else (f"entries [{prev}, {size}) differ")
                )
                raise _Failure(
                    prev,
                    f"root of the first {size} entries does not match {label}: "
                    f"{where} from what was signed",
                )
            # Roots of prefixes of one stream of leaves are consistent by construction,
            # so no consistency proof is needed between checkpoints.
            self.checked += 1
            self.prev_size = self.last_good = size
            self.checkpoint_roots[size] = root_hash
            self._pull()

    def _grow(self, leaves: list[bytes], limit: int | None = None) -> None:
        """Add leaves to the tree, checking each checkpoint on its boundary."""
        pos = 0
        end = len(leaves)
        while pos < end:
            self._check_due_checkpoints()
            take = end - pos
            if self._next is not None:
                take = min(take, self._next[0] - self._tree.size)
            if self._wanted:
                take = min(take, self._wanted[-1] - self._tree.size)
            if limit is not None and self._next is not None and self._next[0] > limit:
                return  # that checkpoint covers entries already known to be bad
            self._tree.extend_fast(leaves[pos : pos + take])
            pos += take
            while self._wanted and self._wanted[-1] == self._tree.size:
                self.checkpoint_roots[self._wanted.pop()] = self._tree.root()
        self._check_due_checkpoints()

    # -- entries -----------------------------------------------------------------------

    def feed(self, entries: Sequence[bytes]) -> list[bytes]:
        """Check the next entries; returns their leaf hashes (for a caller's own checks)."""
        sha = hashlib.sha256
        leaves = [sha(b"\x00" + e).digest() for e in entries]
        if self.failure is not None:
            return leaves
        start = self.size
        self.size += len(entries)
        if self.promised:
            self.promised.difference_update(leaves)
        try:
            bad = self._scanner.scan(entries, leaves, start)
            # The tree trails the scan by one chunk, so that a version 1 chain break
            # at a chunk's first entry is blamed on the entry before it, as it should.
            if self._lag is not None:
                lag_leaves, lag_start = self._lag[1], self._lag[2]
                if bad is not None:
                    self._grow(lag_leaves[: max(0, bad[0] - lag_start)], limit=bad[0])
                else:
                    self._grow(lag_leaves)
            if bad is not None:
                self._grow(leaves[: max(0, bad[0] - start)], limit=bad[0])
                raise _Failure(*bad)
            self._lag = (list(entries), leaves, start)
        except _Failure as failure:
            self.failure = failure
        return leaves

    def fail_at(self, index: int, message: str) -> None:
        """Record a failure found by the caller (say a stored hash that differs)."""
        if self.failure is None or index < self.failure.index:
            self.failure = _Failure(index, message)

    def result(self) -> VerifyResult:
        n = self.size
        if self.failure is None:
            try:
                if self._lag is not None:
                    self._grow(self._lag[1])
                    self._lag = None
                self._check_due_checkpoints()
                if self._next is not None:
                    size, _root, label = self._next
                    raise _Failure(
                        n,
                        f"log has {n} entries but {label} covers {size}: "
                        f"entries from index {n} on are missing",
                    )
                if self.require_checkpoint and self.checked == 0:
                    raise _Failure(0, "no signed checkpoint vouches for the log")
                if self.promised:
                    missing = min(self.promised).hex()
                    raise _Failure(
                        n,
                        f"{len(self.promised)} receipted entries are missing from the log "
                        f"after their merge delay (first by hash: {missing})",
                    )
            except _Failure as failure:
                self.failure = failure
        if self.failure is not None:
            return VerifyResult(
                False, n, self.checked, self.failure.index, self.failure.message, None,
                self.last_good,
            )  # fmt: skip
        latest_root = self._tree.root()
        unsigned = n - self.prev_size
        message = (
            (f"{self.origin}: " if self.origin else "")
            + f"{n} entries, {self.checked} checkpoints verified, "
            f"latest checkpoint size {self.last_good if self.last_good is not None else 'none'}, "
            f"root {latest_root.hex()}"
        )
        if unsigned:
            message += f" ({unsigned} entries after the latest checkpoint are not yet signed)"
        return VerifyResult(True, n, self.checked, None, message, latest_root, self.last_good)


def _chunks(entries: Iterable[bytes], size: int | None = None) -> Iterator[list[bytes]]:
    size = size or CHUNK
    chunk: list[bytes] = []
    for entry in entries:
        chunk.append(entry)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def verify_log(
    entries: Iterable[bytes],
    checkpoint_notes: Iterable[str],
    verifier_key: str | Verifier | Sequence[str | Verifier],
    *,
    origin: str | None = None,
    require_checkpoint: bool = True,
    promised_leaves: Iterable[bytes] = (),
) -> VerifyResult:
    """Verify a log's entries against its signed checkpoints, streaming.

    ``entries`` are canonical entry bytes in sequence order (any iterable). ``checkpoint_notes``
    are signed checkpoint notes, oldest first. ``origin`` is the expected checkpoint origin
    (default: that of the first checkpoint). With ``require_checkpoint`` a log without
    any checkpoint fails, as nothing vouches for it. ``promised_leaves`` are leaf hashes
    that receipts promised and that must all be in the log.

    ``verifier_key`` may be several keys, current and retired (after a rotation of the
    signing key): each checkpoint must verify under one of them. A malformed key raises
    :class:`audit.note.NoteError`; everything about the log itself is in the result.
    """
    stream = StreamVerifier(
        checkpoint_notes,
        verifier_key,
        origin=origin,
        require_checkpoint=require_checkpoint,
        promised_leaves=promised_leaves,
    )
    for chunk in _chunks(entries):
        stream.feed(chunk)
        if stream.failure is not None:
            break
    return stream.result()


# --- export files -----------------------------------------------------------------------


@dataclass(slots=True)
class Export:
    origin: str
    size: int
    checkpoints: list[str]
    verifier_key: str
    entries: list[bytes]
    #: Set when the records do not match the header (cut short or trailing bytes).
    defect: str | None = field(default=None)


def _header_bytes(origin: str, size: int, checkpoints: Sequence[str], key: str) -> bytes:
    header = {"origin": origin, "size": size, "checkpoints": list(checkpoints), "verifier_key": key}
    return EXPORT_MAGIC + json.dumps(header, ensure_ascii=False).encode("utf-8") + b"\n"


def write_export(
    stream: BinaryIO,
    origin: str,
    checkpoints: Sequence[str],
    verifier_key: str,
    entries: Sequence[bytes],
) -> None:
    """Write an export (see the module docstring for the format)."""
    stream.write(_header_bytes(origin, len(entries), checkpoints, verifier_key))
    pack = _LENGTH.pack
    stream.write(b"".join([pack(len(e)) + e for e in entries]))


def _read_records(buf, start: int, count: int) -> tuple[list[bytes], str | None]:
    unpack = _LENGTH.unpack_from
    end = len(buf)
    entries: list[bytes] = []
    append = entries.append
    pos = start
    try:
        for _ in range(count):
            (length,) = unpack(buf, pos)
            pos += 4
            append(buf[pos : pos + length])
            pos += length
    except struct.error:
        pos = end + 1
    if pos == end:
        return entries, None
    if pos < end:
        return entries, f"unexpected data after the {count} declared records"
    # Cut short somewhere: find the first incomplete record, checking every bound.
    entries = []
    pos = start
    for i in range(count):
        if pos + 4 > end:
            return entries, f"export declares {count} entries but ends before record {i}"
        (length,) = unpack(buf, pos)
        pos += 4
        if pos + length > end:
            return entries, f"export declares {count} entries but record {i} is cut short"
        entries.append(buf[pos : pos + length])
        pos += length
    raise AssertionError("unreachable")  # pragma: no cover


def parse_export(buf: bytes | mmap.mmap) -> Export:
    """Parse export bytes. Raises :class:`ExportFormatError` if it is not an export."""
    if buf[: len(EXPORT_MAGIC)] != EXPORT_MAGIC:
        raise ExportFormatError("missing 'audit-export v1' header")
    newline = buf.find(b"\n", len(EXPORT_MAGIC))
    if newline < 0:
        raise ExportFormatError("header line is not terminated")
    try:
        header = json.loads(bytes(buf[len(EXPORT_MAGIC) : newline]).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ExportFormatError(f"header is not UTF-8 JSON: {exc}") from exc
    if not isinstance(header, dict):
        raise ExportFormatError("header is not a JSON object")
    origin = header.get("origin")
    size = header.get("size")
    checkpoints = header.get("checkpoints")
    key = header.get("verifier_key")
    if not isinstance(origin, str):
        raise ExportFormatError("header 'origin' must be a string")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise ExportFormatError("header 'size' must be a non-negative integer")
    if not isinstance(checkpoints, list) or not all(isinstance(c, str) for c in checkpoints):
        raise ExportFormatError("header 'checkpoints' must be a list of strings")
    if not isinstance(key, str):
        raise ExportFormatError("header 'verifier_key' must be a string")
    entries, defect = _read_records(buf, newline + 1, size)
    return Export(origin, size, checkpoints, key, entries, defect)


def read_export(path: str | os.PathLike[str]) -> Export:
    """Read an export file. Raises OSError or :class:`ExportFormatError`."""
    with open(path, "rb") as fh:
        try:
            buf = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except (ValueError, OSError):  # empty file, or not mappable
            return parse_export(fh.read())
        with buf:
            return parse_export(buf)


def verify_export(
    export: Export,
    verifier: str | Verifier | Sequence[str | Verifier],
    *,
    require_checkpoint: bool = True,
) -> VerifyResult:
    """Verify a parsed export against a trusted verifier key."""
    result = verify_log(
        export.entries,
        export.checkpoints,
        verifier,
        origin=export.origin,
        require_checkpoint=require_checkpoint,
    )
    read = len(export.entries)
    if export.defect and (result.ok or (result.first_bad_index or 0) >= read):
        return VerifyResult(
            ok=False,
            size=read,
            checkpoints_checked=result.checkpoints_checked,
            first_bad_index=read,
            message=export.defect,
            latest_checkpoint_size=result.latest_checkpoint_size,
        )
    return result


# --- export files, version 2 (streaming) --------------------------------------------------

_TAG_ENTRY = b"E"
_TAG_CHECKPOINT = b"C"
_RECORD = struct.Struct(">cI")


class ExportWriter:
    """Write a version 2 export record by record, in bounded memory."""

    def __init__(self, stream: BinaryIO, *, origin: str, size: int, verifier_key: str,
                 exported_at: str, checkpoints: int) -> None:  # fmt: skip
        header = {
            "origin": origin,
            "size": size,
            "verifier_key": verifier_key,
            "exported_at": exported_at,
            "checkpoints": checkpoints,
        }
        self.stream = stream
        stream.write(EXPORT_MAGIC_V2 + json.dumps(header, ensure_ascii=False).encode() + b"\n")

    def entries(self, entries: Sequence[bytes]) -> None:
        pack = _RECORD.pack
        self.stream.write(b"".join([pack(_TAG_ENTRY, len(e)) + e for e in entries]))

    def checkpoint(self, note_text: str) -> None:
        data = note_text.encode("utf-8")
        self.stream.write(_RECORD.pack(_TAG_CHECKPOINT, len(data)) + data)


@dataclass(slots=True)
class ExportHeader:
    version: int
    origin: str
    size: int
    verifier_key: str
    exported_at: str | None
    checkpoint_count: int | None
    #: Version 1 only: the checkpoints are in the header.
    checkpoints: list[str] = field(default_factory=list)


def _parse_header(fh: BinaryIO) -> tuple[ExportHeader, int]:
    magic = fh.read(len(EXPORT_MAGIC))
    if magic not in (EXPORT_MAGIC, EXPORT_MAGIC_V2):
        raise ExportFormatError("missing 'audit-export v1' or 'v2' header")
    line = fh.readline(64 << 20)
    if not line.endswith(b"\n"):
        raise ExportFormatError("header line is not terminated")
    try:
        header = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ExportFormatError(f"header is not UTF-8 JSON: {exc}") from exc
    if not isinstance(header, dict):
        raise ExportFormatError("header is not a JSON object")
    version = 1 if magic == EXPORT_MAGIC else 2
    origin, size, key = header.get("origin"), header.get("size"), header.get("verifier_key")
    if not isinstance(origin, str):
        raise ExportFormatError("header 'origin' must be a string")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise ExportFormatError("header 'size' must be a non-negative integer")
    if not isinstance(key, str):
        raise ExportFormatError("header 'verifier_key' must be a string")
    checkpoints = header.get("checkpoints")
    if version == 1:
        if not isinstance(checkpoints, list) or not all(isinstance(c, str) for c in checkpoints):
            raise ExportFormatError("header 'checkpoints' must be a list of strings")
        result = ExportHeader(1, origin, size, key, None, len(checkpoints), checkpoints)
    else:
        if isinstance(checkpoints, bool) or not isinstance(checkpoints, int) or checkpoints < 0:
            raise ExportFormatError("header 'checkpoints' must be a non-negative integer")
        exported_at = header.get("exported_at")
        if not isinstance(exported_at, str):
            raise ExportFormatError("header 'exported_at' must be a string")
        result = ExportHeader(2, origin, size, key, exported_at, checkpoints)
    return result, fh.tell()


def read_export_header(path: str | os.PathLike[str]) -> ExportHeader:
    with open(path, "rb") as fh:
        return _parse_header(fh)[0]


class _Records:
    """One pass over a version 2 export's records of one kind, noting any defect."""

    def __init__(self, path, offset: int, header: ExportHeader, want: bytes) -> None:
        self.path, self.offset, self.header, self.want = path, offset, header, want
        self.defect: str | None = None

    def __iter__(self) -> Iterator[bytes]:
        size = self.header.size
        expected = {_TAG_ENTRY: size, _TAG_CHECKPOINT: self.header.checkpoint_count or 0}
        seen = {_TAG_ENTRY: 0, _TAG_CHECKPOINT: 0}
        with open(self.path, "rb", buffering=1 << 20) as fh:
            fh.seek(self.offset)
            read = fh.read
            while True:
                head = read(5)
                if not head:
                    break
                if len(head) < 5:
                    self.defect = self._short(seen)
                    return
                tag, length = _RECORD.unpack(head)
                if tag not in expected or seen[tag] >= expected[tag]:
                    self.defect = f"unexpected data after the {size} declared records"
                    return
                if tag == self.want:
                    data = read(length)
                    if len(data) < length:
                        self.defect = self._short(seen)
                        return
                    yield data
                else:
                    fh.seek(length, os.SEEK_CUR)
                seen[tag] += 1
        if seen != expected:
            self.defect = self._short(seen)

    def _short(self, seen: dict[bytes, int]) -> str:
        size = self.header.size
        return f"export declares {size} entries but ends before record {seen[_TAG_ENTRY]}"


def verify_export_file(
    path: str | os.PathLike[str],
    verifier: str | Verifier | Sequence[str | Verifier],
    *,
    require_checkpoint: bool = True,
    promised_leaves: Iterable[bytes] = (),
    progress: Callable[[int, int], None] | None = None,
    witness_check: Callable[[list[str], Callable[[int], bytes | None]], str | None] | None = None,
    roots_wanted: Iterable[int] = (),
) -> VerifyResult:
    """Verify an export file of either version, streaming a version 2 file.

    ``witness_check(stored_notes, root_at)`` runs once the log verifies, with the
    export's checkpoint notes (cosignatures included) and the roots recomputed from its
    entries (at every checkpoint and ``roots_wanted`` size); a message fails it.
    """
    with open(path, "rb") as fh:
        header, offset = _parse_header(fh)
    if header.version == 1:
        return verify_export(read_export(path), verifier, require_checkpoint=require_checkpoint)
    checkpoints = _Records(path, offset, header, _TAG_CHECKPOINT)
    entries = _Records(path, offset, header, _TAG_ENTRY)
    stored_notes: list[str] = []

    def notes() -> Iterator[str]:
        for raw in checkpoints:
            text = raw.decode("utf-8", "replace")
            if witness_check is not None:
                stored_notes.append(text)
            yield text

    stream = StreamVerifier(
        notes(),
        verifier,
        origin=header.origin,
        require_checkpoint=require_checkpoint,
        promised_leaves=promised_leaves,
        roots_wanted=roots_wanted,
    )
    for chunk in _chunks(entries):
        stream.feed(chunk)
        if progress is not None:
            progress(stream.size, header.size)
        if stream.failure is not None:
            break
    result = stream.result()
    defect = entries.defect or checkpoints.defect
    read = stream.size
    if defect and (result.ok or (result.first_bad_index or 0) >= read):
        return VerifyResult(False, read, result.checkpoints_checked, read, defect,
                            latest_checkpoint_size=result.latest_checkpoint_size)  # fmt: skip
    if result.ok and witness_check is not None:
        roots = stream.checkpoint_roots
        problem = witness_check(stored_notes, lambda size: roots.get(size))
        if problem is not None:
            return VerifyResult(False, read, result.checkpoints_checked, None, problem,
                                latest_checkpoint_size=result.latest_checkpoint_size)  # fmt: skip
    return result


def load_verifier(
    spec: str, *, key_name: str | None = None, export: Export | ExportHeader | None = None
) -> Verifier:
    """Verifier from a key string, a file holding one, or a PEM public key file.

    A PEM key carries no name; the name is ``key_name``, else the name of the export's
    own verifier key when that key is the same public key, else the export's origin.
    Raises OSError or :class:`audit.note.NoteError`.
    """
    path = Path(spec)
    if not path.is_file():
        return parse_verifier_key(spec.strip())
    data = path.read_bytes()
    if b"-----BEGIN" not in data:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoteError(f"{spec} is not a text key file") from exc
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if len(lines) != 1:
            raise NoteError(f"{spec} must contain exactly one verifier key")
        return parse_verifier_key(lines[0])
    public = load_public_key_pem(data)
    name = key_name
    if name is None and export is not None:
        try:
            embedded = parse_verifier_key(export.verifier_key)
        except NoteError:
            embedded = None
        name = embedded.name if embedded and embedded.public_key == public else export.origin
    if name is None:
        raise NoteError("a PEM public key needs --key-name")
    return parse_verifier_key(verifier_key(name, public))


def terminal_progress(verb: str = "verifying") -> Callable[[int, int], None] | None:
    """A progress callback that redraws one line on a terminal (stderr), or None off one."""
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        percent = 100 * done // total if total else 100
        sys.stderr.write(f"\r{verb}: {done:,} of {total:,} entries ({percent}%)")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show


_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?"
    r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def _due_receipts(
    paths: Sequence[str], verifiers: Sequence[Verifier], origin: str, as_of: str | None
) -> tuple[list[bytes], int]:
    """Leaf hashes promised by the receipts in ``paths`` whose merge delay has passed by
    ``as_of`` (RFC 3339), and the number not yet due."""
    as_of_ms = None
    if as_of:
        # RFC 3339 only: Python's parser also takes week dates, ordinal dates and no offset.
        if not _RFC3339.fullmatch(as_of):
            raise ReceiptError(
                "--as-of must be an RFC 3339 date-time with its offset, "
                "e.g. 2026-11-20T09:00:00+08:00"
            )
        try:
            as_of_ms = millis(dt.datetime.fromisoformat(as_of.upper()))
        except (OverflowError, ValueError):
            raise ReceiptError("--as-of is not a time that exists") from None
    due, pending = [], 0
    for path in paths:
        for note_text in load_receipts(path):
            claim = open_receipt(note_text, verifiers, origin)
            if as_of_ms is None or claim.due_ms <= as_of_ms:
                due.append(claim.leaf_hash)
            else:
                pending += 1
    return due, pending


def _witness_check(args, verifiers: Sequence[Verifier]):
    """The witness check the command line asks for, and the tree sizes it needs roots at."""
    from audit import witness  # Django-free, as this module

    if args.witnessed and not args.witness_key:
        raise ValueError("--witnessed needs the witnesses' keys (--witness-key)")
    if not args.witness_key:
        return None, ()
    witnessed = []
    for path in args.witnessed:
        try:
            state = witness.load_state(Path(path))
        except witness.WitnessError as exc:
            raise ValueError(str(exc)) from None
        if state is None:
            raise ValueError(f"witness state file {path} does not exist")
        witnessed.append(state.note)
    quorum = len(args.witness_key) if args.witness_quorum is None else args.witness_quorum
    log_keys = [str(v) for v in verifiers]

    def check(stored_notes: list[str], root_at) -> str | None:
        result = witness.check_witnessed(
            stored_notes,
            log_keys=log_keys,
            witness_keys=args.witness_key,
            quorum=quorum,
            root_at=root_at,
            witnessed=witnessed,
        )
        return None if result.ok else result.line()

    # Validate the keys and the quorum now, as usage errors.
    witness.check_witnessed([], log_keys=log_keys, witness_keys=args.witness_key,
                            quorum=quorum, root_at=lambda size: None)  # fmt: skip
    return check, witness.checkpoint_sizes(witnessed)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m audit.verify",
        description="Verify an audit-log export offline against the log's public key.",
    )
    parser.add_argument("file", help="export file written by the gateway")
    parser.add_argument(
        "--public-key",
        required=True,
        action="append",
        metavar="KEY",
        help="verifier key string, or a file holding one, or a PEM Ed25519 public key; "
        "repeat it for keys retired by a rotation",
    )
    parser.add_argument("--key-name", help="signer name to use with a PEM public key")
    parser.add_argument(
        "--allow-no-checkpoint",
        action="store_true",
        help="accept a log that no checkpoint vouches for",
    )
    parser.add_argument(
        "--receipts",
        action="append",
        default=[],
        metavar="FILE",
        help="receipts the log signed (JSON array or JSON lines): fail if an entry they "
        "promise is missing once its merge delay has passed; repeatable",
    )
    parser.add_argument(
        "--as-of",
        metavar="TIME",
        help="RFC 3339 time at which receipts are judged (default: the export's time)",
    )
    parser.add_argument(
        "--witness-key",
        action="append",
        default=[],
        metavar="KEY",
        help="a witness's cosignature/v1 verifier key: require checkpoints it cosigned "
        "(repeatable)",
    )
    parser.add_argument(
        "--witness-quorum",
        type=int,
        metavar="N",
        help="how many of the witness keys must cosign one checkpoint (default: all)",
    )
    parser.add_argument(
        "--witnessed",
        action="append",
        default=[],
        metavar="FILE",
        help="a witness's state file (what it last cosigned): fail if the log rolled back "
        "or rewrote it; repeatable",
    )
    args = parser.parse_args(argv)

    try:
        header = read_export_header(args.file)
    except OSError as exc:
        print(f"ERROR: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except ExportFormatError as exc:
        print(f"ERROR: {args.file} is not an audit export: {exc}", file=sys.stderr)
        return 2
    try:
        verifier = [
            load_verifier(spec, key_name=args.key_name, export=header) for spec in args.public_key
        ]
    except OSError as exc:
        print(f"ERROR: cannot read key: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except NoteError as exc:
        print(f"ERROR: bad --public-key: {exc}", file=sys.stderr)
        return 2
    try:
        promised, not_due = _due_receipts(
            args.receipts, verifier, header.origin, args.as_of or header.exported_at
        )
    except OSError as exc:
        print(f"ERROR: cannot read receipts: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except (ReceiptError, ValueError) as exc:
        print(f"ERROR: bad receipt: {exc}", file=sys.stderr)
        return 2

    try:
        witness_check, wanted = _witness_check(args, verifier)
    except (OSError, ValueError) as exc:
        print(f"ERROR: bad witness options: {exc}", file=sys.stderr)
        return 2
    try:
        result = verify_export_file(
            args.file,
            verifier,
            require_checkpoint=not args.allow_no_checkpoint,
            promised_leaves=promised,
            progress=terminal_progress(),
            witness_check=witness_check,
            roots_wanted=wanted,
        )
    except ExportFormatError as exc:
        print(f"ERROR: {args.file} is not an audit export: {exc}", file=sys.stderr)
        return 2
    line = result.line()
    if result.ok and args.receipts:
        line += f"; {len(promised)} receipts honoured"
        if not_due:
            line += f", {not_due} not yet due"
    print(line)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
