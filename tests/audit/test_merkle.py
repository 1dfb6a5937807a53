"""RFC 6962 / RFC 9162 Merkle tree: reference vectors, proof generation, properties."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.merkle import (
    EMPTY_ROOT,
    CompactRange,
    MemoryTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    range_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

# Apache-2.0 vectors from transparency-dev/merkle, carried here with their LICENSE.
VECTORS = Path(__file__).resolve().parent / "vectors" / "rfc6962"


def _vector_files(kind: str) -> list[Path]:
    files = sorted((VECTORS / kind).glob("**/*.json"))
    # A missing folder must fail loudly, not turn into an empty (skipped) parameter set.
    return files or [VECTORS / kind / "MISSING-VECTORS.json"]


def _id(path: Path) -> str:
    return str(path.relative_to(VECTORS)) if path.is_relative_to(VECTORS) else str(path)


def _b64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def _load(path: Path) -> dict:
    assert path.is_file(), f"RFC 6962 vectors not found at {VECTORS}"
    return json.loads(path.read_text())


# The leaves of the RFC 6962 reference test tree, from which the vectors' happy paths
# were computed (checked against the vectors' leaf hashes below).
REFERENCE_LEAVES = [
    bytes.fromhex(x)
    for x in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
REFERENCE_TREE = MemoryTree([leaf_hash(x) for x in REFERENCE_LEAVES])


def test_vectors_are_present():
    assert VECTORS.is_dir(), f"RFC 6962 vectors folder is missing: {VECTORS}"
    assert len(list(VECTORS.glob("inclusion/**/*.json"))) > 50
    assert len(list(VECTORS.glob("consistency/**/*.json"))) > 50


def test_hasher_known_answers():
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert root_from_leaf_hashes([]) == EMPTY_ROOT
    assert (
        leaf_hash(b"").hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )
    assert (
        leaf_hash(b"L123456").hex()
        == "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    )
    assert (
        node_hash(b"N123", b"N456").hex()
        == "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
    )


@pytest.mark.parametrize("path", _vector_files("inclusion"), ids=_id)
def test_inclusion_vector(path: Path):
    v = _load(path)
    ok = verify_inclusion(
        _b64(v["leafHash"]),
        v["leafIdx"],
        v["treeSize"],
        [_b64(p) for p in v["proof"] or []],
        _b64(v["root"]),
    )
    assert ok is (not v["wantErr"]), v["desc"]


@pytest.mark.parametrize("path", _vector_files("consistency"), ids=_id)
def test_consistency_vector(path: Path):
    v = _load(path)
    ok = verify_consistency(
        v["size1"],
        v["size2"],
        _b64(v["root1"]),
        _b64(v["root2"]),
        [_b64(p) for p in v["proof"] or []],
    )
    assert ok is (not v["wantErr"]), v["desc"]


def _happy(kind: str) -> list[Path]:
    return [p for p in _vector_files(kind) if p.name == "happy-path.json"] or [
        VECTORS / kind / "MISSING-HAPPY-PATH.json"
    ]


@pytest.mark.parametrize("path", _happy("inclusion"), ids=_id)
def test_inclusion_generation_reproduces_vector(path: Path):
    v = _load(path)
    index, size = v["leafIdx"], v["treeSize"]
    assert REFERENCE_TREE.leaf_hashes()[index] == _b64(v["leafHash"])
    assert REFERENCE_TREE.root(size) == _b64(v["root"])
    assert REFERENCE_TREE.inclusion_proof(index, size) == [_b64(p) for p in v["proof"] or []]


def test_single_entry_vector_generation():
    v = _load(VECTORS / "inclusion" / "single-entry" / "matching-root-and-leaf.json")
    tree = MemoryTree([_b64(v["leafHash"])])
    assert tree.root() == _b64(v["root"])
    assert tree.inclusion_proof(0, 1) == v["proof"] == []


@pytest.mark.parametrize("path", _happy("consistency"), ids=_id)
def test_consistency_generation_reproduces_vector(path: Path):
    v = _load(path)
    old, new = v["size1"], v["size2"]
    assert REFERENCE_TREE.root(old) == _b64(v["root1"])
    assert REFERENCE_TREE.root(new) == _b64(v["root2"])
    assert REFERENCE_TREE.consistency_proof(old, new) == [_b64(p) for p in v["proof"] or []]


# --- an independent, direct transcription of the RFC 6962 recursive definitions ---------


def _split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(leaves: list[bytes]) -> bytes:
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = _split(n)
    return node_hash(ref_mth(leaves[:k]), ref_mth(leaves[k:]))


def ref_path(m: int, leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return [*ref_path(m, leaves[:k]), ref_mth(leaves[k:])]
    return [*ref_path(m - k, leaves[k:]), ref_mth(leaves[:k])]


def ref_subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if whole else [ref_mth(leaves)]
    k = _split(n)
    if m <= k:
        return [*ref_subproof(m, leaves[:k], whole), ref_mth(leaves[k:])]
    return [*ref_subproof(m - k, leaves[k:], False), ref_mth(leaves[:k])]


def _leaves(n: int, salt: int = 0) -> list[bytes]:
    return [leaf_hash(b"%d:%d" % (salt, i)) for i in range(n)]


# --- properties ---------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 300), salt=st.integers(0, 1000))
def test_roots_agree_for_every_prefix(n: int, salt: int):
    leaves = _leaves(n, salt)
    tree = MemoryTree(leaves)
    appended = MemoryTree()
    compact = CompactRange()
    assert compact.root() == tree.root(0) == EMPTY_ROOT
    for size in range(1, n + 1):
        compact.append(leaves[size - 1])
        appended.append(leaves[size - 1])
        expected = root_from_leaf_hashes(leaves[:size])
        assert compact.root() == expected
        assert tree.root(size) == expected
        assert appended.root() == expected
    assert root_from_leaf_hashes(leaves) == ref_mth(leaves) == tree.root()


@settings(max_examples=60, deadline=None)
@given(data=st.data(), n=st.integers(1, 200))
def test_inclusion_proofs(data: st.DataObject, n: int):
    leaves = _leaves(n)
    tree = MemoryTree(leaves)
    size = data.draw(st.integers(1, n), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = tree.inclusion_proof(index, size)
    assert proof == ref_path(index, leaves[:size])
    root = tree.root(size)
    assert verify_inclusion(leaves[index], index, size, proof, root)
    # Any change makes it fail. (A proof can be valid for several tree sizes with the same
    # path shape, so the size is changed across a power of two.)
    assert not verify_inclusion(leaves[index], index, 2 * size + 1, proof, root)
    assert not verify_inclusion(leaf_hash(b"other"), index, size, proof, root)
    if size > 1:
        assert not verify_inclusion(leaves[index], (index + 1) % size, size, proof, root)
        pos = data.draw(st.integers(0, len(proof) - 1), label="flip")
        bad = list(proof)
        bad[pos] = bytes([bad[pos][0] ^ 1]) + bad[pos][1:]
        assert not verify_inclusion(leaves[index], index, size, bad, root)
        assert not verify_inclusion(leaves[index], index, size, proof[:-1], root)
    assert not verify_inclusion(leaves[index], index, size, [*proof, root], root)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), n=st.integers(1, 200))
def test_consistency_proofs(data: st.DataObject, n: int):
    leaves = _leaves(n, 7)
    tree = MemoryTree(leaves)
    new = data.draw(st.integers(1, n), label="new")
    old = data.draw(st.integers(1, new), label="old")
    proof = tree.consistency_proof(old, new)
    assert proof == ref_subproof(old, leaves[:new], True)
    old_root, new_root = tree.root(old), tree.root(new)
    assert verify_consistency(old, new, old_root, new_root, proof)
    assert not verify_consistency(old, new, leaf_hash(b"x"), new_root, proof)
    if old < new:
        assert not verify_consistency(old, new, old_root, old_root, proof)
        assert not verify_consistency(old, new, old_root, new_root, proof[:-1])
        assert not verify_consistency(old, new, old_root, new_root, [*proof, new_root])
        pos = data.draw(st.integers(0, len(proof) - 1), label="flip")
        bad = list(proof)
        bad[pos] = bad[pos][:-1] + bytes([bad[pos][-1] ^ 0x80])
        assert not verify_consistency(old, new, old_root, new_root, bad)
        if new + 1 <= n:
            assert not verify_consistency(old, new + 1, old_root, tree.root(new + 1), proof)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 130), split=st.integers(0, 130))
def test_compact_range_nodes_and_resume(n: int, split: int):
    leaves = _leaves(n, 3)
    tree = MemoryTree(leaves)
    split = min(split, n)
    first = CompactRange()
    completed = first.extend(leaves[:split])
    # Persist and resume from one "row".
    resumed = CompactRange.from_hashes(first.size, first.to_hashes())
    completed += resumed.extend(leaves[split:])
    assert resumed.size == n
    assert resumed.root() == tree.root()
    # Every perfect subtree of level >= 1 is reported exactly once, with the right hash.
    expected = {
        (level, i)
        for level in range(1, n.bit_length())
        for i in range(n >> level)  # complete subtrees only
    }
    assert len(completed) == len(expected)
    assert {(level, i) for level, i, _ in completed} == expected
    for level, i, h in completed:
        assert h == tree.subtree_hash(level, i)
    # Proofs served from the stored nodes alone.
    nodes = {(level, i): h for level, i, h in completed}
    nodes.update({(0, i): h for i, h in enumerate(leaves)})
    for index in range(0, n, 7):
        proof = inclusion_proof(index, n, lambda level, i: nodes[(level, i)])
        assert verify_inclusion(leaves[index], index, n, proof, tree.root())


class CountingSource:
    """A node source for a huge virtual tree that records each request."""

    def __init__(self, size: int):
        self.size = size
        self.calls = 0

    def __call__(self, level: int, index: int) -> bytes:
        self.calls += 1
        assert level >= 0 and index >= 0
        assert (index + 1) << level <= self.size, "asked for an incomplete subtree"
        return hashlib.sha256(b"%d/%d" % (level, index)).digest()


@settings(max_examples=200, deadline=None)
@given(data=st.data(), size=st.integers(1, 1 << 48))
def test_proofs_use_logarithmic_node_lookups(data: st.DataObject, size: int):
    bound = 2 * size.bit_length() + 2
    index = data.draw(st.integers(0, size - 1), label="index")
    source = CountingSource(size)
    proof = inclusion_proof(index, size, source)
    assert len(proof) <= size.bit_length()
    assert source.calls <= bound
    old = data.draw(st.integers(1, size), label="old")
    source = CountingSource(size)
    proof = consistency_proof(old, size, source)
    assert len(proof) <= size.bit_length() + 1
    assert source.calls <= bound


def test_lookup_counts_for_a_large_real_tree():
    n = 100_003
    tree = MemoryTree(_leaves(n, 11))
    calls = 0

    def source(level: int, i: int) -> bytes:
        nonlocal calls
        calls += 1
        return tree.subtree_hash(level, i)

    for index in (0, 1, n // 2, n - 2, n - 1):
        calls = 0
        proof = inclusion_proof(index, n, source)
        assert verify_inclusion(tree.leaf_hashes()[index], index, n, proof, tree.root())
        assert calls <= 2 * n.bit_length()
    for old in (1, 2, 1000, 65536, n - 1):
        calls = 0
        proof = consistency_proof(old, n, source)
        assert verify_consistency(old, n, tree.root(old), tree.root(n), proof)
        assert calls <= 2 * n.bit_length()


def test_range_hash_from_stored_subtrees():
    leaves = _leaves(77, 9)
    tree = MemoryTree(leaves)
    for size in range(78):
        assert range_hash(0, size, tree.subtree_hash) == tree.root(size)
    # Aligned ranges inside the tree are trees of their own.
    assert range_hash(64, 77, tree.subtree_hash) == root_from_leaf_hashes(leaves[64:77])
    assert range_hash(32, 48, tree.subtree_hash) == root_from_leaf_hashes(leaves[32:48])
    assert range_hash(48, 52, tree.subtree_hash) == root_from_leaf_hashes(leaves[48:52])
    for start, end in ((3, 7), (16, 48), (-1, 4), (5, 4)):
        with pytest.raises(ValueError):
            range_hash(start, end, tree.subtree_hash)


def test_memory_tree_append_matches_bulk_build():
    leaves = _leaves(1000, 5)
    bulk = MemoryTree(leaves)
    grown = MemoryTree(leaves[:1])
    grown.extend(leaves[1:])
    assert len(grown) == grown.size == 1000
    for level in range(10):
        for i in range(1000 >> level):
            assert grown.subtree_hash(level, i) == bulk.subtree_hash(level, i)


@pytest.mark.parametrize(
    ("call", "args"),
    [
        (inclusion_proof, (0, 0)),
        (inclusion_proof, (5, 5)),
        (inclusion_proof, (-1, 5)),
        (inclusion_proof, (0, -1)),
        (consistency_proof, (0, 5)),
        (consistency_proof, (6, 5)),
        (consistency_proof, (-1, 5)),
        (consistency_proof, (1, -1)),
    ],
)
def test_proof_generation_rejects_out_of_range(call, args):
    with pytest.raises(ValueError):
        call(*args, CountingSource(1 << 20))


def test_memory_tree_rejects_out_of_range():
    tree = MemoryTree(_leaves(10))
    for bad in (
        lambda: tree.root(11),
        lambda: tree.inclusion_proof(10),
        lambda: tree.inclusion_proof(3, 11),
        lambda: tree.consistency_proof(3, 11),
        lambda: tree.consistency_proof(0, 10),
        lambda: tree.subtree_hash(4, 0),
        lambda: tree.subtree_hash(1, 5),
        lambda: tree.subtree_hash(-1, 0),
    ):
        with pytest.raises(ValueError):
            bad()
    assert tree.consistency_proof(10) == []
    assert tree.consistency_proof(4, 4) == []


def test_compact_range_rejects_bad_state():
    with pytest.raises(ValueError):
        CompactRange.from_hashes(3, [bytes(32)])
    with pytest.raises(ValueError):
        CompactRange.from_hashes(1, [b"short"])
    with pytest.raises(ValueError):
        CompactRange().append(b"short")
    assert CompactRange.from_hashes(0, []).root() == EMPTY_ROOT


junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(1 << 70), 1 << 70),
    st.text(max_size=5),
    st.binary(max_size=40),
    st.lists(st.one_of(st.binary(max_size=40), st.none(), st.integers()), max_size=4),
    st.floats(allow_nan=True),
)


@settings(max_examples=300, deadline=None)
@given(a=junk, b=junk, c=junk, d=junk, e=junk)
def test_verifiers_never_raise_on_garbage(a, b, c, d, e):
    assert verify_inclusion(a, b, c, d, e) in (True, False)
    assert verify_consistency(a, b, c, d, e) in (True, False)


def test_verifiers_reject_wrong_types_that_look_right():
    tree = MemoryTree(_leaves(5))
    proof = tree.inclusion_proof(1)
    leaf, root = tree.leaf_hashes()[1], tree.root()
    assert verify_inclusion(leaf, 1, 5, proof, root)
    assert not verify_inclusion(leaf, True, 5, proof, root)
    assert not verify_inclusion(leaf, 1.0, 5, proof, root)
    assert not verify_inclusion(leaf, 1, 5, b"".join(proof), root)
    assert not verify_inclusion(leaf.hex(), 1, 5, proof, root)
    cproof = tree.consistency_proof(3)
    assert verify_consistency(3, 5, tree.root(3), root, cproof)
    assert not verify_consistency(3, 5, tree.root(3), root, b"".join(cproof))
    assert not verify_consistency(3, 5, tree.root(3), root, iter([None]))
    assert not verify_consistency(0, 5, EMPTY_ROOT, root, [])
    assert not verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
