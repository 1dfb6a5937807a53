"""How the regulator's admin shows hashes and verification: hex, shortened, with a copy button.

The copy button works through ``audit/admin.js`` (a static file: the Content-Security-
Policy forbids inline script); without JavaScript the full hash is still in the title
and in the button's value for the reader to select.
"""

from __future__ import annotations

from django.utils.html import format_html
from django.utils.translation import gettext as _

SHOWN_HEX_DIGITS = 12


def hash_hex(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return bytes(value).hex()


def hash_html(value) -> str:
    """A hash as its first hex digits, the whole in the title, and a copy button."""
    text = hash_hex(value)
    if not text:
        return "—"
    return format_html(
        '<span class="audit-hash"><code title="{}">{}…</code>'
        '<button type="button" class="audit-copy" data-copy="{}" data-done="{}" '
        'aria-label="{}">{}</button></span>',
        text,
        text[:SHOWN_HEX_DIGITS],
        text,
        _("Copied"),
        _("Copy the whole hash"),
        _("Copy"),
    )


def badge_html(ok: bool, text: str) -> str:
    """A verified (green) or failed (red) badge, with a sign besides the colour."""
    return format_html(
        '<span class="audit-badge {}">{} {}</span>',
        "audit-ok" if ok else "audit-failed",
        "✔" if ok else "✘",
        text,
    )
