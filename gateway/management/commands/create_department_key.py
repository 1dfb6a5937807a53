from django.core.management.base import BaseCommand, CommandError

from compliance.selectors import department_by_code
from gateway.management.arguments import bounded_int, bounded_text, text
from gateway.services.keys import (
    MAX_KEY_LIFETIME_DAYS,
    department_key_create,
    key_expiry_from_days,
)


class Command(BaseCommand):
    help = "Create an API key for a department; the key is printed once, on the last line."

    def add_arguments(self, parser):
        parser.add_argument("department_code", type=text)
        parser.add_argument(
            "--name", default="", type=bounded_text(50), help="A label for the key (50 characters)."
        )
        parser.add_argument(
            "--expires-in-days",
            type=bounded_int(0, MAX_KEY_LIFETIME_DAYS),
            default=365,
            help=f"1 to {MAX_KEY_LIFETIME_DAYS}, or 0 for a key that never expires.",
        )

    def handle(self, *args, department_code, name, expires_in_days, **options):
        department = department_by_code(department_code)
        if department is None:
            raise CommandError(f"unknown department {department_code!r}")
        if not department.is_active:
            raise CommandError(f"department {department_code!r} is inactive")
        api_key, plaintext = department_key_create(
            department=department,
            name=name or f"{department.code} key",
            expires_at=key_expiry_from_days(expires_in_days),
        )
        expiry = api_key.expiry_date.isoformat() if api_key.expiry_date else "never"
        self.stderr.write(f"Key {api_key.prefix} for {department.code}, expires {expiry}.")
        self.stdout.write(plaintext)
