"""Ed25519 key pairs and RFC 9421 signatures over a submission's exact body."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from http_message_signatures import HTTPMessageSigner, algorithms

COVERED_COMPONENTS = ("@method", "@path", "content-type", "content-digest")
LABEL = "sig1"


def key_id_for(public_key: bytes) -> str:
    """The gateway's id of a public key: the first 16 bytes of its SHA-256, in hex."""
    return hashlib.sha256(public_key).hexdigest()[:32]


def public_key_raw(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def keygen(path: Path) -> tuple[str, str]:
    """Write a new private key (PEM, mode 0600) to PATH; return (public key b64, key id)."""
    private_key = Ed25519PrivateKey.generate()
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(pem)
    raw = public_key_raw(private_key)
    return base64.b64encode(raw).decode(), key_id_for(raw)


def load_private_key(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


@dataclass
class _Request:
    method: str
    url: str
    headers: dict[str, str]


class _Keys:
    def __init__(self, key: Ed25519PrivateKey):
        self.key = key

    def resolve_private_key(self, key_id: str):
        return self.key

    def resolve_public_key(self, key_id: str):
        return self.key.public_key()


@dataclass
class Signer:
    private_key: Ed25519PrivateKey

    @property
    def key_id(self) -> str:
        return key_id_for(public_key_raw(self.private_key))

    def headers(
        self, body: bytes, *, path: str, created: dt.datetime | None = None
    ) -> dict[str, str]:
        """Content-Type, Content-Digest, Signature-Input and Signature for a POST of BODY."""
        request = _Request("POST", "https://gateway.invalid" + path, {})
        request.headers["Content-Type"] = "application/json"
        signer = HTTPMessageSigner(
            signature_algorithm=algorithms.ED25519, key_resolver=_Keys(self.private_key)
        )
        signer.sign(
            request,
            key_id=self.key_id,
            label=LABEL,
            created=created or dt.datetime.now(dt.UTC),
            covered_component_ids=COVERED_COMPONENTS,
            body=body,
        )
        return dict(request.headers)
