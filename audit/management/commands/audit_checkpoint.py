from django.core.management.base import BaseCommand

from audit.services import checkpoint_create


class Command(BaseCommand):
    help = "Sign a checkpoint (C2SP tlog-checkpoint) of the audit log at its current size."

    def handle(self, *args, **options):
        checkpoint = checkpoint_create()
        self.stdout.write(
            f"checkpoint size={checkpoint.size} root={bytes(checkpoint.root_hash).hex()}"
        )
        self.stdout.write(checkpoint.note, ending="")
