"""Reads behind the tlog-tiles API: tiles and entry bundles from the database."""

from __future__ import annotations

from audit import tiles
from audit.models import AuditEntry, Checkpoint, TreeNode
from audit.services import entry_bytes


class TileNotAvailable(LookupError):
    """A tile inside the checkpointed tree whose hashes the database does not hold."""


def checkpointed_size() -> int | None:
    """The size of the latest signed checkpoint: tiles beyond it are not served."""
    return Checkpoint.objects.order_by("-size", "-id").values_list("size", flat=True).first()


def tile_body(tile: tiles.Tile) -> bytes:
    """The bytes of a hash tile or entry bundle whose hashes are all complete."""
    first, end = tile.first, tile.first + tile.width
    if tile.is_entries:
        entries = AuditEntry.objects.filter(sequence__gte=first, sequence__lt=end).order_by(
            "sequence"
        )
        data = [entry_bytes(entry) for entry in entries]
        body = tiles.entry_bundle(data)
    elif tile.tree_level == 0:
        data = list(
            AuditEntry.objects.filter(sequence__gte=first, sequence__lt=end)
            .order_by("sequence")
            .values_list("leaf_hash", flat=True)
        )
        body = tiles.hash_tile(data)
    else:
        level = tile.tree_level
        data = list(
            TreeNode.objects.filter(
                node_id__gte=TreeNode.key(level, first), node_id__lt=TreeNode.key(level, end)
            )
            .order_by("node_id")
            .values_list("hash", flat=True)
        )
        body = tiles.hash_tile(data)
    if len(data) != tile.width:
        raise TileNotAvailable(f"{tile.path()} holds {len(data)} of {tile.width} items")
    return body
