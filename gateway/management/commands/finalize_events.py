from django.core.management.base import BaseCommand
from django.utils import timezone

from gateway.services.finality import events_finalize_due


class Command(BaseCommand):
    help = (
        "Make final each pending deduction whose review and lawsuit periods have passed "
        "(ZJ 11): from then on it counts; each is audited and its resident told. Idempotent; "
        "run daily."
    )

    def handle(self, *args, **options):
        done = events_finalize_due(now=timezone.now())
        self.stdout.write(f"made final {done} pending record(s)")
