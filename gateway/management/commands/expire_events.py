import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from gateway.management.arguments import batch_size
from gateway.services.expiry import BATCH_SIZE, events_expire


class Command(BaseCommand):
    help = (
        "Stop serving negative items whose period has ended (SH 35, ZJ 16, CRR 16): mark them "
        "expired, take them out of the stored scores, audit and notify. Safe to run from cron "
        "as often as wanted."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size", type=batch_size, default=BATCH_SIZE, help="Events per transaction."
        )

    def handle(self, *args, batch_size, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be 1 or more")
        tty = sys.stderr.isatty()

        def progress(total):
            if tty:
                self.stderr.write(f"\r{total.events:,} event(s) expired so far", ending="")

        result = events_expire(now=timezone.now(), batch_size=batch_size, progress=progress)
        if tty:
            self.stderr.write("")
        self.stdout.write(
            f"expired {result.events} event(s) of {result.residents} resident(s) "
            f"(counting per batch); {result.notices} resident notice(s)"
        )
