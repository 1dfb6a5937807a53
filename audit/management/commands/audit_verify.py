from django.core.management.base import BaseCommand, CommandError

from audit.services import verification_run


class Command(BaseCommand):
    help = (
        "Recompute every leaf, the chain and the tree from the database, check every "
        "checkpoint's signature and consistency; exit 1 naming the first bad index."
    )

    def handle(self, *args, **options):
        run = verification_run()
        if not run.ok:
            raise CommandError(run.message)
        self.stdout.write(run.message)
