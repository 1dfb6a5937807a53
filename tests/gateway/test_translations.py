"""The Chinese catalogue is complete, up to date with the source, and its .mo matches the .po."""

from __future__ import annotations

import ast
import gettext
import os
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

BASE_DIR = Path(settings.BASE_DIR)
CATALOGUE = BASE_DIR / "locale" / "zh_Hans" / "LC_MESSAGES"
_ENTRY = re.compile(
    r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?) ((?:"(?:[^"\\]|\\.)*"\s*)+)', re.M
)
# What docs/portal.md tells a developer to leave out of makemessages.
NOT_SCANNED = {".venv", "var", "tests", "test-artifacts", "locale", ".git"}
SCANNED_SUFFIXES = {".py", ".html", ".txt"}  # makemessages' defaults for the django domain


def po_entries(path: Path = CATALOGUE / "django.po") -> list[dict[str, str]]:
    """The .po file's live entries (obsolete ones, ``#~``, are not read)."""
    entries: list[dict[str, str]] = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
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
        if "msgctxt" in entry:
            assert compiled.pgettext(entry["msgctxt"], entry["msgid"]) == entry["msgstr"]
        elif "msgid_plural" in entry:
            assert compiled.ngettext(entry["msgid"], entry["msgid_plural"], 1) == entry["msgstr[0]"]
        else:
            assert compiled.gettext(entry["msgid"]) == entry["msgstr"], entry["msgid"]


def test_no_translation_is_left_fuzzy():
    # makemessages guesses a translation from a similar message and marks it fuzzy;
    # a fuzzy entry is left out of the .mo, so the page would show English.
    text = (CATALOGUE / "django.po").read_text(encoding="utf-8")
    fuzzy = re.findall(r'^#,.*\bfuzzy\b.*\n(?:#.*\n)*msgid ((?:".*"\n)+)', text, re.M)
    assert fuzzy == []


def _keys(entries: list[dict[str, str]]) -> set[tuple[str, str]]:
    return {(entry.get("msgctxt", ""), entry["msgid"]) for entry in entries}


def test_every_message_in_the_source_is_in_the_committed_catalogue(tmp_path, monkeypatch):
    """makemessages over a copy of the source finds no message the committed .po lacks."""
    if shutil.which("xgettext") is None or shutil.which("msgmerge") is None:
        pytest.skip(
            "GNU gettext (xgettext, msgmerge) is not installed, so the messages in the source "
            "cannot be extracted: apt-get install -y gettext (scripts/run-tests does this)"
        )
    source = tmp_path / "source"
    for folder, folders, files in os.walk(BASE_DIR):
        folders[:] = [name for name in folders if name not in NOT_SCANNED]
        for name in files:
            if Path(name).suffix in SCANNED_SUFFIXES:
                relative = Path(folder, name).relative_to(BASE_DIR)
                (source / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(BASE_DIR / relative, source / relative)
    locale = source / "locale"
    shutil.copytree(BASE_DIR / "locale", locale)
    # makemessages writes next to the files it reads and into LOCALE_PATHS: both the copy.
    monkeypatch.chdir(source)
    monkeypatch.setattr(settings, "LOCALE_PATHS", [locale])
    call_command("makemessages", locale=["zh_Hans"], verbosity=0)

    extracted = _keys(po_entries(locale / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    committed = _keys(po_entries())
    assert len(extracted) > 400
    run = "run makemessages as docs/portal.md says, then translate"
    missing = sorted(msgid for _, msgid in extracted - committed)
    assert missing == [], f"messages in the source but not in the committed .po ({run})"
    stale = sorted(msgid for _, msgid in committed - extracted)
    assert stale == [], f"messages in the committed .po no longer in the source ({run})"
