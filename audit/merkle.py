"""RFC 6962 / RFC 9162 Merkle tree hashing, proofs and verification (Django-free).

Hashing (RFC 6962 §2.1):

* leaf hash  = SHA-256(0x00 || leaf data)
* node hash  = SHA-256(0x01 || left || right)
* empty tree = SHA-256("")

The tree over ``n`` leaves splits at the largest power of two smaller than ``n``. Every
hash a proof needs can be written as a combination of *perfect aligned subtrees*: the
subtree at ``(level, i)`` covers leaves ``[i * 2**level, (i + 1) * 2**level)``; level 0
is the leaf hash itself. A server that stores those nodes as they complete (see
:meth:`CompactRange.append`) can serve any proof with O(log n) lookups.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "MemoryTree",
    "SubtreeHash",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "range_hash",
    "root_from_leaf_hashes",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
_sha256 = hashlib.sha256
EMPTY_ROOT = _sha256(b"").digest()

#: ``subtree_hash(level, i)`` -> hash of the perfect subtree over leaves
#: ``[i * 2**level, (i + 1) * 2**level)``.
SubtreeHash = Callable[[int, int], bytes]


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data)."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return _sha256(b"\x01" + left + right).digest()


def _next_level(level: Sequence[bytes]) -> list[bytes]:
    """Parents of the complete pairs of ``level`` (an odd last node is left out)."""
    sha = _sha256
    it = iter(level)
    return [sha(b"\x01" + left + right).digest() for left, right in zip(it, it, strict=False)]


def _fold(parts: Sequence[bytes]) -> bytes:
    """Root of consecutive perfect subtrees given largest first (right-to-left fold)."""
    if not parts:
        return EMPTY_ROOT
    acc = parts[-1]
    for part in reversed(parts[:-1]):
        acc = _sha256(b"\x01" + part + acc).digest()
    return acc


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """Merkle tree hash (RFC 6962 MTH) of a list of leaf hashes, for any size."""
    level = hashes if isinstance(hashes, list) else list(hashes)
    if not level:
        return EMPTY_ROOT
    # Work level by level. An unpaired last node of a level is the root of a perfect
    # right-edge subtree: set it aside. What remains at the top is the largest perfect
    # subtree. Folding these right to left is exactly the RFC split at the largest
    # power of two smaller than n.
    carried: list[bytes] = []
    while len(level) > 1:
        if len(level) & 1:
            carried.append(level[-1])
        level = _next_level(level)
    parts = level + carried[::-1]  # largest subtree first
    return _fold(parts)


def _perfect_parts(size: int) -> list[tuple[int, int]]:
    """``(level, index)`` of the perfect subtrees covering ``[0, size)``, largest first."""
    parts = []
    start = 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            parts.append((level, start >> level))
            start += 1 << level
    return parts


def range_hash(start: int, end: int, subtree_hash: SubtreeHash) -> bytes:
    """MTH of leaves ``[start, end)``, as the fold of its perfect aligned parts.

    ``range_hash(0, size, source)`` is the root of the tree of ``size`` leaves, from
    O(log size) calls to ``subtree_hash``. ``start`` must be a multiple of the largest
    power of two <= ``end - start`` (true for 0 and for every range a proof needs), so
    that the RFC split of the range falls on stored subtrees; otherwise ValueError.
    """
    _check_int(start, "start")
    _check_int(end, "end")
    if end <= start:
        if end < start:
            raise ValueError(f"invalid range [{start}, {end})")
        return EMPTY_ROOT
    if start and start % (1 << ((end - start).bit_length() - 1)):
        raise ValueError(f"range [{start}, {end}) is not aligned to a subtree boundary")
    parts = []
    while start < end:
        width = 1 << ((end - start).bit_length() - 1)
        level = width.bit_length() - 1
        parts.append(subtree_hash(level, start >> level))
        start += width
    return _fold(parts)


def _check_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int")
    if value < 0:
        raise ValueError(f"{name} must not be negative")
    return value


def inclusion_proof(index: int, size: int, subtree_hash: SubtreeHash) -> list[bytes]:
    """RFC 6962 audit path for leaf ``index`` in the tree of the first ``size`` leaves.

    ``subtree_hash`` is called O(log size) times: once per proof element, except for
    at most one right-edge incomplete subtree, which is the fold of its perfect parts.
    """
    _check_int(index, "index")
    _check_int(size, "size")
    if index >= size:
        raise ValueError(f"index {index} is outside a tree of size {size}")
    siblings: list[bytes] = []  # top-down
    start, n, m = 0, size, index
    while n > 1:
        level = (n - 1).bit_length() - 1  # k: largest power of two < n
        k = 1 << level
        if m < k:
            if n == k << 1:  # the right half is a perfect subtree too
                siblings.append(subtree_hash(level, (start >> level) + 1))
            else:  # right edge of the tree: at most once per proof
                siblings.append(range_hash(start + k, start + n, subtree_hash))
            n = k
        else:
            siblings.append(subtree_hash(level, start >> level))
            start += k
            m -= k
            n -= k
    siblings.reverse()
    return siblings


def consistency_proof(old_size: int, new_size: int, subtree_hash: SubtreeHash) -> list[bytes]:
    """RFC 6962 consistency proof between the trees of ``old_size`` and ``new_size``.

    ``old_size == new_size`` gives the empty proof. ``old_size == 0`` is rejected: RFC
    9162 defines no proof for it (and :func:`verify_consistency` never accepts one).
    """
    _check_int(old_size, "old_size")
    _check_int(new_size, "new_size")
    if old_size == 0:
        raise ValueError("no consistency proof exists from an empty tree")
    if old_size > new_size:
        raise ValueError(f"old_size {old_size} is larger than new_size {new_size}")
    if old_size == new_size:
        return []
    siblings: list[bytes] = []  # top-down
    start, n, m = 0, new_size, old_size
    whole_old_subtree = True  # the old tree is a complete subtree of the new one so far
    while m != n:
        level = (n - 1).bit_length() - 1  # k: largest power of two < n
        k = 1 << level
        if m <= k:
            if n == k << 1:
                siblings.append(subtree_hash(level, (start >> level) + 1))
            else:
                siblings.append(range_hash(start + k, start + n, subtree_hash))
            n = k
        else:
            siblings.append(subtree_hash(level, start >> level))
            start += k
            m -= k
            n -= k
            whole_old_subtree = False
    siblings.reverse()
    if whole_old_subtree:
        return siblings
    # The loop only stops after a left step, so [start, start + n) is a perfect subtree.
    return [range_hash(start, start + n, subtree_hash), *siblings]


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes | bytearray | memoryview) and len(value) == HASH_SIZE


def _is_size(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2. Returns False (never raises) for any bad or malformed input."""
    try:
        if not (_is_size(index) and _is_size(size) and index < size):
            return False
        if not (_is_hash(leaf_hash) and _is_hash(root)):
            return False
        if isinstance(proof, str | bytes) or not all(_is_hash(p) for p in proof):
            return False
        fn, sn = index, size - 1
        r = bytes(leaf_hash)
        for p in proof:
            if sn == 0:
                return False
            if fn & 1 or fn == sn:
                r = _sha256(b"\x01" + p + r).digest()
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
            else:
                r = _sha256(b"\x01" + r + p).digest()
            fn >>= 1
            sn >>= 1
        return sn == 0 and r == bytes(root)
    except Exception:
        return False


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2. Returns False (never raises) for any bad or malformed input.

    * ``0 < old_size < new_size``: the RFC algorithm.
    * ``old_size == new_size > 0``: the proof must be empty and the roots equal.
    * ``old_size == 0``: always False. The RFC only defines the check for a non-empty
      old tree, and the reference vectors expect a failure for every size-0 case.
    """
    try:
        if not (_is_size(old_size) and _is_size(new_size)):
            return False
        if old_size == 0 or old_size > new_size:
            return False
        if isinstance(proof, str | bytes):
            return False
        proof = list(proof)
        if old_size == new_size:
            return not proof and isinstance(old_root, bytes | bytearray) and old_root == new_root
        if not proof or not (_is_hash(old_root) and _is_hash(new_root)):
            return False
        if not all(_is_hash(p) for p in proof):
            return False
        path = [bytes(p) for p in proof]
        if old_size & (old_size - 1) == 0:  # exact power of two
            path.insert(0, bytes(old_root))
        fn, sn = old_size - 1, new_size - 1
        while fn & 1:
            fn >>= 1
            sn >>= 1
        fr = sr = path[0]
        for c in path[1:]:
            if sn == 0:
                return False
            if fn & 1 or fn == sn:
                fr = _sha256(b"\x01" + c + fr).digest()
                sr = _sha256(b"\x01" + c + sr).digest()
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
            else:
                sr = _sha256(b"\x01" + sr + c).digest()
            fn >>= 1
            sn >>= 1
        return sn == 0 and fr == bytes(old_root) and sr == bytes(new_root)
    except Exception:
        return False


class CompactRange:
    """Frontier of a growing tree: roots of the perfect subtrees covering ``[0, size)``.

    Holds one hash per set bit of ``size`` (largest subtree first), so it fits in one
    database row. :meth:`append` reports every perfect subtree it completes, which a
    server can store to answer :func:`inclusion_proof` / :func:`consistency_proof`
    later without rereading leaves.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self) -> None:
        self._size = 0
        self._hashes: list[bytes] = []

    @classmethod
    def from_hashes(cls, size: int, hashes: Iterable[bytes]) -> CompactRange:
        _check_int(size, "size")
        hashes = [bytes(h) for h in hashes]
        if len(hashes) != size.bit_count():
            raise ValueError(f"a range of size {size} needs {size.bit_count()} hashes")
        if not all(len(h) == HASH_SIZE for h in hashes):
            raise ValueError("every hash must be 32 bytes")
        obj = cls()
        obj._size = size
        obj._hashes = hashes
        return obj

    @property
    def size(self) -> int:
        return self._size

    def to_hashes(self) -> list[bytes]:
        return list(self._hashes)

    def append(self, leaf_hash: bytes) -> list[tuple[int, int, bytes]]:
        """Add one leaf hash; return ``(level, index, hash)`` of each subtree completed.

        Only levels >= 1 are reported (the leaf itself is level 0, index ``size - 1``).
        Amortised O(1).
        """
        if len(leaf_hash) != HASH_SIZE:
            raise ValueError("leaf hash must be 32 bytes")
        completed: list[tuple[int, int, bytes]] = []
        hashes = self._hashes
        size = self._size
        cur = bytes(leaf_hash)
        level = 0
        while size >> level & 1:
            cur = _sha256(b"\x01" + hashes.pop() + cur).digest()
            level += 1
            completed.append((level, size >> level, cur))
        hashes.append(cur)
        self._size = size + 1
        return completed

    def extend(self, leaf_hashes: Iterable[bytes]) -> list[tuple[int, int, bytes]]:
        """Append many leaf hashes; return all subtrees completed, in completion order."""
        completed: list[tuple[int, int, bytes]] = []
        append = self.append
        for h in leaf_hashes:
            completed.extend(append(h))
        return completed

    def extend_fast(self, leaf_hashes: Sequence[bytes]) -> None:
        """Append many leaf hashes without reporting subtrees (verifiers need only roots).

        Aligned runs of 2**k leaves are hashed level by level with whole-list operations,
        then joined to the frontier as one perfect subtree, so the per-leaf Python work of
        :meth:`append` is avoided; the result is identical.
        """
        leaves = leaf_hashes if isinstance(leaf_hashes, list) else list(leaf_hashes)
        pos, n = 0, len(leaves)
        while pos < n:
            size = self._size
            # Largest k with 2**k <= remaining leaves and size aligned to 2**k.
            level = (n - pos).bit_length() - 1
            if size:
                level = min(level, (size & -size).bit_length() - 1)
            width = 1 << level
            nodes = leaves[pos : pos + width]
            while len(nodes) > 1:
                nodes = _next_level(nodes)
            self._join(level, nodes[0])
            pos += width

    def _join(self, level: int, subtree: bytes) -> None:
        # A perfect subtree of 2**level leaves, at a size aligned to it: merge upwards
        # exactly as ``append`` merges a leaf (level 0).
        hashes = self._hashes
        size = self._size
        cur = subtree
        height = level
        while size >> height & 1:
            cur = _sha256(b"\x01" + hashes.pop() + cur).digest()
            height += 1
        hashes.append(cur)
        self._size = size + (1 << level)

    def root(self) -> bytes:
        """Root of the tree of ``size`` leaves, O(log size)."""
        return _fold(self._hashes)

    def __repr__(self) -> str:
        return f"CompactRange(size={self._size})"


class MemoryTree:
    """All perfect subtree hashes of a tree, kept in memory, one list per level.

    Level ``k`` holds the ``size >> k`` complete subtrees of width ``2**k``. Built level
    by level from a list of leaf hashes; :meth:`append` keeps it up to date in amortised
    O(1).
    """

    __slots__ = ("_levels",)

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        level = list(leaf_hashes)
        levels = [level]
        while len(level) > 1:
            level = _next_level(level)
            levels.append(level)
        self._levels: list[list[bytes]] = levels

    @property
    def size(self) -> int:
        return len(self._levels[0])

    def __len__(self) -> int:
        return len(self._levels[0])

    def leaf_hashes(self) -> list[bytes]:
        return self._levels[0]

    def append(self, leaf_hash: bytes) -> None:
        levels = self._levels
        index = len(levels[0])
        levels[0].append(leaf_hash)
        cur = leaf_hash
        level = 0
        while index & 1:
            cur = _sha256(b"\x01" + levels[level][index - 1] + cur).digest()
            level += 1
            index >>= 1
            if level == len(levels):
                levels.append([])
            levels[level].append(cur)

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        for h in leaf_hashes:
            self.append(h)

    def subtree_hash(self, level: int, index: int) -> bytes:
        """Hash of the perfect subtree over ``[index * 2**level, (index + 1) * 2**level)``."""
        _check_int(level, "level")
        _check_int(index, "index")
        if level >= len(self._levels) or index >= len(self._levels[level]):
            raise ValueError(f"subtree ({level}, {index}) is not complete in this tree")
        return self._levels[level][index]

    def _size_arg(self, size: int | None) -> int:
        if size is None:
            return self.size
        _check_int(size, "size")
        if size > self.size:
            raise ValueError(f"size {size} is larger than the tree ({self.size})")
        return size

    def root(self, size: int | None = None) -> bytes:
        """Root of the tree of the first ``size`` leaves (default: all)."""
        size = self._size_arg(size)
        levels = self._levels
        return _fold([levels[lv][i] for lv, i in _perfect_parts(size)])

    def _node(self, level: int, index: int) -> bytes:
        # Unchecked: the proof generators only ask for complete subtrees of a valid size.
        return self._levels[level][index]

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return inclusion_proof(index, self._size_arg(size), self._node)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        return consistency_proof(old_size, self._size_arg(new_size), self._node)

    def __repr__(self) -> str:
        return f"MemoryTree(size={self.size})"
