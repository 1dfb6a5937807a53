"""Entries are queued by the act and sequenced by the integrator.

The log's table gets a surrogate key, a nullable index set once by the integrator, the
entry's random id (hashed into version 2 entries) and its format version. The existing
rows are version 1 entries and are copied unchanged.
"""

from django.db import migrations, models

import audit.actions


def uninstall_triggers(apps, schema_editor):
    from audit import triggers

    triggers.uninstall(schema_editor.connection)


def install_triggers(apps, schema_editor):
    from audit import triggers

    triggers.install(schema_editor.connection)


def copy_version_1_entries(apps, schema_editor):
    connection = schema_editor.connection
    old = apps.get_model("audit", "AuditEntry")
    new = apps.get_model("audit", "QueuedAuditEntry")
    batch = []
    for entry in old.objects.using(connection.alias).order_by("sequence").iterator():
        batch.append(
            new(
                id=entry.sequence + 1,
                sequence=entry.sequence,
                entry_id=f"v1-{entry.sequence}",
                format_version=1,
                recorded_at=entry.recorded_at,
                actor_kind=entry.actor_kind,
                actor_id=entry.actor_id,
                action=entry.action,
                subject=entry.subject,
                purpose=entry.purpose,
                legal_basis=entry.legal_basis,
                object_ref=entry.object_ref,
                details=entry.details,
                previous_hash=entry.previous_hash,
                leaf_hash=entry.leaf_hash,
            )
        )
        if len(batch) >= 2000:
            new.objects.using(connection.alias).bulk_create(batch)
            batch = []
    new.objects.using(connection.alias).bulk_create(batch)
    # Explicit ids were inserted: move the id generator past them.
    statements = connection.ops.sequence_reset_sql(_NoStyle(), [new])
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


class _NoStyle:
    def __getattr__(self, name):
        return lambda text: text


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_action_identity_key_rotated")]

    operations = [
        migrations.RunPython(uninstall_triggers, install_triggers),
        migrations.CreateModel(
            name="QueuedAuditEntry",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                (
                    "sequence",
                    models.BigIntegerField(blank=True, null=True, unique=True, verbose_name="index"),
                ),
                ("entry_id", models.CharField(max_length=32, unique=True, verbose_name="entry id")),
                ("format_version", models.PositiveSmallIntegerField(default=2)),
                ("recorded_at", models.DateTimeField(verbose_name="time")),
                (
                    "actor_kind",
                    models.CharField(
                        choices=audit.actions.ActorKind.choices,
                        max_length=16,
                        verbose_name="actor kind",
                    ),
                ),
                ("actor_id", models.CharField(db_index=True, max_length=150, verbose_name="actor")),
                (
                    "action",
                    models.PositiveSmallIntegerField(
                        choices=audit.actions.AuditAction.choices, verbose_name="action"
                    ),
                ),
                (
                    "subject",
                    models.CharField(
                        blank=True,
                        db_index=True,
                        max_length=64,
                        verbose_name="resident (blind index)",
                    ),
                ),
                ("purpose", models.CharField(blank=True, max_length=64, verbose_name="purpose")),
                (
                    "legal_basis",
                    models.CharField(blank=True, max_length=300, verbose_name="legal basis"),
                ),
                ("object_ref", models.CharField(blank=True, max_length=200, verbose_name="object")),
                ("details", models.JSONField(default=dict, verbose_name="details")),
                (
                    "previous_hash",
                    models.BinaryField(blank=True, default=b"", verbose_name="previous leaf hash"),
                ),
                ("leaf_hash", models.BinaryField(db_index=True, verbose_name="leaf hash")),
            ],
            options={
                "verbose_name": "audit entry",
                "verbose_name_plural": "audit entries",
                "ordering": ["-id"],
                "indexes": [
                    models.Index(fields=["action", "id"], name="audit_entry_action_id"),
                    models.Index(fields=["recorded_at"], name="audit_entry_recorded_at"),
                    models.Index(fields=["subject", "id"], name="audit_entry_subject_id"),
                    models.Index(
                        condition=models.Q(("sequence__isnull", True)),
                        fields=["id"],
                        name="audit_entry_unsequenced",
                    ),
                ],
            },
        ),
        migrations.RunPython(copy_version_1_entries, migrations.RunPython.noop),
        migrations.DeleteModel(name="AuditEntry"),
        migrations.RenameModel(old_name="QueuedAuditEntry", new_name="AuditEntry"),
        migrations.RunPython(install_triggers, uninstall_triggers),
    ]
