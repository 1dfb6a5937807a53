import argparse
import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError

from compliance.models import SignaturePolicy
from compliance.selectors import department_by_code
from gateway.errors import GatewayError
from gateway.management.arguments import bounded_int, text
from gateway.services.signing import (
    signature_policy_set,
    signing_key_add,
    signing_key_revoke,
    signing_keys_export,
    signing_keys_of,
)
from gateway.validation import EARLIEST_YEAR, LATEST_YEAR, OutOfRange, parse_instant

# A key valid for longer than a century outlives every date the gateway accepts.
MAX_VALID_DAYS = 36_500


def _moment(text: str) -> dt.datetime:
    """An RFC 3339 date-time with its offset, within the years every input is held to."""
    try:
        return parse_instant(text)
    except OutOfRange:
        raise argparse.ArgumentTypeError(
            f"must be within the years {EARLIEST_YEAR} to {LATEST_YEAR}"
        ) from None
    except ValueError:
        raise argparse.ArgumentTypeError(
            "must be an RFC 3339 date-time with its offset, e.g. 2026-11-20T09:00:00+08:00"
        ) from None


class Command(BaseCommand):
    help = (
        "Register, revoke and list a department's Ed25519 public keys for signed "
        "submissions, and set its signature policy. Every change is audited."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        add = actions.add_parser("add", help="register a public key (base64, from `keygen`)")
        add.add_argument("department_code", type=text)
        add.add_argument("public_key", type=text)
        add.add_argument("--valid-from", type=_moment, help="RFC 3339 with offset; default now")
        add.add_argument("--valid-until", type=_moment, help="RFC 3339 with offset")
        add.add_argument(
            "--valid-days", type=bounded_int(1, MAX_VALID_DAYS), help="instead of --valid-until"
        )
        revoke = actions.add_parser("revoke", help="revoke a key by its id")
        revoke.add_argument("department_code", type=text)
        revoke.add_argument("key_id", type=text)
        revoke.add_argument("--reason", default="", type=text)
        listing = actions.add_parser("list", help="list a department's keys")
        listing.add_argument("department_code", type=text)
        export = actions.add_parser(
            "export", help="every department's keys as JSON, for the offline verifier"
        )
        export.add_argument("department_code", nargs="?", type=text, help="one department only")
        policy = actions.add_parser("policy", help="set when signatures are required")
        policy.add_argument("department_code", type=text)
        policy.add_argument("policy", choices=SignaturePolicy.values)

    def handle(self, *args, action, department_code, **options):
        if action == "export":
            self.stdout.write(json.dumps(signing_keys_export(department_code), indent=2))
            return
        department = department_by_code(department_code)
        if department is None:
            raise CommandError(f"unknown department {department_code!r}")
        try:
            if action == "add":
                self._add(department, **options)
            elif action == "revoke":
                key = signing_key_revoke(
                    department=department, key_id=options["key_id"], reason=options["reason"]
                )
                self.stdout.write(f"revoked {key.key_id} at {key.revoked_at.isoformat()}")
            elif action == "policy":
                signature_policy_set(department=department, policy=options["policy"])
                self.stdout.write(f"{department.code}: signatures {options['policy']}")
            else:
                self._list(department)
        except GatewayError as error:
            raise CommandError(str(error.message)) from None

    def _add(self, department, *, public_key, valid_from, valid_until, valid_days, **_):
        if valid_days is not None:
            if valid_until is not None or valid_days <= 0:
                raise CommandError("give either --valid-until or a positive --valid-days")
            valid_from = valid_from or dt.datetime.now(dt.UTC)
            valid_until = valid_from + dt.timedelta(days=valid_days)
        key = signing_key_add(
            department=department,
            public_key=public_key,
            valid_from=valid_from,
            valid_until=valid_until,
        )
        self.stderr.write(f"Signing key for {department.code} registered; sign with key id:")
        self.stdout.write(key.key_id)

    def _list(self, department):
        self.stdout.write(f"{department.code}: signatures {department.signature_policy}")
        for key in signing_keys_of(department):
            until = key.valid_until.isoformat() if key.valid_until else "-"
            state = f"revoked {key.revoked_at.isoformat()}" if key.revoked_at else "active"
            self.stdout.write(
                f"{key.key_id}  {key.public_key}  from {key.valid_from.isoformat()}"
                f"  until {until}  {state}"
            )
