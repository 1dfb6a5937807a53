from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audit import note
from audit.services import verification_run
from audit.verify import terminal_progress
from audit.witness import (
    WitnessError,
    check_witnessed,
    checkpoint_sizes,
    load_state,
    parse_cosigner_key,
)
from audit.witnessing import cosigned_notes_oldest_first, log_verifier_keys


class Command(BaseCommand):
    help = (
        "Stream the log from the database: recompute every leaf and the tree, check every "
        "checkpoint, then the ledger against what the log committed; exit 1 naming the "
        "first index it cannot vouch for. With "
        "--witness-key, also require checkpoints cosigned by a quorum of witnesses and "
        "consistent with what they cosigned."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--witness-key",
            action="append",
            default=[],
            help="a witness's cosignature/v1 verifier key (repeatable)",
        )
        parser.add_argument(
            "--witness-quorum",
            type=int,
            default=None,
            help="how many of the witness keys must cosign (default: all of them)",
        )
        parser.add_argument(
            "--witnessed",
            action="append",
            default=[],
            type=Path,
            help="a witness's state file: the checkpoint it last cosigned (repeatable)",
        )

    def handle(self, *args, **options):
        keys, witnessed_files = options["witness_key"], options["witnessed"]
        if witnessed_files and not keys:
            raise CommandError("--witnessed needs the witnesses' keys (--witness-key)")
        witnessed = []
        for path in witnessed_files:
            try:
                state = load_state(path)
            except WitnessError as exc:
                raise CommandError(str(exc)) from exc
            if state is None:
                raise CommandError(f"witness state file {path} does not exist")
            witnessed.append(state.note)

        check = None
        outcome = []
        if keys:
            quorum = options["witness_quorum"]
            if quorum is None:
                quorum = len(keys)
            try:
                parsed = {str(parse_cosigner_key(key)) for key in keys}
            except note.NoteError as exc:
                raise CommandError(f"bad witness options: {exc}") from exc
            if len(parsed) != len(keys):
                raise CommandError("bad witness options: a witness key is given twice")
            if not 1 <= quorum <= len(keys):
                raise CommandError("bad witness options: the quorum must be 1..number of keys")

            def check(root_at):
                # root_at gives the roots verification_run recomputed from the entries.
                result = check_witnessed(
                    cosigned_notes_oldest_first(),
                    log_keys=log_verifier_keys(),
                    witness_keys=keys,
                    quorum=quorum,
                    root_at=root_at,
                    witnessed=witnessed,
                )
                outcome.append(result)
                return None if result.ok else result.line()

        run = verification_run(
            witness_check=check,
            roots_wanted=sorted(checkpoint_sizes(witnessed)),
            progress=terminal_progress(),
        )
        if not run.ok:
            raise CommandError(run.message)
        self.stdout.write(run.message)
        for result in outcome:
            self.stdout.write(result.line())
