from django.core.management.base import BaseCommand

from gateway.identity import vault
from gateway.management.arguments import batch_size
from gateway.services.keys import identity_numbers_reencrypt


class Command(BaseCommand):
    help = (
        "Re-encrypt every resident identity number under the first (active) key of "
        "IDENTITY_ENCRYPTION_KEYS; afterwards the old keys can be removed from the ring."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=batch_size, default=500)

    def handle(self, *args, batch_size, **options):
        count = identity_numbers_reencrypt(batch_size=batch_size)
        self.stdout.write(
            f"re-encrypted {count} identity number(s) under key {vault().active_key_id!r}"
        )
