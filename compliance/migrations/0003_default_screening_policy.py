"""Load the shipped screening policy (LAW.md §A) into the policy tables.

Regulators extend it in the admin afterwards; the policy revision counter starts at 1.
"""

from django.db import migrations
from django.utils import timezone


def load_defaults(apps, schema_editor):
    from compliance.policy_defaults import DEFAULT_CATEGORIES, DEFAULT_POLICY_VERSION

    alias = schema_editor.connection.alias
    Category = apps.get_model("compliance", "ScreeningCategory")
    Term = apps.get_model("compliance", "ScreeningTerm")
    Pattern = apps.get_model("compliance", "ScreeningPattern")
    Revision = apps.get_model("compliance", "ScreeningPolicyRevision")
    for default in DEFAULT_CATEGORIES:
        category, _ = Category.objects.using(alias).get_or_create(
            code=default.code,
            defaults={
                "title_zh": default.name_zh,
                "title_en": default.name_en,
                "legal_source": default.legal_source,
            },
        )
        for term in default.key_terms:
            Term.objects.using(alias).get_or_create(category=category, term=term)
        for pattern in default.value_patterns:
            Pattern.objects.using(alias).get_or_create(
                category=category,
                name=pattern.name,
                defaults={"pattern": pattern.pattern, "description": pattern.description[:300]},
            )
    Revision.objects.using(alias).get_or_create(
        pk=1, defaults={"number": DEFAULT_POLICY_VERSION, "changed_at": timezone.now()}
    )


class Migration(migrations.Migration):
    dependencies = [("compliance", "0002_rule_comments")]

    operations = [migrations.RunPython(load_defaults, migrations.RunPython.noop)]
