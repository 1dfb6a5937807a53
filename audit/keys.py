"""The checkpoint signing key, read from settings (environment or file), never the database."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings

from audit import note


@lru_cache(maxsize=4)
def _load(material: str):
    if material.lstrip().startswith("-----BEGIN"):
        return note.load_private_key_pem(material)
    return note.load_private_key_seed(material)


def signing_key():
    return _load(settings.AUDIT_SIGNING_KEY)


def verifier_key() -> str:
    """The public verifier key string regulators use offline: name+keyid+base64."""
    return note.verifier_key(settings.AUDIT_KEY_NAME, signing_key().public_key())
