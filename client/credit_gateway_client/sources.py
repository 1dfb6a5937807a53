"""Records from a CSV, JSON Lines or Excel file, through an optional column mapping.

A mapping file is JSON::

    {"columns": {"citizen_id": "身份证号", "occurred_at": "发生时间",
                 "evidence.document": "文书号", "data.location": "地点"},
     "constants": {"rule": "traffic.failure_to_yield", "evidence.procedure": "general"},
     "timezone": "+08:00"}

Keys are record paths (dots descend into ``evidence`` and ``data``); values are column
names. Without a mapping, the columns' own names are the paths. A date-time without a
zone gets ``timezone`` (default +08:00, Beijing time). Files are read row by row, so
memory stays flat in the file's size.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_TIMEZONE = "+08:00"


class SourceError(ValueError):
    """A file or mapping that cannot be read at all."""


@dataclass
class Mapping:
    columns: dict[str, str] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    timezone: str = DEFAULT_TIMEZONE

    @classmethod
    def load(cls, path: Path | None) -> Mapping:
        if path is None:
            return cls()
        try:
            document = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise SourceError(f"mapping {path}: {error}") from None
        if not isinstance(document, dict) or not isinstance(document.get("columns", {}), dict):
            raise SourceError(f"mapping {path}: expected an object with a columns object")
        return cls(
            columns=document.get("columns", {}),
            constants=document.get("constants", {}),
            timezone=document.get("timezone", DEFAULT_TIMEZONE),
        )


def _cell(value: Any, timezone: str) -> Any:
    if type(value) is str:
        return value.strip()
    if isinstance(value, dt.datetime):
        return value.isoformat() if value.tzinfo else value.isoformat() + timezone
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    return value.strip() if isinstance(value, str) else value


def _place(record: dict[str, Any], path: str | tuple[str, ...], value: Any) -> None:
    *parents, leaf = path.split(".") if isinstance(path, str) else path
    target = record
    for name in parents:
        target = target.setdefault(name, {})
    target[leaf] = value


def _with_zone(value: Any, timezone: str) -> Any:
    # A spreadsheet's "2026-11-20 08:30" is local time.
    if isinstance(value, str) and len(value) >= 16 and value[10] in " T" and value[-6] not in "+-":
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
        if moment.tzinfo is None:
            return moment.isoformat() + timezone
    return value


def record_from_row(row: dict[str, Any], mapping: Mapping) -> tuple[dict[str, Any], list[str]]:
    """The record built from one row, and the mapped columns the row lacks."""
    record: dict[str, Any] = {}
    missing = []
    columns = mapping.columns or {name: name for name in row}
    timezone = mapping.timezone
    for path, column in columns.items():
        if column not in row:
            missing.append(path)
            continue
        value = _cell(row[column], timezone)
        if value == "" or value is None:
            continue
        parts = _split_path(path)
        if len(parts) == 1:
            record[path] = value
        else:
            _place(record, parts, value)
    for path, value in mapping.constants.items():
        _place(record, path, value)
    if "occurred_at" in record:
        record["occurred_at"] = _with_zone(record["occurred_at"], mapping.timezone)
    return record, missing


@functools.cache
def _split_path(path: str) -> tuple[str, ...]:
    return tuple(path.split("."))


def rows(path: Path) -> Iterator[tuple[int, Any]]:
    """(row number as a person counts it in the file, row) for every data row."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as stream:
            for number, row in enumerate(csv.DictReader(stream), start=2):
                yield number, row
    elif suffix in (".jsonl", ".ndjson"):
        with path.open(encoding="utf-8") as stream:
            for number, line in enumerate(stream, start=1):
                if line.strip():
                    try:
                        yield number, json.loads(line)
                    except ValueError:
                        yield number, None
    elif suffix in (".xlsx", ".xlsm"):
        yield from _excel_rows(path)
    else:
        raise SourceError(f"{path}: expected .csv, .jsonl or .xlsx")


def _excel_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        import openpyxl
    except ImportError:
        raise SourceError("Excel files need: pip install 'credit-gateway-client[excel]'") from None
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        lines = sheet.iter_rows(values_only=True)
        header = [str(name).strip() if name is not None else "" for name in next(lines, ())]
        for number, values in enumerate(lines, start=2):
            if all(value is None for value in values):
                continue
            yield number, dict(zip(header, values, strict=False))
    finally:
        workbook.close()


def file_digest(path: Path, mapping_path: Path | None) -> str:
    """SHA-256 of the file and its mapping: the root of every batch's idempotency key."""
    digest = hashlib.sha256()
    for part in (path, mapping_path):
        if part is None:
            continue
        with Path(part).open("rb") as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
        digest.update(b"\x00")
    return digest.hexdigest()
