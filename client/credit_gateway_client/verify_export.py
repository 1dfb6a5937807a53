"""Confirm, offline, that every accepted submission in an audit export was signed by its
department: ``python -m credit_gateway_client.verify_export EXPORT --keys departments.json``.

KEYS is what ``manage.py department_signing_key export`` writes::

    {"<department code>": [{"public_key": "<base64>", "valid_from": "<ISO>",
                            "valid_until": "<ISO>|null", "revoked_at": "<ISO>|null"}]}

Each accepted submission's entry holds its signature: the key id, the signature
parameters, the value and the covered components. The check rebuilds the RFC 9421
signature base, verifies it with that department's key (valid and not revoked at the
entry's time) and confirms that the signed Content-Digest is the digest of the body the
entry records. Entries are read from their JSON body, whatever the binary header before
it. Exit 0: every signed submission verifies (and, with --require-signatures, none is
unsigned); 1: some do not; 2: unreadable input. The log's own integrity is checked
separately, with ``python -m audit.verify``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import datetime as dt
import json
import struct
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from credit_gateway_client.signing import key_id_for

SUBMISSION_ACCEPTED = 100
REQUIRED_COMPONENTS = {"@method", "@path", "content-digest"}


class ExportError(ValueError):
    """An export that cannot be read."""


def entry_fields(data: bytes) -> dict[str, Any]:
    """The JSON object of one canonical entry: the first '{' from which the rest parses."""
    start = data.find(b"{")
    while start >= 0:
        try:
            fields = json.loads(data[start:].decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            start = data.find(b"{", start + 1)
            continue
        if isinstance(fields, dict) and "action" in fields:
            return fields
        start = data.find(b"{", start + 1)
    raise ExportError("an entry holds no JSON object")


def export_entries(path: Path) -> Iterator[dict[str, Any]]:
    """Each entry's fields, from an export of version 1 (length-prefixed entries) or
    version 2 (tagged records: b"E" an entry, b"C" a checkpoint), streamed."""
    with Path(path).open("rb") as stream:
        magic = stream.readline()
        if magic not in (b"audit-export v1\n", b"audit-export v2\n"):
            raise ExportError("not an audit export of version 1 or 2")
        tagged = magic == b"audit-export v2\n"
        try:
            header = json.loads(stream.readline())
            size = int(header["size"])
        except (ValueError, KeyError, TypeError):
            raise ExportError("the export's header is not readable") from None
        count = 0
        while count < size:
            tag = stream.read(1) if tagged else b"E"
            prefix = stream.read(4)
            if not tag or len(prefix) != 4:
                raise ExportError(f"the export ends after {count} of {size} entries")
            (length,) = struct.unpack(">I", prefix)
            data = stream.read(length)
            if len(data) != length:
                raise ExportError(f"entry {count} is cut short")
            if tag == b"C":
                continue
            if tag != b"E":
                raise ExportError(f"unknown record after entry {count}")
            yield entry_fields(data)
            count += 1


@dataclass(frozen=True)
class DepartmentKey:
    department: str
    key: Ed25519PublicKey
    valid_from: dt.datetime
    valid_until: dt.datetime | None
    revoked_at: dt.datetime | None

    def valid_at(self, moment: dt.datetime) -> bool:
        if moment < self.valid_from:
            return False
        if self.valid_until is not None and moment >= self.valid_until:
            return False
        return self.revoked_at is None or moment < self.revoked_at


def _moment(value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return None
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("a time without a zone")
    return moment


def load_keys(path: Path) -> dict[str, DepartmentKey]:
    """Key id -> the department's key, from departments.json."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        keys = {}
        for department, entries in document.items():
            for entry in entries:
                raw = base64.b64decode(entry["public_key"], validate=True)
                keys[key_id_for(raw)] = DepartmentKey(
                    department=department,
                    key=Ed25519PublicKey.from_public_bytes(raw),
                    valid_from=_moment(entry.get("valid_from"))
                    or dt.datetime.min.replace(tzinfo=dt.UTC),
                    valid_until=_moment(entry.get("valid_until")),
                    revoked_at=_moment(entry.get("revoked_at")),
                )
    except (OSError, ValueError, KeyError, TypeError, AttributeError, binascii.Error) as error:
        raise ExportError(f"{path}: not a departments' keys file ({error})") from None
    return keys


def signature_base(components: Sequence[Sequence[str]], signature_input: str) -> bytes:
    lines = [f'"{name}": {value}' for name, value in components]
    lines.append(f'"@signature-params": {signature_input}')
    return "\n".join(lines).encode("ascii")


def submission_problem(fields: dict[str, Any], keys: dict[str, DepartmentKey]) -> str | None:
    """Why an accepted submission's signature does not hold, or None when it does."""
    details = fields.get("details") or {}
    signature = details.get("signature")
    if not isinstance(signature, dict):
        return "unsigned"
    try:
        components = [(str(name), str(value)) for name, value in signature["components"]]
        key_id = signature["key_id"]
        value = base64.b64decode(signature["value"], validate=True)
        signature_input = signature["input"]
        base = signature_base(components, signature_input)
    except (KeyError, TypeError, ValueError, binascii.Error, UnicodeEncodeError):
        return "the recorded signature is malformed"
    key = keys.get(key_id)
    if key is None:
        return f"key {key_id} is not among the departments' keys"
    if key.department != fields.get("actor_id"):
        return f"key {key_id} belongs to {key.department}, not {fields.get('actor_id')}"
    if not key.valid_at(dt.datetime.fromisoformat(fields["time"])):
        return f"key {key_id} was not valid at {fields['time']}"
    covered = dict(components)
    if not covered.keys() >= REQUIRED_COMPONENTS or f'keyid="{key_id}"' not in signature_input:
        return "the signature does not cover the method, path and body digest"
    digest = base64.b64encode(bytes.fromhex(details.get("body_sha256", ""))).decode()
    if covered["content-digest"] != f"sha-256=:{digest}:":
        return "the signed digest is not the recorded body's"
    try:
        key.key.verify(value, base)
    except InvalidSignature:
        return "the signature does not verify"
    return None


@dataclass
class ExportReport:
    submissions: int = 0
    signed: int = 0
    unsigned: int = 0
    failures: list[str] = field(default_factory=list)


def verify_export(path: Path, keys: dict[str, DepartmentKey]) -> ExportReport:
    report = ExportReport()
    for index, fields in enumerate(export_entries(path)):
        if fields.get("action") != SUBMISSION_ACCEPTED:
            continue
        report.submissions += 1
        problem = submission_problem(fields, keys)
        if problem == "unsigned":
            report.unsigned += 1
        elif problem is None:
            report.signed += 1
        else:
            report.failures.append(f"entry {index} ({fields.get('object')}): {problem}")
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="verify-export", description=__doc__.split("\n")[0])
    parser.add_argument("export", type=Path)
    parser.add_argument("--keys", type=Path, required=True, help="departments.json")
    parser.add_argument(
        "--require-signatures", action="store_true", help="an unsigned submission fails"
    )
    args = parser.parse_args(argv)
    try:
        report = verify_export(args.export, load_keys(args.keys))
    except (OSError, ExportError) as error:
        print(f"ERROR {error}", file=sys.stderr)
        return 2
    for failure in report.failures:
        print(f"FAIL {failure}")
    failed = bool(report.failures) or (args.require_signatures and report.unsigned > 0)
    verdict = "FAIL" if failed else "OK"
    print(
        f"{verdict} {report.submissions} accepted submissions: {report.signed} signed and "
        f"verified, {report.unsigned} unsigned, {len(report.failures)} failed"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
