"""Free text a person writes (statements, reasons, comments) is screened before it is kept.

Such text is stored, shown to others and copied into notices, so it meets the same
screening as a department's records (SH 14, ZJ 14, CRR 14, TJ 16, PIPL 28): prohibited
content is refused with the submissions' 422 shape, and an identity number (of anyone:
a person is named by their account, never by their number) is refused with a 400.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from compliance import selectors as compliance_selectors
from gateway.errors import InvalidRequest, ProhibitedData, problem
from gateway.logging import has_identity_shape

PROHIBITED_TEXT = _(
    "The text contains data the law forbids collecting (SH 14, ZJ 14, CRR 14, TJ 16, "
    "PIPL 28). Nothing was stored; write it without that information."
)
IDENTITY_NUMBER_IN_TEXT = _(
    "must not contain an identity number: refer to a person another way (nothing was stored)"
)


# The two functions below are the only place the gateway's text checks meet the
# screening engine (compliance/screening.py), so a change of its API is made here alone.


def prohibited_categories(text: str) -> tuple[int, list[str]]:
    """(policy version, categories the screening policy in force finds in TEXT)."""
    version, screener = compliance_selectors.current_screener()
    return version, sorted({category for category, _name in screener.value_categories(text)})


def is_prohibited_text(value: str) -> bool:
    """Whether the policy in force flags VALUE as a value or as a member name."""
    screener = compliance_selectors.current_screener()[1]
    return bool(screener.value_categories(value) or screener.key_categories(value))


def free_text_screen(text: str, path: str, problems: list[dict[str, Any]]) -> None:
    """Refuse TEXT at PATH if it is prohibited (422 at once); note an identity number."""
    if not text:
        return
    version, categories = prohibited_categories(text)
    if categories:
        raise ProhibitedData(
            PROHIBITED_TEXT,
            violations=[{"path": path, "category": category} for category in categories],
            policy_version=version,
        )
    if has_identity_shape(text):
        problems.append(problem(path, IDENTITY_NUMBER_IN_TEXT))


def free_text_check(text: str, path: str) -> None:
    """``free_text_screen`` for a single text: raises for either refusal."""
    problems: list[dict[str, Any]] = []
    free_text_screen(text, path, problems)
    if problems:
        raise InvalidRequest(problems)
