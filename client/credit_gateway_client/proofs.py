"""RFC 6962 inclusion proofs and C2SP signed checkpoints, checked with the log's key."""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

SIGNATURE_PREFIX = "\u2014 "  # an em dash and a space open each signature line
ED25519 = 0x01
COSIGNATURE_V1 = 0x04  # C2SP tlog-cosignature: a timestamped Ed25519 cosignature


class ProofError(ValueError):
    """A proof, checkpoint or key that does not verify or cannot be read."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: list[bytes]) -> bytes:
    """The root a proof leads to (RFC 9162 section 2.1.3.2), or ProofError."""
    if not 0 <= index < size:
        raise ProofError("index is outside the tree")
    if len(leaf) != 32 or any(len(node) != 32 for node in proof):
        raise ProofError("hashes are 32 bytes")
    fn, sn = index, size - 1
    result = leaf
    for node in proof:
        if sn == 0:
            raise ProofError("proof is too long")
        if fn & 1 or fn == sn:
            result = node_hash(node, result)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            result = node_hash(result, node)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("proof is too short")
    return result


def verify_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes) -> None:
    if root_from_inclusion_proof(index, size, leaf, proof) != root:
        raise ProofError("the proof does not lead to the checkpoint's root")


@dataclass(frozen=True)
class LogKey:
    name: str
    key_id: bytes
    public_key: Ed25519PublicKey
    algorithm = ED25519

    @classmethod
    def parse(cls, text: str) -> LogKey:
        """A verifier key ``<name>+<8 hex key id>+<base64(type || public key)>``."""
        try:
            name, key_id_hex, encoded = text.strip().split("+", 2)
            raw = base64.b64decode(encoded, validate=True)
            key_id = bytes.fromhex(key_id_hex)
        except (ValueError, binascii.Error):
            raise ProofError("not a verifier key <name>+<key id>+<key>") from None
        if len(raw) != 33 or raw[0] != cls.algorithm or len(key_id) != 4:
            raise ProofError(f"not a verifier key of type 0x{cls.algorithm:02x}")
        expected = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4]
        if expected != key_id:
            raise ProofError("the verifier key's id does not match its name and key")
        return cls(name, key_id, Ed25519PublicKey.from_public_bytes(raw[1:]))


class WitnessKey(LogKey):
    """A witness's cosigning key (vkey type 0x04)."""

    algorithm = COSIGNATURE_V1


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes


def _cosignature_verifies(witness: WitnessKey, raw: bytes, body: str) -> bool:
    if len(raw) != 4 + 8 + 64:
        return False
    timestamp = int.from_bytes(raw[4:12], "big")
    message = f"cosignature/v1\ntime {timestamp}\n{body}".encode()
    try:
        witness.public_key.verify(raw[12:], message)
    except InvalidSignature:
        return False
    return True


def open_checkpoint(note: str, key: LogKey, witnesses: tuple[WitnessKey, ...] = ()) -> Checkpoint:
    """The checkpoint of a signed note whose signature by KEY verifies, and that each of
    WITNESSES cosigned (C2SP tlog-cosignature v1), or ProofError."""
    split = note.rfind("\n\n")
    if split < 0:
        raise ProofError("the checkpoint has no signature")
    body, signatures = note[: split + 1], note[split + 2 :]
    verified = False
    cosigned: set[str] = set()
    for line in signatures.splitlines():
        if not line.startswith(SIGNATURE_PREFIX):
            raise ProofError("malformed signature line")
        name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (ValueError, binascii.Error):
            raise ProofError("malformed signature line") from None
        for witness in witnesses:
            if name == witness.name and raw[:4] == witness.key_id:
                if not _cosignature_verifies(witness, raw, body):
                    raise ProofError(f"the cosignature of {name} does not verify")
                cosigned.add(witness.name)
        if name != key.name or raw[:4] != key.key_id:
            continue  # a witness's cosignature, or another key
        try:
            key.public_key.verify(raw[4:], body.encode())
        except InvalidSignature:
            raise ProofError("the checkpoint's signature does not verify") from None
        verified = True
    if not verified:
        raise ProofError(f"the checkpoint is not signed by {key.name}")
    if missing := sorted({w.name for w in witnesses} - cosigned):
        raise ProofError(f"the checkpoint is not cosigned by {', '.join(missing)}")
    lines = body[:-1].split("\n")
    if len(lines) < 3 or not lines[1].isdigit():
        raise ProofError("malformed checkpoint")
    try:
        root = base64.b64decode(lines[2], validate=True)
    except (ValueError, binascii.Error):
        raise ProofError("malformed checkpoint root") from None
    if len(root) != 32:
        raise ProofError("malformed checkpoint root")
    return Checkpoint(lines[0], int(lines[1]), root)
