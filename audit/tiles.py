"""C2SP tlog-tiles paths and tile bodies (Django-free).

A tile at level ``L`` and index ``N`` holds the hashes of the perfect subtrees of height
``8 * L`` numbered ``N * 256 .. N * 256 + 255``: leaf hashes at level 0, stored tree
nodes above. A partial tile (``.p/<W>``) holds the first ``W`` (1..255) of them. An
entry bundle (``tile/entries/<N>``) holds the entries behind the level-0 tile ``N``,
each as a big-endian uint16 length and its bytes. ``<N>`` is written in zero-padded
three-digit path elements, all but the last prefixed with ``x``: 1234067 is
``x001/x234/067``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "MAX_LEVEL",
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "Tile",
    "TilePathError",
    "encode_index",
    "entry_bundle",
    "hash_tile",
    "parse_tile_path",
]

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
MAX_LEVEL = 63
_HASH_SIZE = 32
_MAX_ENTRY = 0xFFFF
# The largest tile index a path may name (an index past 2**64 leaves is never in range).
_MAX_ELEMENTS = 8

_LEVEL = re.compile(r"(?:0|[1-9][0-9]?)\Z")
_WIDTH = re.compile(r"[1-9][0-9]{0,2}\Z")
_ELEMENT = re.compile(r"[0-9]{3}\Z")


class TilePathError(ValueError):
    """A tile path that does not follow the tlog-tiles encoding."""


@dataclass(frozen=True, slots=True)
class Tile:
    """A hash tile (``level`` 0..63) or an entry bundle (``level`` None)."""

    level: int | None
    index: int
    width: int = TILE_WIDTH

    @property
    def is_entries(self) -> bool:
        return self.level is None

    @property
    def is_partial(self) -> bool:
        return self.width < TILE_WIDTH

    @property
    def tree_level(self) -> int:
        """The Merkle level of the tile's hashes (0 for leaf hashes and entry bundles)."""
        return 0 if self.level is None else TILE_HEIGHT * self.level

    @property
    def first(self) -> int:
        """Index, at ``tree_level``, of the tile's first hash."""
        return self.index * TILE_WIDTH

    def entries_needed(self) -> int:
        """The tree size from which every hash of the tile is complete."""
        return (self.first + self.width) << self.tree_level

    def path(self) -> str:
        level = "entries" if self.level is None else str(self.level)
        suffix = f".p/{self.width}" if self.is_partial else ""
        return f"tile/{level}/{encode_index(self.index)}{suffix}"


def encode_index(index: int) -> str:
    """``x001/x234/067`` for 1234067."""
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise ValueError("a tile index is a non-negative integer")
    elements = [f"{index % 1000:03d}"]
    index //= 1000
    while index:
        elements.append(f"x{index % 1000:03d}")
        index //= 1000
    return "/".join(reversed(elements))


def parse_tile_path(path: str) -> Tile:
    """Parse ``<L>/<N>[.p/<W>]`` or ``entries/<N>[.p/<W>]`` (the part after ``tile/``).

    Only the canonical encoding is accepted, so each tile has exactly one URL to cache.
    """
    if not isinstance(path, str) or not path.isascii():
        raise TilePathError("a tile path is ASCII")
    parts = path.split("/")
    if len(parts) < 2:
        raise TilePathError("a tile path is <level>/<index>")
    head, *elements = parts
    if head == "entries":
        level = None
    elif _LEVEL.match(head) and int(head) <= MAX_LEVEL:
        level = int(head)
    else:
        raise TilePathError(f"the level must be 0..{MAX_LEVEL} or 'entries'")
    width = TILE_WIDTH
    if len(elements) >= 2 and elements[-2].endswith(".p"):
        if not _WIDTH.match(elements[-1]) or int(elements[-1]) >= TILE_WIDTH:
            raise TilePathError(f"a partial tile's width must be 1..{TILE_WIDTH - 1}")
        width = int(elements[-1])
        elements = [*elements[:-2], elements[-2][:-2]]
    if not elements or len(elements) > _MAX_ELEMENTS:
        raise TilePathError("the tile index has too many path elements")
    *upper, last = elements
    if not all(e.startswith("x") and _ELEMENT.match(e[1:]) for e in upper):
        raise TilePathError("every index element but the last is x followed by three digits")
    if not _ELEMENT.match(last):
        raise TilePathError("the last index element is three digits")
    index = 0
    for element in [*(e[1:] for e in upper), last]:
        index = index * 1000 + int(element)
    if encode_index(index) != "/".join(elements):
        raise TilePathError("the tile index is not in its canonical form")
    return Tile(level, index, width)


def hash_tile(hashes: Iterable[bytes]) -> bytes:
    """The body of a hash tile: its 32-byte hashes, concatenated."""
    items = [bytes(h) for h in hashes]
    if any(len(h) != _HASH_SIZE for h in items):
        raise ValueError("tile hashes are 32 bytes")
    return b"".join(items)


def entry_bundle(entries: Iterable[bytes]) -> bytes:
    """The body of an entry bundle: each entry as a big-endian uint16 length and its bytes."""
    parts = []
    for data in entries:
        if len(data) > _MAX_ENTRY:
            raise ValueError(f"an entry of {len(data)} bytes does not fit a uint16 length")
        parts.append(len(data).to_bytes(2, "big"))
        parts.append(bytes(data))
    return b"".join(parts)
