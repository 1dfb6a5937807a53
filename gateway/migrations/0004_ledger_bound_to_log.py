"""The ledger bound to the audit log (gateway.services.binding).

Rows written before this migration name no audit entry: the migration commits their
state to the log in entries of its own (action "ledger state committed"), so that
verification holds from here on. It also makes this app's history tables append-only.
"""

import secrets

from django.db import migrations, models
from django.utils import timezone

BASELINE_CHUNK = 1000


def commit_existing_rows(apps, schema_editor):
    from audit import merkle
    from audit.actions import ActorKind, AuditAction
    from audit.canonical import encode_entry_v2
    from audit.services import entry_fields
    from gateway.services import binding as ledger_binding

    alias = schema_editor.connection.alias
    entries = apps.get_model("audit", "AuditEntry")
    kinds = {
        "events": ledger_binding._Kind(apps.get_model("gateway", "ScoreEvent"), "id", "event"),
        "scores": ledger_binding._Kind(apps.get_model("gateway", "Score"), "citizen_id", "score"),
    }
    now = timezone.now()
    for name, kind in kinds.items():
        manager = kind.model.objects.using(alias)
        while True:
            rows = list(
                manager.filter(audit_entry="").order_by(kind.key).values(*kind.columns)[
                    :BASELINE_CHUNK
                ]
            )
            if not rows:
                break
            entry_id = secrets.token_hex(16)
            details = {
                ledger_binding.LEDGER_KEY: {
                    name: ledger_binding._pack([(row[kind.key], kind.digest(row)) for row in rows])
                },
                "baseline": True,
            }
            fields = entry_fields(
                recorded_at=now,
                actor_kind=ActorKind.SYSTEM,
                actor_id="migration",
                action=AuditAction.LEDGER_COMMITTED,
                subject="",
                purpose="",
                legal_basis="",
                object_ref=f"ledger:{name}",
                details=details,
                entry_id=entry_id,
            )
            entries.objects.using(alias).create(
                entry_id=entry_id,
                format_version=2,
                recorded_at=now,
                actor_kind=ActorKind.SYSTEM,
                actor_id="migration",
                action=AuditAction.LEDGER_COMMITTED,
                object_ref=f"ledger:{name}",
                details=details,
                leaf_hash=merkle.leaf_hash(encode_entry_v2(fields)),
            )
            manager.filter(**{f"{kind.key}__in": [row[kind.key] for row in rows]}).update(
                audit_entry=entry_id
            )


def _history_tables(apps):
    return [
        model._meta.db_table
        for model in apps.get_app_config("gateway").get_models()
        if model.__name__.startswith("Historical")
    ]


def protect_history(apps, schema_editor):
    from audit import triggers

    triggers.protect(schema_editor.connection, _history_tables(apps))


def unprotect_history(apps, schema_editor):
    from audit import triggers

    triggers.unprotect(schema_editor.connection, _history_tables(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("gateway", "0003_appeal_review_fields"),
        ("audit", "0004_entries_queued_for_integrator"),
    ]

    operations = [
        migrations.AddField(
            model_name="score",
            name="audit_entry",
            field=models.CharField(
                blank=True,
                db_index=True,
                editable=False,
                max_length=32,
                verbose_name="vouched by audit entry",
            ),
        ),
        migrations.AddField(
            model_name="scoreevent",
            name="audit_entry",
            field=models.CharField(
                blank=True,
                db_index=True,
                editable=False,
                max_length=32,
                verbose_name="vouched by audit entry",
            ),
        ),
        migrations.RunPython(commit_existing_rows, migrations.RunPython.noop),
        migrations.RunPython(protect_history, unprotect_history),
    ]
