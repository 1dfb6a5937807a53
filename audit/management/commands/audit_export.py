from django.core.management.base import BaseCommand, CommandError

from audit.models import AuditEntry
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
        limit = AuditEntry._meta.get_field("actor_id").max_length
        if not actor or len(actor) > limit:
            raise CommandError(f"--actor must be 1 to {limit} characters")
        # A terminal may pass bytes that are not UTF-8 (kept as unpaired surrogates): the
        # export's own entry could not be hashed, and the file would be left half-written.
        if not actor.isprintable():
            raise CommandError("--actor must be printable UTF-8 text")
        try:
            with open(file, "wb") as stream:
                size, checkpoints, key = log_export(
                    stream, actor_id=actor, progress=terminal_progress("exporting")
                )
        except OSError as error:
            raise CommandError(f"cannot write {file}: {error.strerror}") from None
        self.stdout.write(f"exported {size} entries and {checkpoints} checkpoints to {file}")
        self.stdout.write(f"verifier key: {key}")
