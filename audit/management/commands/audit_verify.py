from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audit import note
from audit.services import verification_run
from audit.witness import WitnessError, load_state


class Command(BaseCommand):
    help = (
        "Recompute every leaf, the chain and the tree from the database, check every "
        "checkpoint's signature and consistency; exit 1 naming the first bad index. With "
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

        run = verification_run()
        if not run.ok:
            raise CommandError(run.message)
        self.stdout.write(run.message)
        if not keys:
            return

        from audit.witnessing import witnessed_check

        quorum = options["witness_quorum"]
        if quorum is None:
            quorum = len(keys)
        try:
            result = witnessed_check(witness_keys=keys, quorum=quorum, witnessed=witnessed)
        except (ValueError, note.NoteError) as exc:
            raise CommandError(f"bad witness options: {exc}") from exc
        if not result.ok:
            raise CommandError(result.line())
        self.stdout.write(result.line())
