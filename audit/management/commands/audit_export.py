from django.core.management.base import BaseCommand

from audit.services import log_export
from audit.verify import terminal_progress


class Command(BaseCommand):
    help = (
        "Write the latest signed prefix of the audit log, with its checkpoints, to FILE, for "
        "offline verification with `python -m audit.verify FILE --public-key KEY`. Streams "
        "in bounded memory and takes no lock an audited act waits for."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--actor", default="manage.py", help="Who asked for the export (recorded)."
        )

    def handle(self, *args, file, actor, **options):
        with open(file, "wb") as stream:
            size, checkpoints, key = log_export(
                stream, actor_id=actor, progress=terminal_progress("exporting")
            )
        self.stdout.write(f"exported {size} entries and {checkpoints} checkpoints to {file}")
        self.stdout.write(f"verifier key: {key}")
