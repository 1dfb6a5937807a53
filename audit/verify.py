"""Offline verifier for audit-log exports (Django-free).

Usage::

    python -m audit.verify EXPORT_FILE --public-key KEY

``KEY`` is a verifier key string (``<name>+<key id>+<base64 key>``), or a path to a file
holding one, or a path to a PEM Ed25519 public key. The command prints one line, either
``OK ...`` or ``FAIL at index N: reason``, and exits 0 (verified), 1 (verification
failed) or 2 (unreadable file or bad arguments).

Export format, version 1::

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
import hashlib
import json
import mmap
import os
import struct
import sys
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import BinaryIO

from audit.canonical import FORMAT_VERSION, GENESIS_PREVIOUS_HASH, HEADER_SIZE
from audit.merkle import MemoryTree, verify_consistency
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
        return f"FAIL at index {self.first_bad_index}: {self.message}"


def _scan_entries(entries: list, leaves: list[bytes]) -> tuple[int, str] | None:
    """First bad entry as ``(index, reason)``, or None when all entries are in order."""
    n = len(entries)
    if n == 0:
        return None
    # Fast path: whole-list operations that run in C, no per-entry Python code. The joined
    # headers have the expected length only if every entry is long enough.
    heads = b"".join(map(_VERSION_AND_SEQUENCE, entries))
    ok = len(heads) == 9 * n and heads[0::9] == bytes((FORMAT_VERSION,)) * n
    if ok:
        expected = array("Q", range(n))
        if sys.byteorder == "little":
            expected.byteswap()
        seq = expected.tobytes()
        ok = all(heads[k + 1 :: 9] == seq[k::8] for k in range(8))
    if ok:
        ok = min(map(len, entries)) >= _MIN_ENTRY_SIZE
    if ok:
        links = list(map(_PREVIOUS_HASH, entries))
        ok = links[0] == GENESIS_PREVIOUS_HASH and links[1:] == leaves[:-1]
    if ok:
        return None
    # Slow path, only for a log with a defect: find the first one exactly.
    previous = GENESIS_PREVIOUS_HASH
    for i, entry in enumerate(entries):
        if len(entry) < _MIN_ENTRY_SIZE or entry[0] != FORMAT_VERSION:
            return i, f"entry {i} is not a version {FORMAT_VERSION} audit entry"
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
        previous = leaves[i]
    raise AssertionError("fast path rejected a log the slow path accepts")  # pragma: no cover


def _open_with_any(note_text: str, verifiers: Sequence[Verifier]) -> str:
    """The note's body if one of the keys signed it; a bad signature by any key fails."""
    unknown: UnknownKeyError | None = None
    for verifier in verifiers:
        try:
            return open_note(note_text, verifier)
        except UnknownKeyError as exc:
            unknown = exc
    raise unknown or UnknownKeyError("no verifier key given")


def verify_log(
    entries: Iterable[bytes],
    checkpoint_notes: Sequence[str],
    verifier_key: str | Verifier | Sequence[str | Verifier],
    *,
    origin: str | None = None,
    require_checkpoint: bool = True,
) -> VerifyResult:
    """Verify a log's entries against its signed checkpoints.

    ``entries`` are canonical entry bytes in sequence order. ``checkpoint_notes`` are
    signed checkpoint notes, oldest first. ``origin`` is the expected checkpoint origin
    (default: that of the first checkpoint). With ``require_checkpoint`` a log without
    any checkpoint fails, as nothing vouches for it.

    ``verifier_key`` may be several keys, current and retired (after a rotation of the
    signing key): each checkpoint must verify under one of them. A malformed key raises
    :class:`audit.note.NoteError`; everything about the log itself is in the result.
    """
    keys = [verifier_key] if isinstance(verifier_key, str | Verifier) else list(verifier_key)
    verifiers = [k if isinstance(k, Verifier) else parse_verifier_key(k) for k in keys]
    entries = entries if isinstance(entries, list) else list(entries)
    n = len(entries)
    sha = hashlib.sha256
    leaves = [sha(b"\x00" + e).digest() for e in entries]

    entry_failure = _scan_entries(entries, leaves)
    tree = MemoryTree(leaves)
    checked = 0
    prev_size, prev_root = 0, tree.root(0)
    last_good: int | None = None

    def fail(index: int, message: str) -> VerifyResult:
        if entry_failure is not None and entry_failure[0] < index:
            index, message = entry_failure
        return VerifyResult(False, n, checked, index, message, None, last_good)

    for number, note_text in enumerate(checkpoint_notes, start=1):
        if entry_failure is not None and prev_size >= entry_failure[0]:
            break  # everything further depends on the broken entries
        label = f"checkpoint {number}"
        try:
            checkpoint = parse_checkpoint(_open_with_any(note_text, verifiers))
        except NoteError as exc:
            return fail(prev_size, f"{label} does not verify: {exc}")
        except (TypeError, UnicodeError) as exc:
            return fail(prev_size, f"{label} is not a signed note: {exc}")
        size = checkpoint.size
        label = f"checkpoint {number} (size {size})"
        if origin is None:
            origin = checkpoint.origin
        if checkpoint.origin != origin:
            return fail(prev_size, f"{label} has origin {checkpoint.origin!r}, not {origin!r}")
        if size < prev_size:
            return fail(size, f"{label} is smaller than the checkpoint before it ({prev_size})")
        if entry_failure is not None and size > entry_failure[0]:
            break  # the entries this checkpoint covers are already known to be bad
        if size > n:
            return fail(
                n,
                f"log has {n} entries but {label} covers {size}: "
                f"entries from index {n} on are missing",
            )
        root = tree.root(size)
        if root != checkpoint.root_hash:
            if size - prev_size == 1:
                where = f"entry {prev_size} differs"
            else:
                where = f"entries [{prev_size}, {size}) differ"
            return fail(
                prev_size,
                f"root of the first {size} entries does not match {label}: "
                f"{where} from what was signed",
            )
        if prev_size and not verify_consistency(
            prev_size,
            size,
            prev_root,
            checkpoint.root_hash,
            tree.consistency_proof(prev_size, size),
        ):
            return fail(prev_size, f"{label} is not consistent with the checkpoint before it")
        checked += 1
        prev_size, prev_root = size, checkpoint.root_hash
        last_good = size

    if entry_failure is not None:
        return fail(*entry_failure)
    if require_checkpoint and checked == 0:
        return fail(0, "no signed checkpoint vouches for the log")
    latest_root = tree.root()
    unsigned = n - prev_size
    message = (
        (f"{origin}: " if origin else "") + f"{n} entries, {checked} checkpoints verified, "
        f"latest checkpoint size {last_good if last_good is not None else 'none'}, "
        f"root {latest_root.hex()}"
    )
    if unsigned:
        message += f" ({unsigned} entries after the latest checkpoint are not yet signed)"
    return VerifyResult(True, n, checked, None, message, latest_root, last_good)


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


def load_verifier(
    spec: str, *, key_name: str | None = None, export: Export | None = None
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
    args = parser.parse_args(argv)

    try:
        export = read_export(args.file)
    except OSError as exc:
        print(f"ERROR: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except ExportFormatError as exc:
        print(f"ERROR: {args.file} is not an audit export: {exc}", file=sys.stderr)
        return 2
    try:
        verifier = [
            load_verifier(spec, key_name=args.key_name, export=export) for spec in args.public_key
        ]
    except OSError as exc:
        print(f"ERROR: cannot read key: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except NoteError as exc:
        print(f"ERROR: bad --public-key: {exc}", file=sys.stderr)
        return 2

    result = verify_export(export, verifier, require_checkpoint=not args.allow_no_checkpoint)
    print(result.line())
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
