"""C2SP signed notes and transparency-log checkpoints with Ed25519 (Django-free).

A checkpoint body is::

    <origin>\\n
    <tree size, decimal>\\n
    <root hash, standard base64>\\n
    [extension lines]\\n

A signed note is the body, one empty line, then one line per signature::

    — <key name> <base64(4-byte key id || 64-byte Ed25519 signature)>\\n

The signature is over the body bytes. For Ed25519 the key id is the first four bytes of
SHA-256(key name || 0x0A || 0x01 || 32-byte public key), and a verifier key is written
``<name>+<8 hex digits key id>+<base64(0x01 || public key)>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

__all__ = [
    "ALG_ED25519",
    "Checkpoint",
    "NoteError",
    "NoteFormatError",
    "NoteSignatureError",
    "UnknownKeyError",
    "Verifier",
    "checkpoint_body",
    "key_id",
    "load_private_key_pem",
    "load_private_key_seed",
    "load_public_key_pem",
    "open_note",
    "parse_checkpoint",
    "parse_verifier_key",
    "private_key_seed",
    "public_key_bytes",
    "sign_note",
    "verifier_key",
]

ALG_ED25519 = 0x01
SIG_PREFIX = "— "  # U+2014 EM DASH, then a space
MAX_SIGNATURES = 100
_ED25519_SIG_SIZE = 64
_KEY_SIZE = 32
_HASH_SIZE = 32

# ASCII control characters other than newline are not allowed in notes.
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")
_DECIMAL = re.compile(r"(?:0|[1-9][0-9]*)\Z")
_HEX8 = re.compile(r"[0-9a-f]{8}\Z")


class NoteError(ValueError):
    """A note, checkpoint or key that cannot be accepted."""


class NoteFormatError(NoteError):
    """Malformed note, checkpoint, key name or key string."""


class NoteSignatureError(NoteError):
    """A signature by the expected key is present but does not verify."""


class UnknownKeyError(NoteError):
    """The note carries no signature by the expected key."""


# --- keys -------------------------------------------------------------------------------


def _check_key_name(name: str) -> str:
    if not isinstance(name, str) or not name:
        raise NoteFormatError("key name must be a non-empty string")
    if "+" in name or any(ch.isspace() for ch in name) or _CONTROL.search(name):
        raise NoteFormatError(f"key name {name!r} must not contain whitespace or '+'")
    return name


def public_key_bytes(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """Raw 32-byte Ed25519 public key of a private or public key object."""
    if isinstance(key, Ed25519PrivateKey):
        key = key.public_key()
    if not isinstance(key, Ed25519PublicKey):
        raise TypeError("expected an Ed25519 key")
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def private_key_seed(key: Ed25519PrivateKey) -> bytes:
    """Raw 32-byte seed of an Ed25519 private key."""
    return key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )


def load_private_key_pem(data: bytes | str, password: bytes | None = None) -> Ed25519PrivateKey:
    """Ed25519 private key from PEM (PKCS#8) bytes."""
    if isinstance(data, str):
        data = data.encode("ascii")
    try:
        key = serialization.load_pem_private_key(data, password=password)
    except (ValueError, TypeError) as exc:
        raise NoteFormatError(f"cannot load PEM private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise NoteFormatError("PEM private key is not an Ed25519 key")
    return key


def load_private_key_seed(seed_b64: bytes | str) -> Ed25519PrivateKey:
    """Ed25519 private key from the standard base64 of its raw 32-byte seed."""
    try:
        seed = base64.b64decode(seed_b64.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise NoteFormatError("private key seed is not valid base64") from exc
    if len(seed) != _KEY_SIZE:
        raise NoteFormatError("private key seed must be 32 bytes")
    return Ed25519PrivateKey.from_private_bytes(seed)


def load_public_key_pem(data: bytes | str) -> bytes:
    """Raw 32-byte Ed25519 public key from a PEM (SubjectPublicKeyInfo) file's bytes."""
    if isinstance(data, str):
        data = data.encode("ascii")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise NoteFormatError(f"cannot load PEM public key: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise NoteFormatError("PEM public key is not an Ed25519 key")
    return public_key_bytes(key)


def key_id(key_name: str, public_key: bytes) -> bytes:
    """4-byte key id: SHA-256(name || 0x0A || 0x01 || public key)[:4]."""
    _check_key_name(key_name)
    if len(public_key) != _KEY_SIZE:
        raise NoteFormatError("Ed25519 public key must be 32 bytes")
    digest = hashlib.sha256(
        key_name.encode("utf-8") + b"\n" + bytes((ALG_ED25519,)) + bytes(public_key)
    ).digest()
    return digest[:4]


@dataclass(frozen=True, slots=True)
class Verifier:
    """A parsed verifier key."""

    name: str
    key_id: bytes
    public_key: bytes
    _key: Ed25519PublicKey = field(repr=False, compare=False)

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            self._key.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def __str__(self) -> str:
        return verifier_key(self.name, self.public_key)


def verifier_key(key_name: str, public_key: bytes | Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """``<name>+<hex key id>+<base64(0x01 || public key)>``."""
    if not isinstance(public_key, bytes | bytearray):
        public_key = public_key_bytes(public_key)
    kid = key_id(key_name, bytes(public_key))
    encoded = base64.b64encode(bytes((ALG_ED25519,)) + bytes(public_key)).decode("ascii")
    return f"{key_name}+{kid.hex()}+{encoded}"


def parse_verifier_key(text: str) -> Verifier:
    """Parse and check a verifier key string (the key id must match name and key)."""
    if not isinstance(text, str):
        raise NoteFormatError("verifier key must be a string")
    parts = text.split("+", 2)
    if len(parts) != 3:
        raise NoteFormatError("verifier key must be <name>+<key id>+<key>")
    name, hex_id, encoded = parts
    _check_key_name(name)
    if not _HEX8.match(hex_id):
        raise NoteFormatError("verifier key id must be 8 lowercase hex digits")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise NoteFormatError("verifier key is not valid base64") from exc
    if len(raw) != 1 + _KEY_SIZE or raw[0] != ALG_ED25519:
        raise NoteFormatError("verifier key is not an Ed25519 key")
    public = raw[1:]
    kid = key_id(name, public)
    if kid.hex() != hex_id:
        raise NoteFormatError("verifier key id does not match its name and key")
    return Verifier(name, kid, public, Ed25519PublicKey.from_public_bytes(public))


# --- notes ------------------------------------------------------------------------------


def _check_text(text: str, what: str) -> None:
    if not isinstance(text, str):
        raise NoteFormatError(f"{what} must be a string")
    if _CONTROL.search(text):
        raise NoteFormatError(f"{what} contains control characters")


def _check_body(body: str) -> None:
    _check_text(body, "note body")
    if not body.endswith("\n"):
        raise NoteFormatError("note body must end with a newline")
    if "\n\n" in body or body.startswith("\n"):
        raise NoteFormatError("note body must not contain empty lines")


def sign_note(body: str, key_name: str, private_key: Ed25519PrivateKey) -> str:
    """Sign ``body`` and return the signed note (body, empty line, signature line)."""
    _check_body(body)
    public = public_key_bytes(private_key)
    kid = key_id(key_name, public)
    signature = private_key.sign(body.encode("utf-8"))
    encoded = base64.b64encode(kid + signature).decode("ascii")
    return f"{body}\n{SIG_PREFIX}{key_name} {encoded}\n"


def _split_note(note_text: str) -> tuple[str, list[tuple[str, bytes]]]:
    _check_text(note_text, "note")
    split = note_text.rfind("\n\n")
    if split < 0:
        raise NoteFormatError("note has no signature block")
    body = note_text[: split + 1]
    sig_block = note_text[split + 2 :]
    _check_body(body)
    if not sig_block.endswith("\n"):
        raise NoteFormatError("signature block must end with a newline")
    lines = sig_block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteFormatError("too many signatures")
    signatures = []
    for line in lines:
        if not line.startswith(SIG_PREFIX):
            raise NoteFormatError("malformed signature line")
        name, sep, encoded = line[len(SIG_PREFIX) :].partition(" ")
        if not sep or " " in encoded:
            raise NoteFormatError("malformed signature line")
        _check_key_name(name)
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise NoteFormatError("signature is not valid base64") from exc
        if len(raw) < 5:
            raise NoteFormatError("signature is too short")
        signatures.append((name, raw))
    return body, signatures


def open_note(note_text: str, verifier: str | Verifier) -> str:
    """Verify a signed note with one verifier key and return its body.

    Signatures by other keys are ignored. Raises :class:`NoteFormatError` for a malformed
    note or key, :class:`UnknownKeyError` when no signature is by the key, and
    :class:`NoteSignatureError` when a signature by the key does not verify.
    """
    if not isinstance(verifier, Verifier):
        verifier = parse_verifier_key(verifier)
    body, signatures = _split_note(note_text)
    message = body.encode("utf-8")
    found = False
    for name, raw in signatures:
        if name != verifier.name or raw[:4] != verifier.key_id:
            continue
        found = True
        sig = raw[4:]
        if len(sig) != _ED25519_SIG_SIZE or not verifier.verify(message, sig):
            raise NoteSignatureError(f"invalid signature by {name}")
    if not found:
        raise UnknownKeyError(f"note has no signature by key {verifier.name}")
    return body


# --- checkpoints ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()


def checkpoint_body(
    origin: str, size: int, root_hash: bytes, extensions: tuple[str, ...] | list[str] = ()
) -> str:
    """Checkpoint note body: origin, size, base64 root hash, extension lines."""
    _check_text(origin, "origin")
    if not origin or "\n" in origin:
        raise NoteFormatError("origin must be one non-empty line")
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size < 1 << 64:
        raise NoteFormatError("size must be an unsigned 64-bit integer")
    if len(root_hash) != _HASH_SIZE:
        raise NoteFormatError("root hash must be 32 bytes")
    lines = [origin, str(size), base64.b64encode(bytes(root_hash)).decode("ascii")]
    for ext in extensions:
        _check_text(ext, "extension line")
        if not ext or "\n" in ext:
            raise NoteFormatError("extension lines must be non-empty single lines")
        lines.append(ext)
    return "\n".join(lines) + "\n"


def parse_checkpoint(body: str) -> Checkpoint:
    """Strictly parse a checkpoint body (as returned by :func:`open_note`)."""
    _check_body(body)
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        raise NoteFormatError("checkpoint needs origin, size and root hash lines")
    origin, size_text, root_text, *extensions = lines
    if not _DECIMAL.match(size_text):
        raise NoteFormatError("checkpoint size is not a canonical decimal number")
    size = int(size_text)
    if size >= 1 << 64:
        raise NoteFormatError("checkpoint size is out of range")
    try:
        root = base64.b64decode(root_text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise NoteFormatError("checkpoint root hash is not valid base64") from exc
    if len(root) != _HASH_SIZE or base64.b64encode(root).decode("ascii") != root_text:
        raise NoteFormatError("checkpoint root hash must be canonical base64 of 32 bytes")
    return Checkpoint(origin, size, root, tuple(extensions))
