"""Create a resident's, reviewer's or regulator's login; never with the password in argv."""

from __future__ import annotations

import getpass
import os
import sys

from django.core.management.base import BaseCommand, CommandError

from gateway.errors import GatewayError
from gateway.management.arguments import text
from gateway.models import Role
from gateway.services.accounts import account_create

PASSWORD_ENV = "ACCOUNT_PASSWORD"  # noqa: S105 - the name of a variable, not a password


class Command(BaseCommand):
    help = (
        "Create an account: citizen (--citizen-id), reviewer (--department) or regulator. "
        f"The password comes from ${PASSWORD_ENV} or is asked for on the terminal."
    )

    def add_arguments(self, parser):
        parser.add_argument("role", choices=Role.values)
        parser.add_argument("username", type=text)
        parser.add_argument("--citizen-id", dest="citizen_id", default=None, type=text)
        parser.add_argument("--department", dest="department", default=None, type=text)
        parser.add_argument("--email", dest="email", default="", type=text)
        parser.add_argument(
            "--language",
            dest="language",
            default="",
            type=text,
            help="The language of e-mails to this person (zh-hans or en; default: the site's)",
        )

    def handle(self, *args, role, username, citizen_id, department, email, language, **options):
        password = self._password()
        try:
            account = account_create(
                role=role,
                username=username,
                password=password,
                citizen_id=citizen_id,
                department_code=department,
                email=email,
                language=language,
                actor_id="manage.py create_account",
            )
        except GatewayError as error:
            problems = error.details.get("problems") or []
            lines = [str(error.message)] + [f"  {p['path']}: {p['message']}" for p in problems]
            raise CommandError("\n".join(lines)) from None
        if role == Role.CITIZEN:
            where = f"resident {account.citizen.identity_masked}"
        elif role == Role.REVIEWER:
            where = f"department {department}"
        else:
            where = "regulators group, admin read-only"
        self.stdout.write(f"created {role} account {username!r} ({where})")

    def _password(self) -> str:
        password = os.environ.get(PASSWORD_ENV)
        if password:
            return password
        if not sys.stdin.isatty():
            raise CommandError(
                f"no password: set {PASSWORD_ENV} or run the command on a terminal to be asked"
            )
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("the passwords do not match")
        return first
