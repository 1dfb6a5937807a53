import sys

from django.core.management.base import BaseCommand, CommandError

from gateway.management.arguments import batch_size, bounded_int
from gateway.services.scores import CHUNK_SIZE, scores_find_drift_chunks, scores_repair_drift


class Command(BaseCommand):
    help = (
        "Recompute every score from the ledger and report drift; --fix repairs it. "
        "Exits 1 when drift was found and not repaired. Works through the residents in "
        "chunks (one transaction each when repairing); --after resumes an interrupted run "
        "from the last resident id it reported."
    )

    def add_arguments(self, parser):
        parser.add_argument("--fix", action="store_true")
        parser.add_argument(
            "--chunk-size", type=batch_size, default=CHUNK_SIZE, help="Residents per query."
        )
        parser.add_argument(
            "--after",
            type=bounded_int(0, 2**63 - 1),
            default=0,
            metavar="RESIDENT_ID",
            help="Start after this resident id (resume an interrupted run).",
        )

    def handle(self, *args, fix, chunk_size, after, **options):
        tty = sys.stderr.isatty()
        checked = found = 0
        for chunk in scores_find_drift_chunks(chunk_size=chunk_size, after=after):
            checked += chunk.checked
            found += len(chunk.drift)
            for item in chunk.drift:
                self.stdout.write(
                    f"drift: resident #{item.citizen_id} stored {item.stored_score} "
                    f"(sum {item.stored_points_sum}) ledger {item.ledger_score} "
                    f"(sum {item.ledger_points_sum})"
                )
            if fix and chunk.drift:
                scores_repair_drift(chunk.drift)
            if tty:
                self.stderr.write(
                    f"\r{checked:,} resident(s) checked, up to #{chunk.last_citizen_id}",
                    ending="",
                )
        if tty:
            self.stderr.write("")
        if not found:
            self.stdout.write("no drift: every score equals its recomputation from the ledger")
            return
        if fix:
            self.stdout.write(f"repaired {found} score(s)")
            return
        raise CommandError(f"{found} score(s) drifted from the ledger; run with --fix")
