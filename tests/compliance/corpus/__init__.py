"""Synthetic screening corpus: submission records with the violations they must produce.

Each line of ``prohibited.jsonl`` and ``ordinary.jsonl`` is
``{"id": ..., "note": ..., "record": {...}, "expect": [{"path": ..., "category": ...}]}``.
``record`` is one record of a submission and ``expect`` lists every violation it must
produce, with paths relative to the record (the gateway prefixes ``/records/N``); ordinary
records expect none.  ``note`` says what the line exercises.  All people, identity numbers,
plates, cases and documents are invented.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CORPUS_DIR = Path(__file__).resolve().parent
# The *_adversarial files are written by adversarial.py (see there).
NAMES = ("prohibited", "ordinary", "prohibited_adversarial", "ordinary_adversarial")


def load_corpus(name: str) -> list[dict[str, Any]]:
    """The lines of ``<name>.jsonl`` ("prohibited" or "ordinary"), in file order."""
    if name not in NAMES:
        raise ValueError(f"unknown corpus {name!r}; expected one of {NAMES}")
    with (CORPUS_DIR / f"{name}.jsonl").open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]
