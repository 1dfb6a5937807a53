"""Ship the context term "~rh" (a blood group only beside a person: alone it is relative
humidity in an inspection record) in place of "=rh", and the blood-type pattern that no
longer reads "RH-45" as a blood group; bump the policy revision when anything changed.
Entries a regulator has changed keep their changes."""

from django.db import migrations
from django.db.models import F
from django.utils import timezone

OLD_BLOOD_TYPE_EN_RH = r"|\brhd?\s*(?:[+\-−]|pos(?:itive)?\b|neg(?:ative)?\b|factor\b)"
NEW_BLOOD_TYPE_EN_RH = (
    r"|\brhd?\s*(?:[+\-−](?![0-9A-Za-z])|pos(?:itive)?\b|neg(?:ative)?\b|factor\b)"
)


def context_terms(apps, schema_editor):
    from compliance.signals import add_default_policy_entries

    using = schema_editor.connection.alias
    revision_model = apps.get_model("compliance", "ScreeningPolicyRevision")
    if not revision_model.objects.using(using).exists():
        return  # a database the initial load has not reached: it will load everything
    term_model = apps.get_model("compliance", "ScreeningTerm")
    pattern_model = apps.get_model("compliance", "ScreeningPattern")
    changed = term_model.objects.using(using).filter(
        category__code="blood_type", term="=rh"
    ).delete()[0]
    for pattern in pattern_model.objects.using(using).filter(
        category__code="blood_type", name="blood_type_en"
    ):
        if OLD_BLOOD_TYPE_EN_RH in pattern.pattern:
            pattern.pattern = pattern.pattern.replace(OLD_BLOOD_TYPE_EN_RH, NEW_BLOOD_TYPE_EN_RH)
            pattern.save(update_fields=["pattern"])
            changed += 1
    changed += add_default_policy_entries(
        apps.get_model("compliance", "ScreeningCategory"),
        term_model,
        pattern_model,
        using,
        apps.get_model("compliance", "ScreeningDecoder"),
    )
    if changed:
        revision_model.objects.using(using).filter(pk=1).update(
            number=F("number") + 1, changed_at=timezone.now()
        )


class Migration(migrations.Migration):
    dependencies = [("compliance", "0009_merge_main_law")]

    operations = [migrations.RunPython(context_terms, migrations.RunPython.noop)]
