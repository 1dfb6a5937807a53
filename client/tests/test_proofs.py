"""The client's own RFC 6962 inclusion check, against the shared RFC 6962 vectors."""

import base64
import json
from pathlib import Path

import pytest
from client_test_support import log_key, sign_checkpoint
from credit_gateway_client.proofs import (
    LogKey,
    ProofError,
    leaf_hash,
    node_hash,
    open_checkpoint,
    verify_inclusion,
)

VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "vectors" / "rfc6962"


def inclusion_vectors():
    folder = VECTORS / "inclusion"
    if not folder.is_dir():
        return []
    return sorted(folder.glob("*/*.json"))


@pytest.mark.skipif(not inclusion_vectors(), reason=f"RFC 6962 vectors not found at {VECTORS}")
@pytest.mark.parametrize("path", inclusion_vectors(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_rfc6962_inclusion_vectors(path):
    vector = json.loads(path.read_text())

    def raw(value):
        return base64.b64decode(value) if value else b""

    def check():
        verify_inclusion(
            vector["leafIdx"],
            vector["treeSize"],
            raw(vector["leafHash"]),
            [raw(node) for node in vector["proof"] or []],
            raw(vector["root"]),
        )

    if vector["wantErr"]:
        with pytest.raises(ProofError):
            check()
    else:
        check()


def test_the_hasher_matches_the_known_answers():
    assert leaf_hash(b"").hex().startswith("6e340b9cffb37a98")
    assert node_hash(b"N123", b"N456").hex().startswith("aa217fe888e47007")


def test_a_three_leaf_tree_proves_each_leaf():
    leaves = [leaf_hash(bytes([i])) for i in range(3)]
    root = node_hash(node_hash(leaves[0], leaves[1]), leaves[2])
    verify_inclusion(0, 3, leaves[0], [leaves[1], leaves[2]], root)
    verify_inclusion(2, 3, leaves[2], [node_hash(leaves[0], leaves[1])], root)
    with pytest.raises(ProofError):
        verify_inclusion(1, 3, leaves[1], [leaves[0]], root)


def test_a_checkpoint_signed_by_the_log_opens_and_a_witness_line_is_ignored():
    private, key_id, text = log_key()
    note = sign_checkpoint(private, key_id, "credit-gateway-audit", 5, bytes(32), cosigner=True)
    checkpoint = open_checkpoint(note, LogKey.parse(text))
    assert (checkpoint.size, checkpoint.root) == (5, bytes(32))


def test_a_tampered_or_foreign_checkpoint_is_refused():
    private, key_id, text = log_key()
    note = sign_checkpoint(private, key_id, "credit-gateway-audit", 5, bytes(32))
    with pytest.raises(ProofError):
        open_checkpoint(note.replace("\n5\n", "\n6\n"), LogKey.parse(text))
    _, _, other = log_key()
    with pytest.raises(ProofError):
        open_checkpoint(note, LogKey.parse(other))


@pytest.mark.parametrize("bad", ["", "a+b", "name+00000000+AAAA", "x+zz+!!"])
def test_a_malformed_log_key_is_refused(bad):
    with pytest.raises(ProofError):
        LogKey.parse(bad)


def test_a_required_witness_cosignature_is_checked():
    from client_test_support import cosign, witness_key
    from credit_gateway_client.proofs import WitnessKey

    private, key_id, text = log_key()
    note = sign_checkpoint(private, key_id, "credit-gateway-audit", 5, bytes(32))
    w_private, w_id, w_text = witness_key()
    witness = WitnessKey.parse(w_text)
    with pytest.raises(ProofError, match="not cosigned"):
        open_checkpoint(note, LogKey.parse(text), (witness,))
    cosigned = cosign(note, w_private, w_id)
    assert open_checkpoint(cosigned, LogKey.parse(text), (witness,)).size == 5
    # A cosignature whose timestamp was changed after signing does not verify.
    line = cosigned.splitlines()[-1]
    raw = base64.b64decode(line.split()[-1])
    tampered = raw[:4] + (7).to_bytes(8, "big") + raw[12:]
    forged = cosigned.replace(line.split()[-1], base64.b64encode(tampered).decode())
    with pytest.raises(ProofError, match="cosignature"):
        open_checkpoint(forged, LogKey.parse(text), (witness,))
    with pytest.raises(ProofError):
        WitnessKey.parse(text)  # a log key (type 0x01) is not a witness key
