"""Decoder switches and the source of every screening term and pattern.

The history tables are append-only (0004); the new columns are added with their triggers
lifted for the change, and the new history table gets the same triggers.
"""

import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models


HISTORY_TABLES = (
    "compliance_historicalscreeningterm",
    "compliance_historicalscreeningpattern",
    "compliance_historicalscreeningdecoder",
)


def unprotect(apps, schema_editor):
    from audit import triggers

    triggers.unprotect(schema_editor.connection, HISTORY_TABLES[:2])


def protect(apps, schema_editor):
    from audit import triggers

    triggers.protect(schema_editor.connection, HISTORY_TABLES)


def protect_old(apps, schema_editor):
    from audit import triggers

    triggers.protect(schema_editor.connection, HISTORY_TABLES[:2])


class Migration(migrations.Migration):

    dependencies = [
        ('compliance', '0004_refusals_and_history_append_only'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(unprotect, protect_old),
        migrations.CreateModel(
            name='ScreeningDecoder',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.CharField(max_length=32, unique=True, verbose_name='code')),
                ('title', models.CharField(max_length=200, verbose_name='format')),
                ('is_enabled', models.BooleanField(default=True, verbose_name='enabled')),
            ],
            options={
                'verbose_name': 'decoder',
                'verbose_name_plural': 'decoders',
                'ordering': ['code'],
            },
        ),
        migrations.AddField(
            model_name='historicalscreeningpattern',
            name='source',
            field=models.CharField(blank=True, max_length=200, verbose_name='source'),
        ),
        migrations.AddField(
            model_name='historicalscreeningterm',
            name='source',
            field=models.CharField(blank=True, max_length=200, verbose_name='source'),
        ),
        migrations.AddField(
            model_name='screeningpattern',
            name='source',
            field=models.CharField(blank=True, max_length=200, verbose_name='source'),
        ),
        migrations.AddField(
            model_name='screeningterm',
            name='source',
            field=models.CharField(blank=True, max_length=200, verbose_name='source'),
        ),
        migrations.CreateModel(
            name='HistoricalScreeningDecoder',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('code', models.CharField(db_index=True, max_length=32, verbose_name='code')),
                ('title', models.CharField(max_length=200, verbose_name='format')),
                ('is_enabled', models.BooleanField(default=True, verbose_name='enabled')),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'historical decoder',
                'verbose_name_plural': 'historical decoders',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.RunPython(protect, unprotect),
    ]
