"""Resident identity numbers: validation, masking, encryption at rest and the blind index.

The 18-character number (GB 11643) ends in an ISO 7064 MOD 11-2 check character.
It is never stored in plaintext: AES-256-GCM under a key ring (the first key
encrypts, all decrypt, so keys rotate without re-encrypting at once) and a keyed
HMAC-SHA256 blind index to find a resident without decrypting anyone.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import os
import re
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_AAD = b"credit-gateway/citizen-id/v1"
_FORMAT = 1


class InvalidIdentityNumber(ValueError):
    """A malformed identity number; the message never repeats the number."""


def check_character(first_17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first_17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def normalize_identity_number(value: object, *, today: dt.date | None = None) -> str:
    """Return the canonical form (upper-case X) or raise InvalidIdentityNumber."""
    if not isinstance(value, str):
        raise InvalidIdentityNumber("must be a string of 18 characters")
    candidate = value.strip().upper()
    if len(candidate) != 18:
        raise InvalidIdentityNumber("must be 18 characters long")
    if not _SHAPE.match(candidate):
        raise InvalidIdentityNumber("must be 17 digits followed by a digit or X")
    try:
        born = dt.date(int(candidate[6:10]), int(candidate[10:12]), int(candidate[12:14]))
    except ValueError:
        raise InvalidIdentityNumber("contains an impossible date of birth") from None
    if born.year < 1900 or born > (today or dt.date.today()):  # noqa: DTZ011
        raise InvalidIdentityNumber("contains an impossible date of birth")
    if check_character(candidate[:17]) != candidate[17]:
        raise InvalidIdentityNumber("check character does not match (ISO 7064 MOD 11-2)")
    return candidate


def mask_identity_number(number: str) -> str:
    """3205**********4519: enough for a person to recognise their own number."""
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


class IdentityVault:
    """Encrypts, decrypts and indexes identity numbers with keys from settings."""

    def __init__(self, encryption_keys: str, index_key: str):
        self._ring: dict[bytes, AESGCM] = {}
        self._active: bytes | None = None
        for item in encryption_keys.split(","):
            key_id, sep, material = item.strip().partition(":")
            if not sep or not key_id or len(key_id) > 16:
                raise ValueError("IDENTITY_ENCRYPTION_KEYS must look like 'id:base64key,...'")
            raw = _decode_key(material, "IDENTITY_ENCRYPTION_KEYS")
            if len(raw) != 32:
                raise ValueError("IDENTITY_ENCRYPTION_KEYS keys must be 32 bytes (AES-256)")
            encoded_id = key_id.encode()
            self._ring[encoded_id] = AESGCM(raw)
            self._active = self._active or encoded_id
        self._index_key = _decode_key(index_key, "IDENTITY_INDEX_KEY")
        if len(self._index_key) < 16:
            raise ValueError("IDENTITY_INDEX_KEY must be at least 16 bytes")

    @property
    def active_key_id(self) -> str:
        return self._active.decode()

    def encrypt(self, number: str) -> bytes:
        nonce = os.urandom(12)
        key_id = self._active
        sealed = self._ring[key_id].encrypt(nonce, number.encode("ascii"), _AAD)
        return bytes((_FORMAT, len(key_id))) + key_id + nonce + sealed

    def decrypt(self, blob: bytes) -> str:
        blob = bytes(blob)
        if len(blob) < 2 or blob[0] != _FORMAT:
            raise ValueError("unknown identity ciphertext format")
        key_id = blob[2 : 2 + blob[1]]
        rest = blob[2 + blob[1] :]
        cipher = self._ring.get(key_id)
        if cipher is None:
            raise ValueError(f"identity key {key_id.decode(errors='replace')!r} is not configured")
        try:
            return cipher.decrypt(rest[:12], rest[12:], _AAD).decode("ascii")
        except InvalidTag:
            raise ValueError("identity ciphertext failed authentication") from None

    def key_id_of(self, blob: bytes) -> str:
        blob = bytes(blob)
        return blob[2 : 2 + blob[1]].decode()

    def blind_index(self, number: str) -> str:
        return hmac.new(self._index_key, number.encode("ascii"), hashlib.sha256).hexdigest()

    def keyed_digest(self, label: bytes, data: bytes) -> str:
        """HMAC-SHA256 of DATA under a key derived for LABEL, apart from the blind index."""
        derived = hmac.new(self._index_key, b"derive:" + label, hashlib.sha256).digest()
        return hmac.new(derived, data, hashlib.sha256).hexdigest()


def _decode_key(material: str, setting: str) -> bytes:
    try:
        return base64.b64decode(material.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{setting} must be base64") from None


@lru_cache(maxsize=4)
def _vault_for(encryption_keys: str, index_key: str) -> IdentityVault:
    return IdentityVault(encryption_keys, index_key)


def vault() -> IdentityVault:
    from django.conf import settings

    return _vault_for(settings.IDENTITY_ENCRYPTION_KEYS, settings.IDENTITY_INDEX_KEY)


def subject_for_search(text: str) -> str | None:
    """The blind index of an identity number typed into an admin search, else None."""
    try:
        return vault().blind_index(normalize_identity_number(text))
    except InvalidIdentityNumber:
        return None
