from django.core.management.base import BaseCommand

from audit.services import integrate_all


class Command(BaseCommand):
    help = (
        "Sequence every queued entry and sign a checkpoint (C2SP tlog-checkpoint) of the "
        "audit log. The integrator (audit_integrate) does this continuously; this command "
        "is for a log run without it."
    )

    def handle(self, *args, **options):
        checkpoint = integrate_all()
        self.stdout.write(
            f"checkpoint size={checkpoint.size} root={bytes(checkpoint.root_hash).hex()}"
        )
        self.stdout.write(checkpoint.note, ending="")
