"""Refusal records and this app's history tables become append-only, as the log is."""

from django.db import migrations


def _tables(apps):
    return [
        model._meta.db_table
        for model in apps.get_app_config("compliance").get_models()
        if model.__name__.startswith("Historical") or model.__name__ == "ScreeningRefusal"
    ]


def protect(apps, schema_editor):
    from audit import triggers

    triggers.protect(schema_editor.connection, _tables(apps))


def unprotect(apps, schema_editor):
    from audit import triggers

    triggers.unprotect(schema_editor.connection, _tables(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0003_default_screening_policy"),
        ("audit", "0004_entries_queued_for_integrator"),
    ]

    operations = [migrations.RunPython(protect, unprotect)]
