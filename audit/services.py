"""Writes to the audit log. Every audited act calls ``audit_append`` inside its own transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit import merkle, note
from audit.actions import ActorKind, AuditAction
from audit.canonical import encode_entry
from audit.keys import signing_key
from audit.models import AuditEntry, Checkpoint, LogHead, TreeNode, VerificationRun


class AuditError(RuntimeError):
    """The log could not be written; the act it records must not happen either."""


@dataclass(frozen=True, slots=True)
class AuditRecord:
    action: int
    actor_kind: str
    actor_id: str
    subject: str = ""
    purpose: str = ""
    legal_basis: str = ""
    object_ref: str = ""
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Receipt:
    index: int
    leaf_hash: str

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "leaf_hash": self.leaf_hash}


def entry_fields(
    *,
    recorded_at: dt.datetime,
    actor_kind: str,
    actor_id: str,
    action: int,
    subject: str,
    purpose: str,
    legal_basis: str,
    object_ref: str,
    details: dict[str, Any],
) -> dict[str, Any]:
    """The JSON part of an entry's canonical bytes, rebuilt identically from its columns."""
    return {
        "time": recorded_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "actor_kind": actor_kind,
        "actor_id": actor_id,
        "action": int(action),
        "subject": subject,
        "purpose": purpose,
        "legal_basis": legal_basis,
        "object": object_ref,
        "details": details,
    }


def entry_bytes(entry: AuditEntry) -> bytes:
    return encode_entry(
        entry.sequence,
        bytes(entry.previous_hash),
        entry_fields(
            recorded_at=entry.recorded_at,
            actor_kind=entry.actor_kind,
            actor_id=entry.actor_id,
            action=entry.action,
            subject=entry.subject,
            purpose=entry.purpose,
            legal_basis=entry.legal_basis,
            object_ref=entry.object_ref,
            details=entry.details,
        ),
    )


def _locked_head() -> LogHead:
    head = LogHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        raise AuditError("the audit log head is missing: run migrations")
    return head


def audit_append(records: Sequence[AuditRecord]) -> list[Receipt]:
    """Append entries under one lock, in the caller's transaction (no entry, no act).

    The head row is locked last in the caller's transaction and held to commit,
    so sequence order is commit order and there are no gaps.
    """
    if not transaction.get_connection().in_atomic_block:
        raise AuditError("audit entries must be written inside the act's transaction")
    if not records:
        return []
    head = _locked_head()
    frontier = merkle.CompactRange.from_hashes(head.size, _split_hashes(bytes(head.frontier)))
    previous = bytes(head.last_leaf_hash)
    now = timezone.now()
    entries: list[AuditEntry] = []
    nodes: list[TreeNode] = []
    receipts: list[Receipt] = []
    for record in records:
        sequence = frontier.size
        data = encode_entry(
            sequence,
            previous,
            entry_fields(
                recorded_at=now,
                actor_kind=record.actor_kind,
                actor_id=record.actor_id,
                action=record.action,
                subject=record.subject,
                purpose=record.purpose,
                legal_basis=record.legal_basis,
                object_ref=record.object_ref,
                details=record.details,
            ),
        )
        leaf = merkle.leaf_hash(data)
        for level, index, node_hash in frontier.append(leaf):
            nodes.append(TreeNode(node_id=TreeNode.key(level, index), hash=node_hash))
        entries.append(
            AuditEntry(
                sequence=sequence,
                recorded_at=now,
                actor_kind=record.actor_kind,
                actor_id=record.actor_id,
                action=record.action,
                subject=record.subject,
                purpose=record.purpose,
                legal_basis=record.legal_basis,
                object_ref=record.object_ref,
                details=record.details,
                previous_hash=previous,
                leaf_hash=leaf,
            )
        )
        receipts.append(Receipt(index=sequence, leaf_hash=leaf.hex()))
        previous = leaf
    AuditEntry.objects.bulk_create(entries)
    if nodes:
        TreeNode.objects.bulk_create(nodes)
    LogHead.objects.filter(pk=1).update(
        size=frontier.size, last_leaf_hash=previous, frontier=b"".join(frontier.to_hashes())
    )
    return receipts


def audit_record(**kwargs: Any) -> Receipt:
    """Append one entry; see ``audit_append``."""
    return audit_append([AuditRecord(**kwargs)])[0]


def _split_hashes(blob: bytes) -> list[bytes]:
    return [blob[i : i + 32] for i in range(0, len(blob), 32)]


@transaction.atomic
def checkpoint_create() -> Checkpoint:
    """Sign the tree at its current size (C2SP tlog-checkpoint) and store the note."""
    head = _locked_head()
    frontier = merkle.CompactRange.from_hashes(head.size, _split_hashes(bytes(head.frontier)))
    root = frontier.root()
    body = note.checkpoint_body(settings.AUDIT_LOG_ORIGIN, head.size, root)
    signed = note.sign_note(body, settings.AUDIT_KEY_NAME, signing_key())
    return Checkpoint.objects.create(
        size=head.size, root_hash=root, note=signed, created_at=timezone.now()
    )


def verification_run() -> VerificationRun:
    """Verify the whole log as stored and record the outcome for the admin."""
    from audit import selectors, verify

    started = timezone.now()
    stored_mismatch: tuple[int, str] | None = None
    entries: list[bytes] = []
    for position, (entry, data) in enumerate(selectors.canonical_entries()):
        if stored_mismatch is None:
            if entry.sequence != position:
                stored_mismatch = (position, f"entry {position} is missing or out of place")
            elif merkle.leaf_hash(data) != bytes(entry.leaf_hash):
                stored_mismatch = (position, f"entry {position} does not match its leaf hash")
        entries.append(data)
    notes = [checkpoint.note for checkpoint in selectors.checkpoints_oldest_first()]
    result = verify.verify_log(
        entries,
        notes,
        [verifier_key_string(), *settings.AUDIT_RETIRED_VERIFIER_KEYS],
        origin=settings.AUDIT_LOG_ORIGIN,
        require_checkpoint=False,
    )
    ok, first_bad, message = result.ok, result.first_bad_index, result.line()
    # A chain break between k and k+1 blames k, unless k+1's own stored leaf hash no
    # longer matches it: then k+1 moved or changed (a reorder), and k is intact.
    if stored_mismatch is not None and (first_bad is None or stored_mismatch[0] <= first_bad + 1):
        ok, first_bad = False, stored_mismatch[0]
        message = f"FAIL at index {first_bad}: {stored_mismatch[1]}"
    if ok and not notes:
        message += " (no checkpoint yet: run audit_checkpoint)"
    return VerificationRun.objects.create(
        started_at=started,
        finished_at=timezone.now(),
        ok=ok,
        size=len(entries),
        checkpoints_checked=result.checkpoints_checked,
        first_bad_index=first_bad,
        message=message,
    )


def verifier_key_string() -> str:
    from audit.keys import verifier_key

    return verifier_key()


def log_export(stream, *, actor_id: str) -> tuple[int, int, str]:
    """Write the export file format of audit.verify; the export itself is audited."""
    from audit import selectors, verify

    with transaction.atomic():
        # Take the head lock so the export is one consistent prefix of the log.
        head = _locked_head()
        entries = [
            data for entry, data in selectors.canonical_entries() if entry.sequence < head.size
        ]
        notes = [c.note for c in selectors.checkpoints_oldest_first() if c.size <= head.size]
        key = verifier_key_string()
        verify.write_export(stream, settings.AUDIT_LOG_ORIGIN, notes, key, entries)
        audit_record(
            action=AuditAction.AUDIT_EXPORTED,
            actor_kind=ActorKind.REGULATOR,
            actor_id=actor_id,
            details={"entries": len(entries), "checkpoints": len(notes)},
        )
    return len(entries), len(notes), key
