"""Database triggers that make the audit tables append-only.

PostgreSQL: row triggers refuse UPDATE and DELETE, a statement trigger refuses
TRUNCATE, all ``ENABLE ALWAYS`` so they fire even under replication roles.
SQLite: ``RAISE(ABORT)`` triggers refuse UPDATE and DELETE (SQLite has no TRUNCATE;
a DELETE with a trigger is never optimised into one).

One change is allowed on the log's entries: the integrator setting an entry's index
once, from NULL, with every other column unchanged. Other apps protect their own
append-only tables with :func:`protect` (the audit app knows no table of theirs).
"""

from __future__ import annotations

PROTECTED_TABLES = (
    "audit_auditentry",
    "audit_treenode",
    "audit_checkpoint",
    "audit_verificationrun",
    "audit_cosignature",
)

#: Every column of audit_auditentry but ``sequence``: none may change when it is set.
_ENTRY_COLUMNS = (
    "id", "entry_id", "format_version", "recorded_at", "actor_kind", "actor_id", "action",
    "subject", "purpose", "legal_basis", "object_ref", "details", "previous_hash", "leaf_hash",
)  # fmt: skip

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
"""

_PG_ENTRY_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_entry_sequence_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.sequence IS NULL AND NEW.sequence IS NOT NULL
       AND (to_jsonb(NEW) - 'sequence') = (to_jsonb(OLD) - 'sequence') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
"""


def _pg_protect(cursor, table: str, function: str) -> None:
    cursor.execute(
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {function}()"
    )
    cursor.execute(
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()"
    )
    cursor.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_append_only")
    cursor.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_no_truncate")


def _sqlite_protect(cursor, table: str, update_allowed_when: str | None = None) -> None:
    for operation in ("UPDATE", "DELETE"):
        when = ""
        if operation == "UPDATE" and update_allowed_when:
            when = f" WHEN NOT ({update_allowed_when})"
        cursor.execute(
            f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} "
            f"ON {table}{when} BEGIN SELECT RAISE(ABORT, "
            f"'audit log is append-only: {operation} on {table} refused'); END"
        )


def protect(connection, tables) -> None:
    """Make ``tables`` append-only (for other apps' migrations)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_PG_FUNCTION)
            for table in tables:
                _pg_protect(cursor, table, "audit_refuse_change")
        elif connection.vendor == "sqlite":
            for table in tables:
                _sqlite_protect(cursor, table)
        else:
            raise RuntimeError(f"no append-only triggers for {connection.vendor}")


def unprotect(connection, tables) -> None:
    """Drop the triggers: what an insider with database access could do (tests use it)."""
    with connection.cursor() as cursor:
        for table in tables:
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
            else:
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")


def _existing(connection, tables) -> list[str]:
    # A table added by a later migration gets its triggers in that migration, so an
    # earlier migration that installs "all" of them skips the tables not created yet.
    present = set(connection.introspection.table_names())
    return [table for table in tables if table in present]


def install(connection) -> None:
    entry_table, others = PROTECTED_TABLES[0], PROTECTED_TABLES[1:]
    protect(connection, _existing(connection, others))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_PG_ENTRY_FUNCTION)
            _pg_protect(cursor, entry_table, "audit_entry_sequence_once")
        else:
            unchanged = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in _ENTRY_COLUMNS)
            _sqlite_protect(
                cursor,
                entry_table,
                f"OLD.sequence IS NULL AND NEW.sequence IS NOT NULL AND {unchanged}",
            )


def uninstall(connection) -> None:
    unprotect(connection, _existing(connection, PROTECTED_TABLES))


def protected_tables(connection) -> list[str]:
    """Every table that has append-only triggers now (whichever app protected it)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT DISTINCT event_object_table FROM information_schema.triggers "
                "WHERE trigger_name LIKE %s",
                ["%\\_append\\_only"],
            )
        else:
            cursor.execute(
                "SELECT DISTINCT tbl_name FROM sqlite_master "
                "WHERE type = 'trigger' AND name LIKE '%\\_no\\_update' ESCAPE '\\'"
            )
        return sorted(row[0] for row in cursor.fetchall())


def reinstall(connection, tables) -> None:
    """Put back the triggers of ``tables`` (as found by ``protected_tables``)."""
    own = set(PROTECTED_TABLES)
    if own & set(tables):
        install(connection)
    others = [table for table in tables if table not in own]
    if others:
        protect(connection, others)
