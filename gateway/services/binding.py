"""The ledger bound to the audit log.

Every audit entry for a change of the score store commits to the state it left: a
digest of each ledger row (``ScoreEvent``) and score row (``Score``) it created or
changed, status changes included. Each such row names the entry that vouches for its
current state (``audit_entry``). ``audit_verify`` then walks the ledger and the log
together (``ledger_binding_check``, registered with the audit app) and fails on a row
no entry vouches for, a row that differs from what its entry committed, and a row an
entry committed that is gone, so an insider who edits points or deletes an event and
fixes the score to match is caught.

A service that changes the ledger::

    binding = LedgerBinding()
    ...  # write rows with audit_entry=binding.entry_id, or binding.mark_events(ids)
    record = AuditRecord(..., entry_id=binding.entry_id,
                         details={..., **binding.commitment()})

Digests are 96-bit truncations of SHA-256 over the row's canonical JSON (an object of
its columns, leaving out NULL and empty values): the log holds no score or other
personal value, only what proves it. A column added to these tables later must default
to NULL or '' so that what existing entries committed still holds.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import struct
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import models

from audit.models import AuditEntry
from audit.services import new_entry_id
from gateway.models import Score, ScoreEvent

LEDGER_KEY = "ledger"
DIGEST_SIZE = 12
_ITEM = struct.Struct(f">I{DIGEST_SIZE}s")
_CHUNK = 2000


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return value.hex
    return value


class _Kind:
    """One bound table: its key column and the columns a digest covers."""

    def __init__(self, model: type[models.Model], key: str, label: str) -> None:
        # ``model`` may be a migration's historical model: only its metadata is used.
        self.model = model
        self.key = key
        self.label = label
        # Every concrete column but the binding itself, so columns added later are
        # covered without a change here.
        self.columns = [
            f.attname for f in model._meta.concrete_fields if f.attname != "audit_entry"
        ]

    def digest(self, row: dict[str, Any]) -> bytes:
        values = {
            column: _plain(row[column])
            for column in self.columns
            if row[column] is not None and row[column] != ""
        }
        data = json.dumps(
            [self.model._meta.db_table, values],
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode("utf-8")
        return hashlib.sha256(data).digest()[:DIGEST_SIZE]

    def rows(self, queryset) -> Iterator[dict[str, Any]]:
        return queryset.values(*self.columns, "audit_entry").iterator(chunk_size=_CHUNK)


EVENTS = _Kind(ScoreEvent, "id", "event")
SCORES = _Kind(Score, "citizen_id", "score of resident")
KINDS = {"events": EVENTS, "scores": SCORES}


def _pack(items: list[tuple[int, bytes]]) -> str:
    # Sorted keys as deltas, so a 1,000-record batch stays well inside one entry.
    out, previous = [], 0
    for key, digest in sorted(items):
        out.append(_ITEM.pack(key - previous, digest))
        previous = key
    return base64.b64encode(b"".join(out)).decode("ascii")


def unpack(text: str) -> dict[int, bytes]:
    data = base64.b64decode(text)
    items, key = {}, 0
    for delta, digest in _ITEM.iter_unpack(data):
        key += delta
        items[key] = digest
    return items


class LedgerBinding:
    """The rows one audited change vouches for, and the commitment its entry carries."""

    def __init__(self) -> None:
        self.entry_id = new_entry_id()

    def mark_events(self, ids: Iterable[int]) -> None:
        ids = list(ids)
        if ids:
            ScoreEvent.objects.filter(pk__in=ids).update(audit_entry=self.entry_id)

    def mark_scores(self, citizen_ids: Iterable[int]) -> None:
        ids = list(citizen_ids)
        if ids:
            Score.objects.filter(citizen_id__in=ids).update(audit_entry=self.entry_id)

    def commitment(self) -> dict[str, Any]:
        """The entry's ``ledger`` member: digests of every row now naming this entry."""
        found: dict[str, str] = {}
        for name, kind in KINDS.items():
            items = [
                (row[kind.key], kind.digest(row))
                for row in kind.rows(kind.model.objects.filter(audit_entry=self.entry_id))
            ]
            if items:
                found[name] = _pack(items)
        return {LEDGER_KEY: found} if found else {}


# --- verification -----------------------------------------------------------------------


def _entries_by_id(entry_ids: Iterable[str]) -> dict[str, tuple[int | None, int, dict]]:
    return {
        entry_id: (sequence, pk, details)
        for entry_id, sequence, pk, details in AuditEntry.objects.filter(
            entry_id__in=list(entry_ids)
        ).values_list("entry_id", "sequence", "id", "details")
    }


def _committed(details: dict, name: str) -> dict[int, bytes]:
    ledger = details.get(LEDGER_KEY) if isinstance(details, dict) else None
    if not isinstance(ledger, dict) or not isinstance(ledger.get(name), str):
        return {}
    return unpack(ledger[name])


def _index(sequence: int | None) -> str:
    return "a queued entry" if sequence is None else f"entry {sequence}"


def _check_rows(name: str, kind: _Kind) -> tuple[int, str] | None:
    """Every row is vouched for by an entry that committed exactly its current state."""
    last = None
    while True:
        queryset = kind.model.objects.order_by(kind.key)
        if last is not None:
            queryset = queryset.filter(**{f"{kind.key}__gt": last})
        rows = list(queryset.values(*kind.columns, "audit_entry")[:_CHUNK])
        if not rows:
            return None
        entries = _entries_by_id({row["audit_entry"] for row in rows if row["audit_entry"]})
        for row in rows:
            key = row[kind.key]
            if not row["audit_entry"]:
                return 0, f"{kind.label} {key} is not vouched for by any audit entry"
            found = entries.get(row["audit_entry"])
            if found is None:
                return 0, (
                    f"{kind.label} {key} names audit entry {row['audit_entry']}, "
                    "which the log does not hold"
                )
            sequence, _pk, details = found
            committed = _committed(details, name).get(key)
            if committed != kind.digest(row):
                return sequence or 0, (
                    f"{kind.label} {key} differs from what {_index(sequence)} committed"
                )
        last = rows[-1][kind.key]


def _check_entries() -> tuple[int, str] | None:
    """Every row an entry committed still exists, vouched for by it or by a later entry."""
    last = 0
    while True:
        chunk = list(
            AuditEntry.objects.filter(id__gt=last, details__has_key=LEDGER_KEY)
            .order_by("id")
            .values_list("id", "sequence", "entry_id", "details")[:200]
        )
        if not chunk:
            return None
        for pk, sequence, entry_id, details in chunk:
            for name, kind in KINDS.items():
                keys = list(_committed(details, name))
                if not keys:
                    continue
                vouchers = dict(
                    kind.model.objects.filter(**{f"{kind.key}__in": keys}).values_list(
                        kind.key, "audit_entry"
                    )
                )
                for key in keys:
                    if key not in vouchers:
                        return sequence or 0, (
                            f"{kind.label} {key}, committed by {_index(sequence)}, "
                            "is missing from the ledger"
                        )
                later = {v for v in vouchers.values() if v and v != entry_id}
                if later:
                    order = dict(
                        AuditEntry.objects.filter(entry_id__in=later).values_list("entry_id", "id")
                    )
                    for key, voucher in vouchers.items():
                        if voucher != entry_id and order.get(voucher, 0) < pk:
                            return sequence or 0, (
                                f"{kind.label} {key} was committed by {_index(sequence)} "
                                "but now names an older or unknown entry"
                            )
        last = chunk[-1][0]


def ledger_binding_check() -> tuple[int, str] | None:
    """The audit app's hook: None when the ledger is exactly what the log vouches for."""
    for name, kind in KINDS.items():
        found = _check_rows(name, kind)
        if found is not None:
            return found
    return _check_entries()
