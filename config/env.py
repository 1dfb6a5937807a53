"""Typed readers for settings that come from the environment.

Each reader fails loudly with ImproperlyConfigured on a malformed value. Secrets
may be given inline (``NAME``) or as a file path (``NAME_FILE``, as Docker and
systemd credentials do); in development a missing secret is generated once into
``var/dev-secrets/`` so a fresh checkout runs without any set-up.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None:
        if default is None:
            raise ImproperlyConfigured(f"{name} must be set")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {value!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {number}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


LOCKOUT_PARTS = ("username", "ip_address", "user_agent")


def lockout_parameters(name: str, value: str) -> list[str | list[str]]:
    """django-axes's AXES_LOCKOUT_PARAMETERS from "username+ip_address,ip_address":
    commas separate counts kept apart, "+" joins the parts of one count."""
    counts: list[str | list[str]] = []
    for group in value.split(","):
        parts = [part.strip() for part in group.split("+")]
        if any(part not in LOCKOUT_PARTS for part in parts):
            raise ImproperlyConfigured(
                f"{name} must be counts separated by commas, each one or more of "
                f"{', '.join(LOCKOUT_PARTS)} joined by '+' (e.g. username+ip_address)"
            )
        counts.append(parts[0] if len(parts) == 1 else parts)
    return counts


def env_secret(name: str, *, production: bool, dev_dir: Path, generate=None) -> str:
    """Read a secret from NAME or the file named by NAME_FILE.

    In production a missing secret stops the process. In development one is
    generated (``generate()`` or 32 random url-safe bytes) and kept in dev_dir.
    """
    inline = os.environ.get(name)
    path = os.environ.get(f"{name}_FILE")
    if inline and path:
        raise ImproperlyConfigured(f"set either {name} or {name}_FILE, not both")
    if path:
        try:
            value = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {path}: {exc}") from None
        if not value:
            raise ImproperlyConfigured(f"{name}_FILE: {path} is empty")
        return value
    if inline:
        return inline.strip()
    if production:
        raise ImproperlyConfigured(
            f"{name} (or {name}_FILE) must be set: production never uses generated secrets"
        )
    dev_dir.mkdir(parents=True, exist_ok=True)
    stored = dev_dir / name
    if not stored.exists():
        # Write aside, then link into place: concurrent first runs (parallel test
        # workers) all end up reading the one value that won.
        value = generate() if generate else secrets.token_urlsafe(32)
        draft = dev_dir / f".{name}.{os.getpid()}"
        draft.touch(mode=0o600)
        draft.write_text(value + "\n", encoding="utf-8")
        try:
            os.link(draft, stored)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return stored.read_text(encoding="utf-8").strip()


# Django's deployment check (security.W009) wants at least this many characters, of at
# least this many different ones, in SECRET_KEY.
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_UNIQUE_CHARACTERS = 5


def check_secret_key(value: str) -> str:
    if (
        len(value) < SECRET_KEY_MIN_LENGTH
        or len(set(value)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS
        or value.startswith("django-insecure-")
    ):
        raise ImproperlyConfigured(
            f"SECRET_KEY must be at least {SECRET_KEY_MIN_LENGTH} random characters, e.g. "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(64))'"
        )
    return value


def decode_base64_key(name: str, material: str, *, sizes: tuple[int, ...]) -> bytes:
    """The bytes of a base64 key, or ImproperlyConfigured naming the variable (never the value)."""
    try:
        raw = base64.b64decode(material.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ImproperlyConfigured(f"{name} must be base64") from None
    if len(raw) not in sizes:
        wanted = " or ".join(str(size) for size in sizes)
        raise ImproperlyConfigured(f"{name} must decode to {wanted} bytes, got {len(raw)}")
    return raw


def check_key_ring(name: str, value: str) -> str:
    """An AES-256 key ring: ``id:base64key[,id:base64key...]``."""
    for item in value.split(","):
        key_id, separator, material = item.strip().partition(":")
        if not separator or not key_id or len(key_id) > 16:
            raise ImproperlyConfigured(f"{name} must look like 'k1:<base64 key>[,k0:<key>...]'")
        decode_base64_key(name, material, sizes=(32,))
    return value


def check_signing_key(name: str, value: str) -> str:
    """An Ed25519 private key: a base64 32-byte seed or a PEM block."""
    if value.lstrip().startswith("-----BEGIN"):
        if "PRIVATE KEY-----" not in value:
            raise ImproperlyConfigured(f"{name} must be a PEM private key or a base64 seed")
        return value
    decode_base64_key(name, value, sizes=(32,))
    return value
