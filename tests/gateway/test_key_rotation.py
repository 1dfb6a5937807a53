"""Rotating the identity-number encryption key and the checkpoint signing key."""

from __future__ import annotations

import base64
import io
import os

from django.core.management import call_command

from audit.actions import AuditAction
from audit.keys import verifier_key
from audit.models import AuditEntry
from audit.services import integrate_all, verification_run
from gateway.identity import vault
from gateway.models import Citizen
from tests import factories
from tests.conftest import after_notice_period


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def test_an_identity_key_rotation_keeps_old_rows_readable_and_moves_them(world, settings):
    old = _key()
    settings.IDENTITY_ENCRYPTION_KEYS = f"old:{old}"
    first = factories.identity_number(serial=1)
    assert world.submit(world.key_a, [factories.deduction_record(first)]).status_code == 201

    settings.IDENTITY_ENCRYPTION_KEYS = f"new:{_key()},old:{old}"
    second = factories.identity_number(serial=2)
    assert world.submit(world.key_a, [factories.deduction_record(second)]).status_code == 201
    by_key = {vault().key_id_of(c.identity_ciphertext) for c in Citizen.objects.all()}
    assert by_key == {"old", "new"}
    assert {vault().decrypt(c.identity_ciphertext) for c in Citizen.objects.all()} == {
        first,
        second,
    }

    out = io.StringIO()
    call_command("rotate_identity_key", stdout=out)
    assert "re-encrypted 1" in out.getvalue()
    assert {vault().key_id_of(c.identity_ciphertext) for c in Citizen.objects.all()} == {"new"}
    assert AuditEntry.objects.filter(action=AuditAction.IDENTITY_KEY_ROTATED).exists()

    # The old key can now leave the ring; everything is still readable and findable.
    settings.IDENTITY_ENCRYPTION_KEYS = settings.IDENTITY_ENCRYPTION_KEYS.split(",")[0]
    assert {vault().decrypt(c.identity_ciphertext) for c in Citizen.objects.all()} == {
        first,
        second,
    }
    with after_notice_period():
        read = world.client(world.key_a).get(
            f"/api/v1/citizens/{first}/score?purpose=licensing_review"
        )
    assert read.json()["score"] == 97


def test_a_signing_key_rotation_keeps_old_checkpoints_verifiable(world, settings):
    world.submit(world.key_a, [factories.deduction_record(factories.identity_number(serial=3))])
    integrate_all()
    retired = verifier_key()
    settings.AUDIT_SIGNING_KEY = _key()
    world.submit(world.key_a, [factories.deduction_record(factories.identity_number(serial=4))])
    integrate_all()
    assert verifier_key() != retired

    settings.AUDIT_RETIRED_VERIFIER_KEYS = []
    assert not verification_run().ok
    settings.AUDIT_RETIRED_VERIFIER_KEYS = [retired]
    run = verification_run()
    assert run.ok, run.message
    assert run.checkpoints_checked == 2
