"""The table of Django's database cache, where every worker and host counts rate limits.

`createcachetable` is idempotent and creates only what CACHES names, so `migrate` alone
prepares a new database (production runs no other set-up command).
"""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("gateway", "0004_ledger_bound_to_log")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
