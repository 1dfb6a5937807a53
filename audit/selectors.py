"""Reads of the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.db import models

from audit import merkle, note
from audit.models import AuditEntry, Checkpoint, LogHead, TreeNode, VerificationRun


def log_size() -> int:
    return LogHead.objects.values_list("size", flat=True).get(pk=1)


def sequenced_entries_in_chunks(size: int, chunk_size: int = 5000) -> Iterator[list[AuditEntry]]:
    """Entries with index below ``size``, in order, one short query per chunk.

    Keyset pagination on the index: no long transaction, no server-side cursor, flat
    memory, and nothing an audited act waits for.
    """
    start = 0
    while start < size:
        chunk = list(
            AuditEntry.objects.filter(sequence__gte=start, sequence__lt=size).order_by("sequence")[
                :chunk_size
            ]
        )
        if not chunk:
            return
        yield chunk
        start = chunk[-1].sequence + 1


def checkpoints_oldest_first() -> list[Checkpoint]:
    return list(Checkpoint.objects.order_by("size", "id"))


def checkpoints_oldest_first_iter(max_size: int, chunk_size: int = 2000) -> Iterator[Checkpoint]:
    """Checkpoints of size at most ``max_size``, oldest first, streamed by keyset."""
    last = (-1, 0)
    while True:
        chunk = list(
            Checkpoint.objects.filter(size__lte=max_size)
            .filter(models.Q(size__gt=last[0]) | models.Q(size=last[0], id__gt=last[1]))
            .order_by("size", "id")
            .prefetch_related("cosignatures")[:chunk_size]
        )
        yield from chunk
        if len(chunk) < chunk_size:
            return
        last = (chunk[-1].size, chunk[-1].id)


def checkpoint_count(max_size: int) -> int:
    return Checkpoint.objects.filter(size__lte=max_size).count()


def entry_by_leaf_hash(leaf: bytes) -> AuditEntry | None:
    return AuditEntry.objects.filter(leaf_hash=leaf).only("id", "sequence").first()


def latest_checkpoint() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-size", "-id").first()


def latest_verification() -> VerificationRun | None:
    return VerificationRun.objects.order_by("-id").first()


def entries_for_subject(subject: str, actions=None):
    queryset = AuditEntry.objects.filter(subject=subject)
    if actions is not None:
        queryset = queryset.filter(action__in=list(actions))
    return queryset.order_by("-id")


class _StoredNodes:
    """Serves a proof's subtree hashes from the database in two queries."""

    def __init__(self) -> None:
        self.wanted: set[tuple[int, int]] = set()
        self.found: dict[tuple[int, int], bytes] = {}

    def record(self, level: int, index: int) -> bytes:
        self.wanted.add((level, index))
        return bytes(32)

    def fetch(self) -> None:
        leaves = [index for level, index in self.wanted if level == 0]
        nodes = [TreeNode.key(level, index) for level, index in self.wanted if level > 0]
        for sequence, leaf in AuditEntry.objects.filter(sequence__in=leaves).values_list(
            "sequence", "leaf_hash"
        ):
            self.found[(0, sequence)] = bytes(leaf)
        for node_id, node_hash in TreeNode.objects.filter(node_id__in=nodes).values_list(
            "node_id", "hash"
        ):
            self.found[(node_id >> 56, node_id & ((1 << 56) - 1))] = bytes(node_hash)

    def lookup(self, level: int, index: int) -> bytes:
        try:
            return self.found[(level, index)]
        except KeyError:
            raise LookupError(f"tree node ({level}, {index}) is missing") from None


def _with_stored_nodes(build):
    # The shape of a proof does not depend on hash values: a first pass learns which
    # nodes it needs, one query per table fetches them, a second pass builds it.
    nodes = _StoredNodes()
    build(nodes.record)
    nodes.fetch()
    return build(nodes.lookup)


def inclusion_proof(index: int, size: int) -> list[bytes]:
    return _with_stored_nodes(lambda source: merkle.inclusion_proof(index, size, source))


def consistency_proof(old_size: int, new_size: int) -> list[bytes]:
    return _with_stored_nodes(lambda source: merkle.consistency_proof(old_size, new_size, source))


def leaf_hash_at(index: int) -> bytes:
    return bytes(AuditEntry.objects.values_list("leaf_hash", flat=True).get(sequence=index))


def root_at(size: int) -> bytes:
    """The root of the first SIZE entries, from O(log n) stored perfect subtrees."""
    return _with_stored_nodes(lambda source: merkle.range_hash(0, size, source))


@dataclass(frozen=True)
class EntryProof:
    """An entry's inclusion proof against the latest checkpoint, checked here and now.

    ``verified`` is True only when the entry's bytes rebuild its stored leaf hash, the
    checkpoint's note verifies with the log's key and names the stored size and root,
    and the proof leads from the leaf to that root. ``problem`` names the first failure
    (a code: "pending", "no_checkpoint", "not_yet_covered", "leaf", "signature",
    "proof").
    """

    verified: bool
    problem: str = ""
    checkpoint: Checkpoint | None = None
    proof: tuple[bytes, ...] = ()


def entry_proof(entry: AuditEntry) -> EntryProof:
    from audit.keys import verifier_key
    from audit.services import entry_bytes

    if entry.sequence is None:
        return EntryProof(False, "pending")
    checkpoint = latest_checkpoint()
    if checkpoint is None:
        return EntryProof(False, "no_checkpoint")
    if entry.sequence >= checkpoint.size:
        return EntryProof(False, "not_yet_covered", checkpoint)
    leaf = bytes(entry.leaf_hash)
    if merkle.leaf_hash(entry_bytes(entry)) != leaf:
        return EntryProof(False, "leaf", checkpoint)
    try:
        signed = note.parse_checkpoint(note.open_note(checkpoint.note, verifier_key()))
    except note.NoteError:
        return EntryProof(False, "signature", checkpoint)
    root = bytes(checkpoint.root_hash)
    if signed.size != checkpoint.size or signed.root_hash != root:
        return EntryProof(False, "signature", checkpoint)
    try:
        proof = tuple(inclusion_proof(entry.sequence, checkpoint.size))
    except LookupError:
        return EntryProof(False, "proof", checkpoint)
    if not merkle.verify_inclusion(leaf, entry.sequence, checkpoint.size, proof, root):
        return EntryProof(False, "proof", checkpoint, proof)
    return EntryProof(True, "", checkpoint, proof)
