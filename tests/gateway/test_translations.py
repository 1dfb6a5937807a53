"""The Chinese catalogue is complete and its committed .mo matches the .po."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

from django.conf import settings

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"
_ENTRY = re.compile(r'^(msgid|msgid_plural|msgstr(?:\[\d+\])?) ((?:"(?:[^"\\]|\\.)*"\s*)+)', re.M)


def po_entries() -> list[dict[str, str]]:
    """The .po file's live entries (obsolete ones, ``#~``, are not read)."""
    entries: list[dict[str, str]] = []
    for block in (CATALOGUE / "django.po").read_text(encoding="utf-8").split("\n\n"):
        fields = {
            key: "".join(ast.literal_eval(part) for part in re.findall(r'"(?:[^"\\]|\\.)*"', raw))
            for key, raw in _ENTRY.findall(block)
        }
        if fields.get("msgid"):
            entries.append(fields)
    return entries


def test_every_message_has_a_chinese_translation():
    entries = po_entries()
    assert len(entries) > 400
    untranslated = [
        e["msgid"] for e in entries if not all(v for k, v in e.items() if k.startswith("msgstr"))
    ]
    assert untranslated == []


def test_the_compiled_catalogue_matches_the_po_file():
    with (CATALOGUE / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for entry in po_entries():
        if "msgid_plural" in entry:
            assert compiled.ngettext(entry["msgid"], entry["msgid_plural"], 1) == entry["msgstr[0]"]
        else:
            assert compiled.gettext(entry["msgid"]) == entry["msgstr"], entry["msgid"]
