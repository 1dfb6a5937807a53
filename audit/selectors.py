"""Reads of the audit log."""

from __future__ import annotations

from collections.abc import Iterator

from audit import merkle
from audit.models import AuditEntry, Checkpoint, LogHead, TreeNode, VerificationRun
from audit.services import entry_bytes


def log_size() -> int:
    return LogHead.objects.values_list("size", flat=True).get(pk=1)


def entries_in_order(chunk_size: int = 5000) -> Iterator[AuditEntry]:
    return AuditEntry.objects.order_by("sequence").iterator(chunk_size=chunk_size)


def canonical_entries() -> Iterator[tuple[AuditEntry, bytes]]:
    for entry in entries_in_order():
        yield entry, entry_bytes(entry)


def checkpoints_oldest_first() -> list[Checkpoint]:
    return list(Checkpoint.objects.order_by("size", "id"))


def latest_checkpoint() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-size", "-id").first()


def latest_verification() -> VerificationRun | None:
    return VerificationRun.objects.order_by("-id").first()


def entries_for_subject(subject: str, actions=None):
    queryset = AuditEntry.objects.filter(subject=subject)
    if actions is not None:
        queryset = queryset.filter(action__in=list(actions))
    return queryset.order_by("-sequence")


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
