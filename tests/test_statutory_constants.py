"""Each statutory fact is written once, in compliance/law.py, with its article.

These tests read the source tree: the time zone, the score range and the deadlines in
working days may not be written again in code, templates or translatable messages, so a
copy that drifts from the law cannot come back unnoticed. Migrations are history and
keep what they froze; docstrings and comments may explain the law in words.
"""

from __future__ import annotations

import ast
import re
import tokenize
from pathlib import Path

import pytest

from compliance import law

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("audit", "compliance", "gateway", "config", "fixtures")
LAW = ROOT / "compliance" / "law.py"


def _python_files():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def _templates():
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("templates/**/*.html"))


def _strings(path: Path) -> list[tuple[int, str]]:
    """Every string constant of a module that is not a docstring, with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        scope = ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef
        if isinstance(node, scope) and node.body and isinstance(node.body[0], ast.Expr):
            value = node.body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                docstrings.add(id(value))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_the_time_zone_is_named_only_in_the_law():
    found = []
    for path in _python_files():
        if path == LAW:
            continue
        found += [
            f"{path.relative_to(ROOT)}:{line}"
            for line, text in _strings(path)
            if text == "Asia/Shanghai"
        ]
    assert found == [], "use compliance.law.DISPLAY_ZONE: " + ", ".join(found)
    assert law.DISPLAY_ZONE.key == "Asia/Shanghai"


# A constant named like a statutory fact, given a number anywhere but in the law.
_CONSTANT = re.compile(
    r"^\s*[A-Z_]*(WORKING_DAYS|_SCORE|RETENTION_YEARS|COMMENT_DAYS|LOG_YEARS)\s*(:\s*\w+\s*)?"
    r"=\s*-?\d"
)


# Not statutory: the programme's own choices, which no article sets.
OWN_CHOICES = {"REWARD_RETENTION_YEARS"}


def test_no_module_gives_a_statutory_constant_its_own_number():
    found = []
    for path in _python_files():
        if path == LAW:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if _CONSTANT.match(line) and line.split("=")[0].strip() not in OWN_CHOICES:
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == [], "import it from compliance.law:\n" + "\n".join(found)


def _clamp_literals(path: Path) -> list[str]:
    """``0``/``200``/``100`` written into a clamp, in code or in SQL text."""
    hits = []
    with path.open("rb") as source:
        for token in tokenize.tokenize(source.readline):
            if token.type == tokenize.STRING and re.search(
                r"(GREATEST|LEAST|max|min)\(\s*(0|200)\b", token.string
            ):
                hits.append(f"{path.relative_to(ROOT)}:{token.start[0]}")
    text = path.read_text(encoding="utf-8")
    for match in re.finditer(r"\b(max|min)\(\s*(0|200)\s*,\s*(min|max)\(\s*(0|200)\b", text):
        hits.append(f"{path.relative_to(ROOT)}:{text[: match.start()].count(chr(10)) + 1}")
    return hits


def test_the_score_range_is_clamped_with_the_laws_numbers():
    found = [hit for path in _python_files() for hit in _clamp_literals(path)]
    assert found == [], "clamp with compliance.law.MIN_SCORE / MAX_SCORE: " + ", ".join(found)


# What a resident or reviewer reads: a number of working days, a score range or a
# period written into the text instead of passed in as a parameter.
_TOLD = re.compile(
    r"(?<![%\w(])\d+ working days?\b"
    r"|\d+ ?个工作日"
    r"|starts at \d+|初始\d+分"
    r"|\b0 ?(to|至|\.\.) ?200\b|范围\d+至\d+"
    r"|at least \d+ days|不少于\d+日"
)


@pytest.mark.parametrize("kind", ["templates", "messages"])
def test_no_text_writes_a_statutory_number_itself(kind):
    found = []
    if kind == "templates":
        for path in _templates():
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if _TOLD.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{number}")
    else:
        for path in _python_files():
            if path == LAW:
                continue
            for line, text in _strings(path):
                if _TOLD.search(text):
                    found.append(f"{path.relative_to(ROOT)}:{line}: {text[:80]!r}")
    assert found == [], "pass the number from compliance.law:\n" + "\n".join(found)


def test_the_law_holds_each_constant_with_its_article():
    source = LAW.read_text(encoding="utf-8")
    for name in (
        "STARTING_SCORE",
        "MIN_SCORE",
        "MAX_SCORE",
        "OBJECTION_FLAG_WORKING_DAYS",
        "OBJECTION_DECISION_WORKING_DAYS",
        "OBJECTION_EXTENDED_WORKING_DAYS",
        "REPAIR_REMOVAL_WORKING_DAYS",
        "REVOCATION_DELETION_WORKING_DAYS",
        "RETENTION_YEARS",
        "ACCESS_LOG_YEARS",
        "SERIOUS_COMMENT_DAYS",
        "DISPLAY_ZONE",
    ):
        assert hasattr(law, name), name
        # The comment above the constant names where the law says it.
        before = source[: source.index(f"\n{name} =")].rsplit("\n\n", 1)[-1]
        assert re.search(r"\b(SH|ZJ|CRR|PIPL|GB22|Osmanthus|State Council)\b", before), name
    assert (law.MIN_SCORE, law.STARTING_SCORE, law.MAX_SCORE) == (0, 100, 200)
    assert (
        law.OBJECTION_FLAG_WORKING_DAYS,
        law.OBJECTION_DECISION_WORKING_DAYS,
        law.OBJECTION_EXTENDED_WORKING_DAYS,
        law.REPAIR_REMOVAL_WORKING_DAYS,
        law.REVOCATION_DELETION_WORKING_DAYS,
    ) == (1, 5, 20, 3, 3)
    assert (law.RETENTION_YEARS, law.ACCESS_LOG_YEARS, law.SERIOUS_COMMENT_DAYS) == (5, 10, 30)
