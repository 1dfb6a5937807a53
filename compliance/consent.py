"""Data collected only with the person's written consent (CRR 14 ¶2, ZJ 14 ¶2, SH 14 ¶2).

Income, deposits, securities, commercial insurance, real estate and tax amounts are
screened like prohibited data, by categories a regulator marks ``needs_consent``; a
finding in a record that names its ``consent_reference`` is allowed (and the reference
audited), any other is refused. Django-free: it sorts the screener's violations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

CONSENT_FIELD = "consent_reference"
MAX_REFERENCE_CHARS = 200


@dataclass(frozen=True)
class ScreeningOutcome:
    prohibited: list  # never collected, consent or not
    without_consent: list  # consent-gated, in a record naming no consent reference
    consented: list  # consent-gated, in a record naming its consent reference


def record_index(path: str) -> int | None:
    parts = path.split("/")
    if len(parts) > 2 and parts[1] == "records" and parts[2].isdigit():
        return int(parts[2])
    return None


def consent_reference(document: Any, index: int | None) -> str | None:
    """The record's consent reference if it names a usable one, else None."""
    if index is None or not isinstance(document, Mapping):
        return None
    records = document.get("records")
    if not isinstance(records, list) or index >= len(records):
        return None
    record = records[index]
    reference = record.get(CONSENT_FIELD) if isinstance(record, Mapping) else None
    if isinstance(reference, str) and 0 < len(reference.strip()) <= MAX_REFERENCE_CHARS:
        return reference.strip()
    return None


def sort_violations(
    violations: Iterable, document: Any, consent_categories: frozenset[str] | set[str]
) -> ScreeningOutcome:
    prohibited, without_consent, consented = [], [], []
    for violation in violations:
        if violation.category not in consent_categories:
            prohibited.append(violation)
        elif consent_reference(document, record_index(violation.path)) is None:
            without_consent.append(violation)
        else:
            consented.append(violation)
    return ScreeningOutcome(prohibited, without_consent, consented)
