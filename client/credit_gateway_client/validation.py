"""What the client can check before sending: identity numbers, dates, evidence."""

from __future__ import annotations

import datetime as dt
import operator
import re
from typing import Any

from credit_gateway_client.messages import text

# GB 11643-1999: the 18th character checks the first 17 (ISO 7064 MOD 11-2).
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARACTERS = "10X98765432"
_IDENTITY = re.compile(r"^\d{17}[\dX]$")
_RULE_CODE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")
DEDUCTION_EVIDENCE = ("document", "issued_by", "issued_on", "procedure")
PROCEDURES = ("general", "judicial")


def identity_number_valid(value: str) -> bool:
    if not _IDENTITY.match(value):
        return False
    try:
        dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    total = sum(map(operator.mul, map(int, value[:17]), _WEIGHTS))
    return _CHECK_CHARACTERS[total % 11] == value[17]


def _moment(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _day(value: Any) -> dt.date | None:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def record_problems(record: dict[str, Any], *, now: dt.datetime, lang: str) -> list[dict]:
    """Each problem of RECORD as {"path", "message"}; the record's values are never copied."""
    problems: list[dict] = []

    def add(path: str, key: str) -> None:
        problems.append({"path": path, "message": text(key, lang)})

    citizen_id = record.get("citizen_id")
    if not isinstance(citizen_id, str) or not citizen_id:
        add("/citizen_id", "required")
    elif not identity_number_valid(citizen_id):
        add("/citizen_id", "identity_number")
    rule = record.get("rule")
    if not isinstance(rule, str) or not _RULE_CODE.match(rule):
        add("/rule", "rule_code")
    occurred_at = _moment(record.get("occurred_at"))
    if occurred_at is None:
        add("/occurred_at", "datetime")
    elif occurred_at > now:
        add("/occurred_at", "future")
    evidence = record.get("evidence")
    if not isinstance(evidence, dict) or not evidence:
        add("/evidence", "evidence")
        return problems
    if any(name in evidence for name in ("document", "procedure")):
        for name in DEDUCTION_EVIDENCE:
            if not evidence.get(name):
                add(f"/evidence/{name}", "required")
        if evidence.get("procedure") and evidence["procedure"] not in PROCEDURES:
            add("/evidence/procedure", "procedure")
        if evidence.get("issued_on"):
            issued_on = _day(evidence["issued_on"])
            if issued_on is None:
                add("/evidence/issued_on", "date")
            elif issued_on > now.date() or (occurred_at and issued_on < occurred_at.date()):
                add("/evidence/issued_on", "issued_on")
    elif not evidence.get("reference"):
        add("/evidence", "evidence")
    return problems
