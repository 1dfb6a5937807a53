from django.db import migrations


def create_head(apps, schema_editor):
    LogHead = apps.get_model("audit", "LogHead")
    LogHead.objects.using(schema_editor.connection.alias).get_or_create(pk=1)


def install_triggers(apps, schema_editor):
    from audit import triggers

    triggers.install(schema_editor.connection)


def uninstall_triggers(apps, schema_editor):
    from audit import triggers

    triggers.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        migrations.RunPython(create_head, migrations.RunPython.noop),
        migrations.RunPython(install_triggers, uninstall_triggers),
    ]
