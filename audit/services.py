"""Writes to the audit log. Every audited act calls ``audit_append`` inside its own transaction.

An act only inserts its entry, unsequenced, in its own transaction: no global lock, so
audited acts run in parallel. The integrator (``audit.integrator``) later gives queued
entries their index in batches, extends the Merkle tree and signs checkpoints. The act
gets a signed receipt at once (``Receipt.as_dict``), promising inclusion within the
maximum merge delay.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from audit import merkle, note, receipts
from audit.actions import ActorKind, AuditAction
from audit.canonical import encode_entry, encode_entry_v2
from audit.keys import signing_key, verifier_key
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
    #: Chosen in advance (``new_entry_id``) when state written before the entry must
    #: name it, as ledger rows name the entry that vouches for them.
    entry_id: str | None = None


def new_entry_id() -> str:
    """A fresh random entry id (128 bits, hex), hashed into the entry."""
    return secrets.token_hex(16)


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the act learns at once: its entry's id and leaf hash, and when it was queued."""

    entry_id: str
    leaf_hash: bytes
    recorded_at: dt.datetime

    def as_dict(self) -> dict[str, Any]:
        """The receipt signed with the log's key: a promise of inclusion (see audit.receipts)."""
        time_ms = receipts.millis(self.recorded_at)
        delay = settings.AUDIT_MAX_MERGE_DELAY
        return {
            "leaf_hash": self.leaf_hash.hex(),
            "time": self.recorded_at.astimezone(dt.UTC).isoformat(timespec="milliseconds"),
            "origin": settings.AUDIT_LOG_ORIGIN,
            "max_merge_delay": delay,
            "note": receipts.sign_receipt(
                settings.AUDIT_LOG_ORIGIN,
                self.leaf_hash,
                time_ms,
                delay,
                settings.AUDIT_KEY_NAME,
                signing_key(),
            ),
        }


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
    entry_id: str | None = None,
) -> dict[str, Any]:
    """The JSON part of an entry's canonical bytes, rebuilt identically from its columns."""
    fields = {
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
    if entry_id is not None:
        fields["id"] = entry_id
    return fields


def entry_bytes(entry: AuditEntry) -> bytes:
    """The canonical bytes of a stored entry, rebuilt from its columns."""
    common = {
        "recorded_at": entry.recorded_at,
        "actor_kind": entry.actor_kind,
        "actor_id": entry.actor_id,
        "action": entry.action,
        "subject": entry.subject,
        "purpose": entry.purpose,
        "legal_basis": entry.legal_basis,
        "object_ref": entry.object_ref,
        "details": entry.details,
    }
    if entry.format_version == 1:
        return encode_entry(entry.sequence, bytes(entry.previous_hash), entry_fields(**common))
    return encode_entry_v2(entry_fields(**common, entry_id=entry.entry_id))


def audit_append(records: Sequence[AuditRecord]) -> list[Receipt]:
    """Queue entries in the caller's transaction (no entry, no act; no act, no entry).

    Takes no lock: the entries are inserted unsequenced and the integrator gives them
    their index after the act commits.
    """
    if not transaction.get_connection().in_atomic_block:
        raise AuditError("audit entries must be written inside the act's transaction")
    if not records:
        return []
    now = timezone.now()
    entries: list[AuditEntry] = []
    receipts_out: list[Receipt] = []
    for record in records:
        entry_id = record.entry_id or new_entry_id()
        data = encode_entry_v2(
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
                entry_id=entry_id,
            )
        )
        leaf = merkle.leaf_hash(data)
        entries.append(
            AuditEntry(
                entry_id=entry_id,
                recorded_at=now,
                actor_kind=record.actor_kind,
                actor_id=record.actor_id,
                action=record.action,
                subject=record.subject,
                purpose=record.purpose,
                legal_basis=record.legal_basis,
                object_ref=record.object_ref,
                details=record.details,
                leaf_hash=leaf,
            )
        )
        receipts_out.append(Receipt(entry_id=entry_id, leaf_hash=leaf, recorded_at=now))
    if not settings.AUDIT_BENCHMARK_SKIP_WRITES:
        AuditEntry.objects.bulk_create(entries)
    return receipts_out


def audit_record(**kwargs: Any) -> Receipt:
    """Append one entry; see ``audit_append``."""
    return audit_append([AuditRecord(**kwargs)])[0]


def _split_hashes(blob: bytes) -> list[bytes]:
    return [blob[i : i + 32] for i in range(0, len(blob), 32)]


def _locked_head() -> LogHead:
    head = LogHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        raise AuditError("the audit log head is missing: run migrations")
    return head


def _assign_sequences(ids: list[int], first: int) -> None:
    table = connection.ops.quote_name(AuditEntry._meta.db_table)
    sequences = list(range(first, first + len(ids)))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} AS e SET sequence = v.seq "  # noqa: S608 (names only)
                "FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, seq) WHERE e.id = v.id",
                [ids, sequences],
            )
        else:
            cursor.executemany(
                f"UPDATE {table} SET sequence = %s WHERE id = %s",  # noqa: S608 (names only)
                list(zip(sequences, ids, strict=True)),
            )


@dataclass(frozen=True, slots=True)
class Integration:
    sequenced: int
    size: int


def integrate_pending(*, limit: int = 5000) -> Integration:
    """Sequence up to ``limit`` queued entries, oldest first, and extend the tree.

    One transaction: the entries get consecutive indexes from the head's size, the
    completed subtrees are stored and the head moves, or nothing happens. The head row
    is locked, so even two integrators running at once cannot give one index twice;
    the leader lock (``audit.integrator``) only keeps them from contending.
    """
    if not AuditEntry.objects.filter(sequence__isnull=True).exists():
        # Idle: answer without locking (and so without writing) the head row.
        return Integration(0, LogHead.objects.values_list("size", flat=True).get(pk=1))
    with transaction.atomic():
        head = _locked_head()
        queued = list(
            AuditEntry.objects.filter(sequence__isnull=True)
            .order_by("id")
            .values_list("id", "leaf_hash")[:limit]
        )
        if not queued:
            return Integration(0, head.size)
        frontier = merkle.CompactRange.from_hashes(head.size, _split_hashes(bytes(head.frontier)))
        first = head.size
        nodes: list[TreeNode] = []
        for _id, leaf in queued:
            for level, index, node_hash in frontier.append(bytes(leaf)):
                nodes.append(TreeNode(node_id=TreeNode.key(level, index), hash=node_hash))
        _assign_sequences([entry_id for entry_id, _leaf in queued], first)
        if nodes:
            TreeNode.objects.bulk_create(nodes)
        LogHead.objects.filter(pk=1).update(
            size=frontier.size,
            last_leaf_hash=bytes(queued[-1][1]),
            frontier=b"".join(frontier.to_hashes()),
        )
        return Integration(len(queued), frontier.size)


def checkpoint_create() -> Checkpoint:
    """Sign the tree at its current (sequenced) size (C2SP tlog-checkpoint); store the note."""
    with transaction.atomic():
        head = _locked_head()
        frontier = merkle.CompactRange.from_hashes(head.size, _split_hashes(bytes(head.frontier)))
        root = frontier.root()
        body = note.checkpoint_body(settings.AUDIT_LOG_ORIGIN, head.size, root)
        signed = note.sign_note(body, settings.AUDIT_KEY_NAME, signing_key())
        return Checkpoint.objects.create(
            size=head.size, root_hash=root, note=signed, created_at=timezone.now()
        )


def integrate_all() -> Checkpoint:
    """Sequence everything queued now and sign a checkpoint over it (commands, tests)."""
    while integrate_pending().sequenced:
        pass
    return checkpoint_create()


# --- verification and export ------------------------------------------------------------

#: Extra checks run by ``verification_run`` after the log itself verifies, registered by
#: the apps that keep state the log vouches for (the score store binds its ledger here):
#: each returns None or ``(index, message)`` naming the first entry that does not match.
_bound_state_checks: list[Callable[[], tuple[int, str] | None]] = []


def register_bound_state_check(check: Callable[[], tuple[int, str] | None]) -> None:
    if check not in _bound_state_checks:
        _bound_state_checks.append(check)


def verification_run(
    *,
    progress: Callable[[int, int], None] | None = None,
    witness_check: Callable[[Callable[[int], bytes | None]], str | None] | None = None,
    roots_wanted: Sequence[int] = (),
) -> VerificationRun:
    """Verify the whole log as stored, streaming, and record the outcome for the admin.

    Recomputes each entry's bytes from its columns and compares its leaf hash with the
    stored one, rebuilds the tree, checks every checkpoint, then the state bound to the
    log (``register_bound_state_check``) and, if given, the witnesses' view.
    """
    from audit import selectors, verify

    started = timezone.now()
    size = selectors.log_size()
    stream = verify.StreamVerifier(
        (c.note for c in selectors.checkpoints_oldest_first_iter(size)),
        [verifier_key(), *settings.AUDIT_RETIRED_VERIFIER_KEYS],
        origin=settings.AUDIT_LOG_ORIGIN,
        require_checkpoint=False,
        roots_wanted=[s for s in roots_wanted if s <= size],
    )
    for chunk in selectors.sequenced_entries_in_chunks(size):
        position = stream.size
        data = [entry_bytes(entry) for entry in chunk]
        for offset, entry in enumerate(chunk):
            if entry.sequence != position + offset:
                stream.fail_at(
                    position + offset, f"entry {position + offset} is missing or out of place"
                )
                break
        leaves = stream.feed(data)
        for offset, (entry, leaf) in enumerate(zip(chunk, leaves, strict=True)):
            if leaf != bytes(entry.leaf_hash):
                index = position + offset
                stream.fail_at(index, f"entry {index} does not match its leaf hash")
                break
        if progress is not None:
            progress(stream.size, size)
        if stream.failure is not None and stream.failure.index < stream.size:
            break
    result = stream.result()
    ok, first_bad, message = result.ok, result.first_bad_index, result.line()
    if ok and result.size != size:
        ok, first_bad = False, result.size
        message = f"FAIL at index {first_bad}: the head says {size} entries, the log has fewer"
    if ok:
        for check in _bound_state_checks:
            found = check()
            if found is not None:
                ok, first_bad = False, found[0]
                message = f"FAIL at index {found[0]}: {found[1]}"
                break
    if ok and witness_check is not None:
        # Roots recomputed from the entries in this one pass (at every checkpoint and at
        # ``roots_wanted``), never read from stored tree nodes an insider could leave
        # as they were before a rewrite.
        problem = witness_check(stream.checkpoint_roots.get)
        if problem is not None:
            ok, first_bad, message = False, None, f"FAIL: {problem}"
    if ok and result.checkpoints_checked == 0:
        message += " (no checkpoint yet: run audit_integrate)"
    return VerificationRun.objects.create(
        started_at=started,
        finished_at=timezone.now(),
        ok=ok,
        size=result.size,
        checkpoints_checked=result.checkpoints_checked,
        first_bad_index=first_bad,
        message=message,
    )


def verifier_key_string() -> str:
    return verifier_key()


def log_export(
    stream: BinaryIO,
    *,
    actor_id: str,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[int, int, str]:
    """Write the latest signed prefix of the log (export format version 2), streaming.

    Takes no lock: entries below the latest checkpoint's size never change, so reading
    them in chunks, in as many short transactions as it takes, is a consistent read.
    The export itself is audited.
    """
    from audit import selectors, verify
    from audit.witnessing import cosigned_note

    latest = selectors.latest_checkpoint()
    size = latest.size if latest is not None else 0
    count = selectors.checkpoint_count(size)
    key = verifier_key_string()
    writer = verify.ExportWriter(
        stream,
        origin=settings.AUDIT_LOG_ORIGIN,
        size=size,
        verifier_key=key,
        exported_at=timezone.now().isoformat(timespec="seconds"),
        checkpoints=count,
    )
    checkpoints: Iterator[Checkpoint] = iter(selectors.checkpoints_oldest_first_iter(size))
    pending = next(checkpoints, None)
    written = 0
    while pending is not None and pending.size == 0:
        writer.checkpoint(cosigned_note(pending))
        pending = next(checkpoints, None)
    for chunk in selectors.sequenced_entries_in_chunks(size):
        data = [entry_bytes(entry) for entry in chunk]
        # Interleave each checkpoint right after the entries it covers.
        pos = 0
        while pos < len(data):
            end = len(data) if pending is None else min(len(data), pos + pending.size - written)
            writer.entries(data[pos:end])
            written += end - pos
            pos = end
            while pending is not None and pending.size == written:
                writer.checkpoint(cosigned_note(pending))
                pending = next(checkpoints, None)
        if progress is not None:
            progress(written, size)
    with transaction.atomic():
        audit_record(
            action=AuditAction.AUDIT_EXPORTED,
            actor_kind=ActorKind.REGULATOR,
            actor_id=actor_id,
            details={"entries": size, "checkpoints": count},
        )
    return size, count, key
