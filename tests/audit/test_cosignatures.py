"""Witness cosignatures through the API, the audit_verify witness check, and the attack."""

from __future__ import annotations

import base64
import io
import json
import time
from contextlib import redirect_stdout

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from rest_framework.test import APIClient

from audit import merkle, note, triggers, witness, witnessing
from audit.actions import AuditAction
from audit.keys import signing_key, verifier_key
from audit.models import AuditEntry, Checkpoint, Cosignature, LogHead, TreeNode
from audit.services import audit_record, entry_bytes, integrate_all
from tests.conftest import body_json

URL = "/api/v1/audit/cosignatures"


class Witnesses:
    def __init__(self, count: int):
        self.keys = [Ed25519PrivateKey.generate() for _ in range(count)]
        self.names = [f"witness.example/w{i}" for i in range(count)]
        self.verifiers = [
            witness.cosigner_verifier_key(n, k) for n, k in zip(self.names, self.keys, strict=True)
        ]

    def line(self, signed_note: str, which: int, timestamp: int | None = None) -> str:
        body = signed_note.split("\n\n")[0] + "\n"
        stamp = int(time.time()) if timestamp is None else timestamp
        return witness.cosign(body, self.names[which], self.keys[which], stamp) + "\n"

    def cosign(self, signed_note: str, *which: int) -> str:
        return signed_note + "".join(self.line(signed_note, i) for i in which)


@pytest.fixture
def witnesses(settings):
    found = Witnesses(2)
    settings.AUDIT_WITNESS_KEYS = found.verifiers
    return found


def log(count: int) -> Checkpoint:
    with transaction.atomic():
        for i in range(count):
            audit_record(
                action=AuditAction.ADMIN_LOGIN, actor_kind="admin", actor_id="a", details={"n": i}
            )
    return integrate_all()


def post(text: str | bytes, content_type: str = "text/plain; charset=utf-8"):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return APIClient(HTTP_ACCEPT_LANGUAGE="en").generic(
        "POST", URL, data, content_type=content_type
    )


def cosign_entries():
    """Log entries a cosignature left: none (it would make a checkpoint to cosign, for ever)."""
    return AuditEntry.objects.filter(object_ref__startswith="checkpoint:")


@pytest.mark.django_db
class TestPostingCosignatures:
    def test_a_valid_cosignature_is_stored_with_its_audit_entry(self, witnesses):
        checkpoint = log(3)
        response = post(witnesses.cosign(checkpoint.note, 0, 1))
        assert response.status_code == 201
        assert body_json(response) == {
            "size": 3,
            "stored": witnesses.names,
            "duplicates": [],
        }
        stored = list(Cosignature.objects.order_by("witness_name"))
        assert [c.checkpoint_id for c in stored] == [checkpoint.pk, checkpoint.pk]
        assert stored[0].key_id == witness.parse_cosigner_key(witnesses.verifiers[0]).key_id.hex()
        assert [c.witness_name for c in stored] == witnesses.names
        # The log does not grow: the witness finds nothing new to cosign.
        assert not cosign_entries().exists()
        assert integrate_all().size == 3

    def test_a_repost_is_idempotent(self, witnesses):
        checkpoint = log(2)
        cosigned = witnesses.cosign(checkpoint.note, 0)
        assert post(cosigned).status_code == 201
        again = post(cosigned)
        assert again.status_code == 200
        assert body_json(again) == {"size": 2, "stored": [], "duplicates": [witnesses.names[0]]}
        # The same witness again with a later timestamp is still one cosignature.
        later = checkpoint.note + witnesses.line(checkpoint.note, 0, int(time.time()) + 5)
        assert post(later).status_code == 200
        assert Cosignature.objects.count() == 1
        assert not cosign_entries().exists()

    def test_a_forged_cosignature_is_refused(self, witnesses):
        checkpoint = log(2)
        line = witnesses.line(checkpoint.note, 0).rstrip("\n")
        prefix, name, encoded = line.split(" ")
        raw = bytearray(base64.b64decode(encoded))
        raw[20] ^= 0x40
        forged = f"{checkpoint.note}{prefix} {name} {base64.b64encode(bytes(raw)).decode()}\n"
        response = post(forged)
        assert response.status_code == 403
        assert body_json(response)["error"] == "forged_cosignature"
        assert witnesses.names[0] in body_json(response)["message"]
        assert not Cosignature.objects.exists()
        assert not cosign_entries().exists()

    def test_a_cosignature_replayed_from_another_checkpoint_is_refused(self, witnesses):
        first = log(2)
        second = log(2)
        replayed = second.note + witnesses.line(first.note, 0)
        response = post(replayed)
        assert (response.status_code, body_json(response)["error"]) == (403, "forged_cosignature")
        assert not Cosignature.objects.exists()

    def test_a_cosignature_by_an_unconfigured_key_is_refused(self, witnesses):
        checkpoint = log(2)
        stranger = Witnesses(1)
        mixed = witnesses.cosign(checkpoint.note, 0) + stranger.line(checkpoint.note, 0)
        response = post(mixed)
        assert response.status_code == 403
        assert body_json(response)["error"] == "unknown_witness"
        # All or nothing: the good cosignature beside it is not stored either.
        assert not Cosignature.objects.exists()

    def test_with_no_witness_configured_every_cosignature_is_refused(self, witnesses, settings):
        settings.AUDIT_WITNESS_KEYS = []
        checkpoint = log(1)
        response = post(witnesses.cosign(checkpoint.note, 0))
        assert (response.status_code, body_json(response)["error"]) == (403, "unknown_witness")

    def test_a_note_not_signed_by_the_log_is_refused(self, witnesses):
        checkpoint = log(2)
        body = checkpoint.note.split("\n\n")[0] + "\n"
        impostor = note.sign_note(
            body, django_settings.AUDIT_KEY_NAME, Ed25519PrivateKey.generate()
        )
        response = post(witnesses.cosign(impostor, 0))
        assert (response.status_code, body_json(response)["error"]) == (403, "bad_log_signature")

    def test_a_checkpoint_the_database_does_not_hold_is_404(self, witnesses):
        log(2)
        body = note.checkpoint_body(django_settings.AUDIT_LOG_ORIGIN, 99, bytes(32))
        signed = note.sign_note(body, django_settings.AUDIT_KEY_NAME, signing_key())
        response = post(witnesses.cosign(signed, 0))
        assert (response.status_code, body_json(response)["error"]) == (404, "unknown_checkpoint")

    def test_a_note_without_a_cosignature_is_refused(self, witnesses):
        checkpoint = log(1)
        response = post(checkpoint.note)
        assert (response.status_code, body_json(response)["error"]) == (400, "no_cosignature")

    def test_a_cosignature_dated_in_the_future_is_refused(self, witnesses):
        checkpoint = log(1)
        future = checkpoint.note + witnesses.line(checkpoint.note, 0, int(time.time()) + 3600)
        response = post(future)
        assert (response.status_code, body_json(response)["error"]) == (400, "invalid")
        assert "future" in body_json(response)["message"]

    @pytest.mark.parametrize(
        "text",
        ["", "hello", "origin\n1\nAAAA\n\n— w1 AAAA\n", "a\n\nb\n", "x" * 100],
    )
    def test_a_malformed_note_is_400(self, witnesses, text):
        log(1)
        response = post(text)
        assert (response.status_code, body_json(response)["error"]) == (400, "invalid")

    def test_a_body_that_is_not_utf8_is_400(self, witnesses):
        response = post(b"\xff\xfe\n\n")
        assert (response.status_code, body_json(response)["error"]) == (400, "invalid")

    def test_a_body_that_is_not_text_is_415(self, witnesses):
        checkpoint = log(1)
        response = post(
            json.dumps({"note": witnesses.cosign(checkpoint.note, 0)}), "application/json"
        )
        assert (response.status_code, body_json(response)["error"]) == (
            415,
            "unsupported_media_type",
        )

    def test_a_body_over_the_limit_is_413(self, witnesses):
        response = post("x" * (witnessing.MAX_NOTE_BYTES + 1))
        assert (response.status_code, body_json(response)["error"]) == (413, "too_large")

    def test_only_post_is_allowed(self, witnesses):
        response = APIClient().get(URL)
        assert (response.status_code, body_json(response)["error"]) == (405, "method_not_allowed")

    def test_the_checkpoint_text_carries_the_cosignatures(self, witnesses, client):
        checkpoint = log(2)
        cosigned = witnesses.cosign(checkpoint.note, 1)
        assert post(cosigned).status_code == 201
        response = client.get("/checkpoint")
        assert response.status_code == 200
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        assert response.content.decode() == cosigned

    def test_cosignatures_are_append_only(self, witnesses):
        checkpoint = log(1)
        post(witnesses.cosign(checkpoint.note, 0))
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            Cosignature.objects.update(witness_name="someone else")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            Cosignature.objects.all().delete()
        assert Cosignature.objects.get().witness_name == witnesses.names[0]


@pytest.mark.django_db(transaction=True)
def test_a_failure_midway_stores_no_cosignature(witnesses, monkeypatch):
    checkpoint = log(2)
    real_create = Cosignature.objects.create
    calls = []

    def second_fails(**kwargs):
        calls.append(kwargs)
        if len(calls) == 2:
            raise DatabaseError("disk full")
        return real_create(**kwargs)

    monkeypatch.setattr(Cosignature.objects, "create", second_fails)
    with pytest.raises(DatabaseError):
        witnessing.cosignature_add(witnesses.cosign(checkpoint.note, 0, 1))
    assert len(calls) == 2
    assert not Cosignature.objects.exists()


# --- audit_verify with witnesses ---------------------------------------------------------------


def verify(*args) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("audit_verify", *args, stdout=out)
    except CommandError as exc:
        return 1, str(exc)
    return 0, out.getvalue()


def key_args(witnesses, *which) -> list[str]:
    args = []
    for i in which:
        args += ["--witness-key", witnesses.verifiers[i]]
    return args


def save_witness_state(path, cosigned: str) -> None:
    parsed = note.parse_checkpoint(cosigned.split("\n\n")[0] + "\n")
    state = witness.State(parsed.origin, parsed.size, parsed.root_hash, cosigned, True)
    witness.save_state(path, state)


@pytest.mark.django_db
class TestVerifyWithWitnesses:
    def test_a_witnessed_log_verifies(self, witnesses, tmp_path):
        checkpoint = log(4)
        cosigned = witnesses.cosign(checkpoint.note, 0, 1)
        post(cosigned)
        save_witness_state(tmp_path / "w0.state", cosigned)
        status, out = verify(*key_args(witnesses, 0, 1), "--witnessed", str(tmp_path / "w0.state"))
        assert status == 0, out
        assert "witnessed OK" in out and "size 4" in out

    def test_without_a_quorum_it_fails(self, witnesses):
        checkpoint = log(4)
        post(witnesses.cosign(checkpoint.note, 0))
        status, message = verify(*key_args(witnesses, 0, 1), "--witness-quorum", "2")
        assert status == 1 and "no_quorum" in message
        assert verify(*key_args(witnesses, 0, 1), "--witness-quorum", "1")[0] == 0

    def test_a_checkpoint_newer_than_the_database_is_a_rollback(self, witnesses, tmp_path):
        checkpoint = log(4)
        post(witnesses.cosign(checkpoint.note, 0))
        body = note.checkpoint_body(django_settings.AUDIT_LOG_ORIGIN, 40, bytes(32))
        newer = witnesses.cosign(
            note.sign_note(body, django_settings.AUDIT_KEY_NAME, signing_key()), 0
        )
        save_witness_state(tmp_path / "w.state", newer)
        status, message = verify(*key_args(witnesses, 0), "--witnessed", str(tmp_path / "w.state"))
        assert status == 1 and "rollback" in message

    def test_bad_witness_options_are_refused(self, witnesses, tmp_path):
        log(1)
        assert "--witness-key" in verify("--witnessed", str(tmp_path / "x"))[1]
        assert (
            "does not exist"
            in verify(*key_args(witnesses, 0), "--witnessed", str(tmp_path / "none"))[1]
        )
        status, message = verify(*key_args(witnesses, 0), "--witness-quorum", "2")
        assert status == 1 and "quorum" in message
        assert "bad witness options" in verify("--witness-key", "nonsense")[1]
        twice = verify(*key_args(witnesses, 0, 0))[1]
        assert "given twice" in twice


def rewrite_history(sequence: int, actor_id: str) -> None:
    """The attack: change one entry and recompute every hash that depends on it."""
    triggers.unprotect(connection, triggers.protected_tables(connection))
    Cosignature.objects.all().delete()
    Checkpoint.objects.all().delete()
    entry = AuditEntry.objects.get(sequence=sequence)
    entry.actor_id = actor_id
    AuditEntry.objects.filter(pk=entry.pk).update(
        actor_id=actor_id, leaf_hash=merkle.leaf_hash(entry_bytes(entry))
    )
    frontier = merkle.CompactRange()
    nodes = []
    leaves = AuditEntry.objects.filter(sequence__isnull=False).order_by("sequence")
    for leaf in leaves.values_list("leaf_hash", flat=True):
        nodes += [
            TreeNode(node_id=TreeNode.key(level, index), hash=node)
            for level, index, node in frontier.append(bytes(leaf))
        ]
    TreeNode.objects.all().delete()
    TreeNode.objects.bulk_create(nodes)
    LogHead.objects.filter(pk=1).update(
        size=frontier.size,
        last_leaf_hash=bytes(leaves.last().leaf_hash),
        frontier=b"".join(frontier.to_hashes()),
    )


@pytest.mark.django_db(transaction=True)
def test_the_attack_is_caught_given_a_witness_state_file(live_server, settings, tmp_path):
    witness_key = tmp_path / "witness.key"
    out = io.StringIO()
    with redirect_stdout(out):
        assert (
            witness.main(["keygen", "--name", "regulator.example/w", "--out", str(witness_key)])
            == 0
        )
    key = out.getvalue().strip()
    settings.AUDIT_WITNESS_KEYS = [key]
    state = tmp_path / "witness.state"
    log(6)
    run = ["run", "--url", live_server.url, "--log-key", verifier_key()]
    assert (
        witness.main([*run, "--key-file", str(witness_key), "--state", str(state), "--once"]) == 0
    )
    assert verify("--witness-key", key, "--witnessed", str(state))[0] == 0

    rewrite_history(2, "court")
    integrate_all()  # the insider signs a fresh checkpoint of the rewritten log

    # Without witnesses, the rewritten log verifies: that is the hole.
    assert verify()[0] == 0
    # The witness's state file names the root the log had: the rewrite is caught.
    status, message = verify("--witness-key", key, "--witnessed", str(state))
    assert status == 1
    assert "inconsistent" in message and "rewritten" in message
    # Even without the state file, no checkpoint is cosigned any more.
    status, message = verify("--witness-key", key)
    assert status == 1 and "no_quorum" in message
    # And the witness itself refuses the rewritten log.
    args = [*run, "--key-file", str(witness_key), "--state", str(state), "--once"]
    assert witness.main(args) == witness.EXIT_FORK


@pytest.mark.django_db(transaction=True)
def test_deleting_the_witnessed_checkpoint_is_caught(settings, tmp_path):
    witnesses = Witnesses(1)
    settings.AUDIT_WITNESS_KEYS = witnesses.verifiers
    checkpoint = log(5)
    cosigned = witnesses.cosign(checkpoint.note, 0)
    assert post(cosigned).status_code == 201
    save_witness_state(tmp_path / "w.state", cosigned)
    triggers.unprotect(connection, triggers.protected_tables(connection))
    Cosignature.objects.all().delete()
    Checkpoint.objects.all().delete()
    status, message = verify(*key_args(witnesses, 0), "--witnessed", str(tmp_path / "w.state"))
    assert status == 1 and "missing_checkpoint" in message


@pytest.mark.django_db
def test_regulators_see_cosignatures_in_the_admin_read_only(witnesses, client):
    from django.contrib.auth import get_user_model

    checkpoint = log(1)
    post(witnesses.cosign(checkpoint.note, 0))
    cosignature = Cosignature.objects.get()
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw-123456")
    client.force_login(user)
    listing = client.get("/admin/audit/cosignature/")
    assert listing.status_code == 200
    assert witnesses.names[0] in listing.content.decode()
    page = client.get(f"/admin/audit/cosignature/{cosignature.pk}/change/")
    assert page.status_code == 200
    assert client.get("/admin/audit/cosignature/add/").status_code == 403
    client.post(f"/admin/audit/cosignature/{cosignature.pk}/change/", {"witness_name": "x"})
    assert Cosignature.objects.get().witness_name == witnesses.names[0]


@pytest.mark.django_db(transaction=True)
def test_a_rewrite_that_leaves_the_stored_tree_alone_is_caught_too(settings, tmp_path):
    from audit.models import VerificationRun

    witnesses = Witnesses(1)
    settings.AUDIT_WITNESS_KEYS = witnesses.verifiers
    checkpoint = log(5)
    cosigned = witnesses.cosign(checkpoint.note, 0)
    assert post(cosigned).status_code == 201
    save_witness_state(tmp_path / "w.state", cosigned)
    triggers.unprotect(connection, triggers.protected_tables(connection))
    Cosignature.objects.all().delete()
    Checkpoint.objects.all().delete()
    entry = AuditEntry.objects.get(sequence=1)
    entry.actor_id = "court"
    AuditEntry.objects.filter(pk=entry.pk).update(
        actor_id="court", leaf_hash=merkle.leaf_hash(entry_bytes(entry))
    )
    # The stored tree nodes still give the old root: roots must come from the entries.
    status, message = verify(*key_args(witnesses, 0), "--witnessed", str(tmp_path / "w.state"))
    assert status == 1 and "inconsistent" in message
    run = VerificationRun.objects.order_by("-id").first()
    assert not run.ok and "inconsistent" in run.message
