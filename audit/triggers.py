"""Database triggers that make the audit tables append-only.

PostgreSQL: row triggers refuse UPDATE and DELETE, a statement trigger refuses
TRUNCATE, all ``ENABLE ALWAYS`` so they fire even under replication roles.
SQLite: ``RAISE(ABORT)`` triggers refuse UPDATE and DELETE (SQLite has no TRUNCATE;
a DELETE with a trigger is never optimised into one).
"""

from __future__ import annotations

PROTECTED_TABLES = (
    "audit_auditentry",
    "audit_treenode",
    "audit_checkpoint",
    "audit_verificationrun",
    "audit_cosignature",
)

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
"""


def _existing(connection, tables) -> list[str]:
    # A table added by a later migration gets its triggers in that migration, so an
    # earlier migration that installs "all" of them skips the tables not created yet.
    present = set(connection.introspection.table_names())
    return [table for table in tables if table in present]


def install(connection, tables=PROTECTED_TABLES) -> None:
    tables = _existing(connection, tables)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_PG_FUNCTION)
            for table in tables:
                cursor.execute(
                    f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()"
                )
                cursor.execute(
                    f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                    "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()"
                )
                cursor.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_append_only")
                cursor.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_no_truncate")
        elif connection.vendor == "sqlite":
            for table in tables:
                for operation in ("UPDATE", "DELETE"):
                    cursor.execute(
                        f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} "
                        f"ON {table} BEGIN SELECT RAISE(ABORT, "
                        f"'audit log is append-only: {operation} on {table} refused'); END"
                    )
        else:
            raise RuntimeError(f"no append-only triggers for {connection.vendor}")


def uninstall(connection, tables=PROTECTED_TABLES) -> None:
    """Drop the triggers: what an insider with database access could do (tests use it)."""
    tables = _existing(connection, tables)
    with connection.cursor() as cursor:
        for table in tables:
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
            else:
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
