import signal
import sys
import threading

from django.core.management.base import BaseCommand

from audit.integrator import Integrator


class Command(BaseCommand):
    help = (
        "Run the audit log's integrator: sequence queued entries in batches, extend the "
        "tree and sign a checkpoint at most every second. A long-running service; start "
        "one or more (on any hosts): one leads, the others wait and take over."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--once", action="store_true", help="integrate what is queued now, sign, and exit"
        )
        parser.add_argument("--batch-size", type=int, default=5000, choices=range(1, 100_001),
                            metavar="N", help="entries per transaction (1-100000)")  # fmt: skip
        parser.add_argument("--poll-interval", type=float, default=0.1, metavar="SECONDS")

    def handle(self, *args, once, batch_size, poll_interval, **options):
        if once:
            from audit.services import integrate_all

            checkpoint = integrate_all()
            self.stdout.write(f"integrated; checkpoint size={checkpoint.size}")
            return
        if not 0.01 <= poll_interval <= 60:
            self.stderr.write("--poll-interval must be between 0.01 and 60 seconds")
            sys.exit(2)
        verbose = options["verbosity"] >= 2

        def report(batch):
            if verbose:
                self.stdout.write(f"sequenced {batch.sequenced}, log size {batch.size}")

        integrator = Integrator(batch_size=batch_size, poll_interval=poll_interval,
                                on_batch=report)  # fmt: skip
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        self.stdout.write("audit integrator started (one leads; others wait to take over)")
        integrator.run(stop)
        self.stdout.write("audit integrator stopped")
