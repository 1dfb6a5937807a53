"""Multi-row INSERT for the submission hot path.

``bulk_create`` prepares every value of every row through its field in Python, which
costs more than the database's own work for a 1,000-record batch. Callers here pass
values already in database form (see ``db_json`` and ``db_datetime``), and one
statement per chunk inserts them, returning primary keys in row order (as Django's
own ``bulk_create`` relies on for PostgreSQL and SQLite >= 3.35).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from typing import Any

from django.db import connection, models

# SQLite >= 3.32 allows 32,766 parameters per statement, PostgreSQL 65,535.
_MAX_PARAMS = {"sqlite": 32_000, "postgresql": 60_000}


def db_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def db_uuid(value: uuid.UUID):
    return value.hex if connection.vendor == "sqlite" else value


def db_datetime(value: dt.datetime | None):
    if value is None:
        return None
    if connection.vendor == "sqlite":
        return connection.ops.adapt_datetimefield_value(value)
    return value


def insert_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    returning_pk: bool = False,
) -> list[int]:
    """Insert ROWS (tuples in FIELDS order, values already in database form)."""
    if not rows:
        return []
    meta = model._meta
    quote = connection.ops.quote_name
    columns = [meta.get_field(name) for name in fields]
    placeholders = []
    for field in columns:
        if connection.vendor == "postgresql" and isinstance(field, models.JSONField):
            placeholders.append("%s::jsonb")
        else:
            placeholders.append("%s")
    row_sql = "(" + ", ".join(placeholders) + ")"
    head = (
        # Table and column names come from model metadata, never from input.
        f"INSERT INTO {quote(meta.db_table)} "  # noqa: S608
        f"({', '.join(quote(field.column) for field in columns)}) VALUES "
    )
    tail = f" RETURNING {quote(meta.pk.column)}" if returning_pk else ""
    per_chunk = max(1, _MAX_PARAMS.get(connection.vendor, 900) // len(fields))
    keys: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_chunk):
            chunk = rows[start : start + per_chunk]
            params = [value for row in chunk for value in row]
            cursor.execute(head + ", ".join([row_sql] * len(chunk)) + tail, params)
            if returning_pk:
                keys.extend(row[0] for row in cursor.fetchall())
    return keys
