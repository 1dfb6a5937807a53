"""Load the shipped screening policy (LAW.md §A) into the policy tables.

Regulators extend it in the admin afterwards; the policy revision counter starts at 1.
"""

from django.db import migrations


def load_defaults(apps, schema_editor):
    from compliance.signals import load_default_policy

    load_default_policy(
        apps.get_model("compliance", "ScreeningCategory"),
        apps.get_model("compliance", "ScreeningTerm"),
        apps.get_model("compliance", "ScreeningPattern"),
        apps.get_model("compliance", "ScreeningPolicyRevision"),
        schema_editor.connection.alias,
    )


class Migration(migrations.Migration):
    dependencies = [("compliance", "0002_rule_comments")]

    operations = [migrations.RunPython(load_defaults, migrations.RunPython.noop)]
