"""Checkpoints signed as the gateway's log signs them, for the client's tests."""

import base64
import hashlib

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def log_key(name="credit-gateway-audit"):
    private = Ed25519PrivateKey.generate()
    raw = b"\x01" + private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    key_id = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4]
    text = f"{name}+{key_id.hex()}+{base64.b64encode(raw).decode()}"
    return private, key_id, text


def sign_checkpoint(private, key_id, name, size, root, cosigner=None):
    body = f"example.gov.cn/log\n{size}\n{base64.b64encode(root).decode()}\n"
    lines = [f"— {name} {base64.b64encode(key_id + private.sign(body.encode())).decode()}"]
    if cosigner:
        lines.append(f"— witness {base64.b64encode(b'abcd' + bytes(64)).decode()}")
    return body + "\n" + "\n".join(lines) + "\n"


def witness_key(name="witness.example.gov.cn/w1"):
    private = Ed25519PrivateKey.generate()
    raw = b"\x04" + private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    key_id = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4]
    return private, key_id, f"{name}+{key_id.hex()}+{base64.b64encode(raw).decode()}"


def cosign(note, private, key_id, name="witness.example.gov.cn/w1", timestamp=1796310921):
    body = note[: note.rfind("\n\n") + 1]
    message = f"cosignature/v1\ntime {timestamp}\n{body}".encode()
    raw = key_id + timestamp.to_bytes(8, "big") + private.sign(message)
    return note + f"— {name} {base64.b64encode(raw).decode()}\n"
