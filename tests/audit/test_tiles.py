"""The C2SP tlog-tiles read API, checked against an in-memory tree built independently."""

from __future__ import annotations

import pytest
from django.db import transaction
from hypothesis import given
from hypothesis import strategies as st

from audit import merkle, note, tiles
from audit.actions import ActorKind, AuditAction
from audit.keys import verifier_key
from audit.models import AuditEntry
from audit.services import AuditRecord, audit_append, entry_bytes, integrate_all, integrate_pending
from tests.conftest import body_json

# --- paths ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("index", "encoded"),
    [
        (0, "000"),
        (7, "007"),
        (999, "999"),
        (1000, "x001/000"),
        (1234067, "x001/x234/067"),  # the spec's own example
        (10**9, "x001/x000/x000/000"),
    ],
)
def test_indexes_encode_as_in_the_spec(index, encoded):
    assert tiles.encode_index(index) == encoded
    assert tiles.parse_tile_path(f"0/{encoded}").index == index


def test_tile_paths_name_level_index_and_width():
    assert tiles.Tile(0, 1234067).path() == "tile/0/x001/x234/067"
    assert tiles.Tile(1, 5, 8).path() == "tile/1/005.p/8"
    assert tiles.Tile(None, 2, 88).path() == "tile/entries/002.p/88"
    assert tiles.parse_tile_path("entries/x001/x234/067.p/255") == tiles.Tile(None, 1234067, 255)
    assert tiles.parse_tile_path("63/000") == tiles.Tile(63, 0)


@given(
    st.one_of(st.none(), st.integers(0, 63)),
    st.integers(0, 2**64),
    st.integers(1, 256),
)
def test_every_tile_path_parses_back_to_its_tile(level, index, width):
    tile = tiles.Tile(level, index, width)
    assert tiles.parse_tile_path(tile.path().removeprefix("tile/")) == tile


@pytest.mark.parametrize(
    "path",
    [
        "",
        "0",
        "0/",
        "64/000",  # level out of range
        "01/000",  # leading zero in the level
        "-1/000",
        "data/000",
        "0/1",  # not three digits
        "0/0000",
        "0/x001",  # the last element has no x
        "0/001/002",  # an upper element without its x
        "0/x000/001",  # not canonical: 1 is 001
        "0/00a",
        "0/٠٠٠",  # digits, but not ASCII
        "0/000.p/0",
        "0/000.p/256",
        "0/000.p/08",
        "0/000.p/",
        "0/000.p",
        "0/000.q/5",
        "0/000/",
        "entries",
        "entries/000.p/1/2",
        "0/x001/x001/x001/x001/x001/x001/x001/x001/001",  # more elements than any index needs
    ],
)
def test_malformed_paths_are_refused(path):
    with pytest.raises(tiles.TilePathError):
        tiles.parse_tile_path(path)


def test_an_entry_bundle_is_uint16_length_prefixed():
    assert tiles.entry_bundle([b"ab", b"", b"x" * 300]) == (
        b"\x00\x02ab" + b"\x00\x00" + b"\x01\x2c" + b"x" * 300
    )
    with pytest.raises(ValueError, match="uint16"):
        tiles.entry_bundle([b"x" * 65536])


# --- served from the database -----------------------------------------------------------------


def append(count: int) -> None:
    records = [
        AuditRecord(
            action=AuditAction.ADMIN_LOGIN,
            actor_kind=ActorKind.ADMIN,
            actor_id="admin",
            details={"n": i},
        )
        for i in range(count)
    ]
    with transaction.atomic():
        audit_append(records)


def split_bundle(data: bytes) -> list[bytes]:
    entries, position = [], 0
    while position < len(data):
        length = int.from_bytes(data[position : position + 2], "big")
        entries.append(data[position + 2 : position + 2 + length])
        position += 2 + length
    return entries


def hashes(data: bytes) -> list[bytes]:
    assert len(data) % 32 == 0
    return [data[i : i + 32] for i in range(0, len(data), 32)]


@pytest.fixture
def tree(db):
    """600 entries under a checkpoint, 100 more after it, and the same tree rebuilt in memory."""
    append(600)
    checkpoint = integrate_all()
    append(100)
    integrate_pending()  # sequenced, but under no checkpoint yet
    entries = AuditEntry.objects.filter(sequence__lt=600).order_by("sequence")
    memory = merkle.MemoryTree(merkle.leaf_hash(entry_bytes(entry)) for entry in entries)
    assert memory.root() == bytes(checkpoint.root_hash)
    return memory


@pytest.mark.django_db
class TestTileAPI:
    def test_full_level_0_tiles_are_the_leaf_hashes(self, client, tree):
        for index in (0, 1):
            response = client.get(f"/tile/0/00{index}")
            assert response.status_code == 200
            assert response["Content-Type"] == "application/octet-stream"
            assert response["Cache-Control"] == "public, max-age=31536000, immutable"
            assert hashes(response.content) == tree.leaf_hashes()[index * 256 : (index + 1) * 256]

    def test_the_partial_tile_of_the_checkpoint_is_served_briefly_cacheable(self, client, tree):
        response = client.get("/tile/0/002.p/88")
        assert response.status_code == 200
        assert "immutable" not in response["Cache-Control"]
        assert hashes(response.content) == tree.leaf_hashes()[512:600]
        assert hashes(client.get("/tile/0/002.p/3").content) == tree.leaf_hashes()[512:515]

    def test_level_1_tiles_are_hashes_of_whole_level_0_tiles(self, client, tree):
        response = client.get("/tile/1/000.p/2")
        assert response.status_code == 200
        level_1 = hashes(response.content)
        assert level_1 == [tree.subtree_hash(8, 0), tree.subtree_hash(8, 1)]
        for index, node in enumerate(level_1):
            level_0 = hashes(client.get(f"/tile/0/00{index}").content)
            assert merkle.root_from_leaf_hashes(level_0) == node

    def test_the_tiles_rebuild_the_checkpoint_root(self, client, tree):
        leaves = []
        for path in ("/tile/0/000", "/tile/0/001", "/tile/0/002.p/88"):
            leaves += hashes(client.get(path).content)
        checkpoint = note.parse_checkpoint(
            note.open_note(client.get("/checkpoint").content.decode(), verifier_key())
        )
        assert merkle.root_from_leaf_hashes(leaves) == checkpoint.root_hash
        assert checkpoint.size == 600

    def test_entry_bundles_hash_to_the_level_0_tiles(self, client, tree):
        for path, first in (("000", 0), ("001", 256), ("002.p/88", 512)):
            response = client.get(f"/tile/entries/{path}")
            assert response.status_code == 200
            leaves = hashes(client.get(f"/tile/0/{path}").content)
            entries = split_bundle(response.content)
            assert [merkle.leaf_hash(e) for e in entries] == leaves
            assert leaves == tree.leaf_hashes()[first : first + len(leaves)]

    @pytest.mark.parametrize(
        "path",
        [
            "0/002",  # full, but the checkpoint holds only 600 entries
            "0/002.p/89",
            "0/003.p/1",
            "entries/002",
            "entries/002.p/89",
            "1/000",
            "1/000.p/3",
            "2/000.p/1",
            "63/000",
            "0/x999/x999/x999/x999/x999/x999/999",
        ],
    )
    def test_tiles_beyond_the_checkpoint_are_404(self, client, tree, path):
        response = client.get(f"/tile/{path}")
        assert response.status_code == 404
        assert body_json(response)["error"] == "not_found"

    @pytest.mark.parametrize("path", ["0/1", "01/000", "0/x000/001", "0/000.p/256", "x/000"])
    def test_malformed_tile_paths_are_400(self, client, tree, path):
        response = client.get(f"/tile/{path}")
        assert response.status_code == 400
        payload = body_json(response)
        assert payload["error"] == "invalid" and payload["message"]

    def test_posting_to_a_tile_is_not_allowed(self, client, tree):
        response = client.post("/tile/0/000")
        assert (response.status_code, body_json(response)["error"]) == (405, "method_not_allowed")


@pytest.mark.django_db
def test_before_any_checkpoint_there_is_nothing_to_serve(client):
    append(300)
    for path in ("/checkpoint", "/tile/0/000", "/tile/entries/000.p/1"):
        response = client.get(path)
        assert (response.status_code, body_json(response)["error"]) == (404, "not_found")


@pytest.mark.django_db
def test_the_checkpoint_is_the_latest_signed_note(client):
    append(3)
    integrate_all()
    append(2)
    latest = integrate_all()
    response = client.get("/checkpoint")
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=1"
    assert response.content.decode() == latest.note
