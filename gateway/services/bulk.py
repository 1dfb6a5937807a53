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

# SQLite >= 3.32 allows 32,766 parameters per statement.
_SQLITE_MAX_PARAMS = 32_000


def db_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def db_uuid(value: uuid.UUID):
    return value.hex if connection.vendor == "sqlite" else value


def db_datetime(value: dt.datetime | None):
    if value is None:
        return None
    if connection.vendor == "sqlite":
        # Django's SQLite format: naive UTC, "YYYY-MM-DD HH:MM:SS[.ffffff]".
        return str(value.astimezone(dt.UTC).replace(tzinfo=None))
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
    # Table and column names come from model metadata, never from input.
    head = (
        f"INSERT INTO {quote(meta.db_table)} "
        f"({', '.join(quote(field.column) for field in columns)}) "
    )
    tail = f" RETURNING {quote(meta.pk.column)}" if returning_pk else ""
    if connection.vendor == "postgresql":
        return _copy_rows(meta, columns, rows, returning_pk=returning_pk)
    with connection.cursor() as cursor:
        row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
        per_chunk = max(1, _SQLITE_MAX_PARAMS // len(columns))
        keys: list[int] = []
        for start in range(0, len(rows), per_chunk):
            chunk = rows[start : start + per_chunk]
            params = [value for row in chunk for value in row]
            cursor.execute(f"{head}VALUES {', '.join([row_sql] * len(chunk))}{tail}", params)
            if returning_pk:
                keys.extend(row[0] for row in cursor.fetchall())
        return keys


def _copy_rows(meta, columns, rows, *, returning_pk: bool) -> list[int]:
    """PostgreSQL: COPY, the fastest way in; keys are drawn from the sequence first.

    COPY needs psycopg's own cursor. Its errors are translated as Django's cursor
    does (a unique violation is an IntegrityError, a deadlock an OperationalError,
    the psycopg error as ``__cause__``), so callers' retries see what they expect.
    """
    quote = connection.ops.quote_name
    names = [quote(field.column) for field in columns]
    connection.ensure_connection()
    keys: list[int] = []
    with connection.wrap_database_errors, connection.connection.cursor() as cursor:
        if returning_pk:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, meta.pk.column, len(rows)],
            )
            keys = [row[0] for row in cursor.fetchall()]
            names.insert(0, quote(meta.pk.column))
            rows = [(key, *row) for key, row in zip(keys, rows, strict=True)]
        statement = f"COPY {quote(meta.db_table)} ({', '.join(names)}) FROM STDIN"
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
    return keys
