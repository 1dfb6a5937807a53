"""Ship the screening vocabulary (abbreviations, lexicons, standards, each with its source)
and the decoder switches; bump the policy revision when anything was added."""

from django.db import migrations
from django.db.models import F
from django.utils import timezone


def add_vocabulary(apps, schema_editor):
    from compliance.signals import add_default_policy_entries

    using = schema_editor.connection.alias
    revision_model = apps.get_model("compliance", "ScreeningPolicyRevision")
    if not revision_model.objects.using(using).exists():
        return  # a database the initial load has not reached: it will load everything
    added = add_default_policy_entries(
        apps.get_model("compliance", "ScreeningCategory"),
        apps.get_model("compliance", "ScreeningTerm"),
        apps.get_model("compliance", "ScreeningPattern"),
        using,
        apps.get_model("compliance", "ScreeningDecoder"),
    )
    if added:
        revision_model.objects.using(using).filter(pk=1).update(
            number=F("number") + 1, changed_at=timezone.now()
        )


class Migration(migrations.Migration):
    dependencies = [("compliance", "0005_decoders_and_sources_screening")]

    operations = [migrations.RunPython(add_vocabulary, migrations.RunPython.noop)]
