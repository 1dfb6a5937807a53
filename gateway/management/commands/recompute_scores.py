from django.core.management.base import BaseCommand, CommandError

from gateway.services.scores import scores_find_drift, scores_repair_drift


class Command(BaseCommand):
    help = (
        "Recompute every score from the ledger and report drift; --fix repairs it. "
        "Exits 1 when drift was found and not repaired."
    )

    def add_arguments(self, parser):
        parser.add_argument("--fix", action="store_true")

    def handle(self, *args, fix, **options):
        drift = scores_find_drift()
        for item in drift:
            self.stdout.write(
                f"drift: resident #{item.citizen_id} stored {item.stored_score} "
                f"(sum {item.stored_points_sum}) ledger {item.ledger_score} "
                f"(sum {item.ledger_points_sum})"
            )
        if not drift:
            self.stdout.write("no drift: every score equals its recomputation from the ledger")
            return
        if fix:
            scores_repair_drift(drift)
            self.stdout.write(f"repaired {len(drift)} score(s)")
            return
        raise CommandError(f"{len(drift)} score(s) drifted from the ledger; run with --fix")
