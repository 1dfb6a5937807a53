"""Hostile arguments to every management command: a one-line error, never a traceback.

Each command is called as an operator would type it (``call_command`` with argv strings,
so argparse's own refusals count too) with malformed and out-of-range values. The
only acceptable failure is CommandError (what ``manage.py`` prints as one line, exit 1).
NUL is not among the values: an operating system cannot put U+0000 in a process's
arguments (they are C strings), so ``manage.py`` never receives one.
"""

from __future__ import annotations

import base64
import io

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.core.management import call_command
from django.core.management.base import CommandError

from gateway.models import DepartmentAPIKey, DepartmentSigningKey

pytestmark = pytest.mark.django_db

NUL = "\x00"
HUGE = "99999999999999999999"
PUBLIC_KEY = base64.b64encode(
    # A fixed key: the cases' ids name it, and every test process must collect the same ids.
    Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    .public_key()
    .public_bytes(Encoding.Raw, PublicFormat.Raw)
).decode()
ADD_KEY = ("department_signing_key", "add", "tax", PUBLIC_KEY)

CASES = [
    ("create_department_key", "tax", "--expires-in-days", "99999999"),
    ("create_department_key", "tax", "--expires-in-days", HUGE),
    ("create_department_key", "tax", "--expires-in-days", "-1"),
    ("create_department_key", "tax", "--expires-in-days", "abc"),
    ("create_department_key", "x" * 10_000),
    ("create_department_key", "tax", "--name", "x" * 10_000),
    ("escalate_overdue_appeals", "--today", "0001-01-01"),
    ("escalate_overdue_appeals", "--today", "9999-12-31"),
    ("escalate_overdue_appeals", "--today", "2026-W47-5"),
    ("expire_events", "--batch-size", "0"),
    ("expire_events", "--batch-size", HUGE),
    ("expire_events", "--batch-size", "abc"),
    ("rotate_identity_key", "--batch-size", "0"),
    ("rotate_identity_key", "--batch-size", HUGE),
    ("rotate_identity_key", "--batch-size", "-5"),
    ("create_account", "citizen", "someone", "--citizen-id", "12345"),
    ("create_account", "reviewer", "someone", "--department", "nowhere"),
    ("create_account", "regulator", "x" * 10_000),
    ("create_account", "regulator", "someone", "--email", "not an address"),
    ("create_account", "emperor", "someone"),
    # Instants are strict RFC 3339 within 1949 to 2100, as everywhere else.
    (*ADD_KEY, "--valid-days", "99999999"),  # a date past year 9999: OverflowError once
    (*ADD_KEY, "--valid-days", HUGE),
    (*ADD_KEY, "--valid-days", "0"),
    (*ADD_KEY, "--valid-from", "0001-01-01T00:00:00+14:00"),
    (*ADD_KEY, "--valid-until", "9999-12-31T23:59:59-14:00"),
    (*ADD_KEY, "--valid-until", "2101-01-01T00:00:00+08:00"),
    (*ADD_KEY, "--valid-from", "2026-W47-5T10:00:00+08:00"),  # a week date
    (*ADD_KEY, "--valid-from", "2026-324T10:00:00+08:00"),  # an ordinal date
    (*ADD_KEY, "--valid-from", "2026-11-20T10:00:00"),  # no offset
    (*ADD_KEY, "--valid-from", "2026-11-20T10:00:00+08:00:30.5"),  # an offset with seconds
    (*ADD_KEY, "--valid-from", "2026-11-20"),  # a day is not an instant
    (*ADD_KEY, "--valid-from", "20261120T100000+0800"),
    ("escalate_overdue_appeals", "--today", "2026-324"),
    ("escalate_overdue_appeals", "--today", "20261120"),
    ("escalate_overdue_appeals", "--today", "1948-12-31"),
    ("escalate_overdue_appeals", "--today", "2101-01-01"),
    # Bytes that are not UTF-8 reach Python's argv as unpaired surrogates (PostgreSQL
    # refused them mid-command, the log could not hash them): found by test_fuzz.py.
    ("create_account", "regulator", "reg\udcff"),
    ("create_account", "regulator", "someone", "--email", "a\udcff@example.org"),
    ("create_department_key", "tax\udcff"),
    ("create_department_key", "tax", "--name", "\udcfe"),
    ("department_signing_key", "list", "tax\udcff"),
    ("department_signing_key", "revoke", "tax", "k1", "--reason", "\udcff"),
    ("audit_export", "{tmp}/audit.export", "--actor", "me\udcff"),
    ("audit_export", "/nonexistent-folder/audit.export"),
    ("audit_export", "{tmp}/audit.export", "--actor", "x" * 10_000),
]


@pytest.mark.parametrize(
    "argv",
    CASES,
    ids=[
        " ".join(c)[:60].replace(NUL, "NUL").encode("ascii", "backslashreplace").decode()
        for c in CASES
    ],
)
def test_a_hostile_argument_is_a_command_error(world, monkeypatch, tmp_path, argv):
    monkeypatch.setenv("ACCOUNT_PASSWORD", "a long enough passphrase 42")
    name, *args = argv
    args = [arg.replace("{tmp}", str(tmp_path)) for arg in args]
    keys_before = DepartmentAPIKey.objects.count(), DepartmentSigningKey.objects.count()
    with pytest.raises(CommandError) as refused:
        call_command(name, *args, stdout=io.StringIO(), stderr=io.StringIO())
    message = str(refused.value)
    assert message and "Traceback" not in message
    assert NUL not in message
    message.encode("utf-8")  # a line manage.py can print
    assert not list(tmp_path.iterdir())  # no file begun
    # Nothing half-made.
    assert (DepartmentAPIKey.objects.count(), DepartmentSigningKey.objects.count()) == keys_before


def test_a_key_within_the_bound_is_still_made(world):
    out = io.StringIO()
    call_command(
        "create_department_key",
        "tax",
        "--expires-in-days",
        "3650",
        stdout=out,
        stderr=io.StringIO(),
    )
    assert len(out.getvalue().strip().splitlines()[-1]) > 20


def test_a_signing_key_with_an_rfc_3339_validity_is_still_added(world):
    out = io.StringIO()
    call_command(
        *ADD_KEY,
        "--valid-from",
        "2026-11-20T10:00:00+08:00",
        "--valid-until",
        "2027-11-20T10:00:00Z",
        stdout=out,
        stderr=io.StringIO(),
    )
    key = DepartmentSigningKey.objects.get()
    assert key.valid_until.isoformat() == "2027-11-20T10:00:00+00:00"


def test_escalation_from_a_sane_day_still_runs(world):
    out = io.StringIO()
    call_command("escalate_overdue_appeals", "--today", "2026-11-20", stdout=out)
    assert "escalated 0 overdue appeal(s)" in out.getvalue()
