"""Signed submissions (RFC 9421 over a Content-Digest of the body): every refusal and
the record a regulator checks offline."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
from unittest import mock

import pytest
from credit_gateway_client.signing import Signer, public_key_raw
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import CommandError, call_command
from django.test import override_settings

from audit.actions import AuditAction
from audit.models import AuditEntry
from compliance.models import SignaturePolicy
from gateway.errors import Conflict, InvalidRequest, NotFound
from gateway.logging import has_identity_shape
from gateway.models import DepartmentSigningKey, ScoreEvent, Submission
from gateway.services.signing import signature_policy_set, signing_key_add, signing_key_revoke
from gateway.signatures import key_id_for, signature_base
from tests import factories
from tests.conftest import body_json

CITIZEN = "320505199003074510"
PATH = "/api/v1/submissions"


def reward_record(citizen_id: str = CITIZEN) -> dict:
    return {
        "citizen_id": citizen_id,
        "rule": "volunteer.service_hours",
        "occurred_at": "2026-11-01T09:00:00+08:00",
        "evidence": {"reference": "VF-2026-1", "issued_by": "志愿者总会"},
    }


@pytest.fixture
def signer(world) -> Signer:
    private_key = Ed25519PrivateKey.generate()
    public = base64.b64encode(public_key_raw(private_key)).decode()
    signing_key_add(department=world.dept_a, public_key=public)
    return Signer(private_key)


def post(world, body: bytes, headers: dict[str, str] | None = None, key: str | None = None):
    extra = {
        "HTTP_" + name.upper().replace("-", "_"): value
        for name, value in (headers or {}).items()
        if name != "Content-Type"
    }
    return world.client(key or world.key_a).generic(
        "POST", PATH, body, content_type="application/json", **extra
    )


def signed_post(world, signer: Signer, body: bytes, **kwargs):
    return post(world, body, signer.headers(body, path=PATH, **kwargs))


def refusal_entries():
    return AuditEntry.objects.filter(action=AuditAction.SUBMISSION_REFUSED_SIGNATURE)


def assert_refused(response, error: str, reason: str):
    assert response.status_code == 401, response.content
    payload = body_json(response)
    assert payload["error"] == error
    assert payload["reason"] == reason
    assert payload["message"]
    assert not Submission.objects.exists()
    assert not ScoreEvent.objects.exists()
    entry = refusal_entries().latest("sequence")
    assert entry.details["reason"] == reason


class TestAccepted:
    def test_a_signed_submission_keeps_its_signature_and_commits_it_in_the_audit_entry(
        self, world, signer
    ):
        body = factories.body([factories.deduction_record(CITIZEN)], "signed-1")
        response = signed_post(world, signer, body)
        assert response.status_code == 201, response.content
        submission = Submission.objects.get()
        assert submission.signature_key_id == signer.key_id
        entry = AuditEntry.objects.get(action=AuditAction.SUBMISSION_ACCEPTED)
        recorded = entry.details["signature"]
        assert recorded == submission.signature
        assert recorded["key_id"] == signer.key_id
        # The entry alone rebuilds the signed bytes, and the department's key verifies them.
        base = signature_base(recorded["components"], recorded["input"])
        signer.private_key.public_key().verify(base64.b64decode(recorded["value"]), base)
        digest = base64.b64encode(bytes.fromhex(entry.details["body_sha256"])).decode()
        covered = dict(recorded["components"])
        assert covered["content-digest"] == f"sha-256=:{digest}:"
        assert covered["@path"] == PATH

    def test_a_key_id_whose_hex_holds_an_identity_shaped_run_is_kept_whole(self, world):
        # About one key in 300 has 18 digits in a row in its id's hex: the audit boundary
        # must not mask them, or the entry no longer names the key that signed.
        private_key = next(
            key
            for key in iter(Ed25519PrivateKey.generate, None)
            if has_identity_shape(key_id_for(public_key_raw(key)))
        )
        signing_key_add(
            department=world.dept_a,
            public_key=base64.b64encode(public_key_raw(private_key)).decode(),
        )
        signer = Signer(private_key)
        body = factories.body([factories.deduction_record(CITIZEN)], "signed-digits")
        assert signed_post(world, signer, body).status_code == 201
        recorded = AuditEntry.objects.get(action=AuditAction.SUBMISSION_ACCEPTED).details
        assert recorded["signature"]["key_id"] == signer.key_id
        assert f'keyid="{signer.key_id}"' in recorded["signature"]["input"]
        base = signature_base(recorded["signature"]["components"], recorded["signature"]["input"])
        private_key.public_key().verify(base64.b64decode(recorded["signature"]["value"]), base)

    def test_unsigned_submissions_pass_under_the_optional_policy(self, world):
        response = post(world, factories.body([factories.deduction_record(CITIZEN)]))
        assert response.status_code == 201
        assert Submission.objects.get().signature is None
        entry = AuditEntry.objects.get(action=AuditAction.SUBMISSION_ACCEPTED)
        assert "signature" not in entry.details

    def test_a_signed_replay_with_the_same_key_and_body_has_no_second_effect(self, world, signer):
        body = factories.body([factories.deduction_record(CITIZEN)], "signed-replay")
        first = signed_post(world, signer, body)
        again = signed_post(world, signer, body)
        assert again.status_code == 201
        assert again["Idempotent-Replayed"] == "true"
        assert body_json(again) == body_json(first)
        assert ScoreEvent.objects.count() == 1

    def test_required_for_deductions_lets_unsigned_rewards_through(self, world):
        signature_policy_set(department=world.dept_a, policy=SignaturePolicy.DEDUCTIONS)
        response = post(world, factories.body([reward_record()]))
        assert response.status_code == 201, response.content

    def test_a_signed_deduction_passes_where_deductions_need_signing(self, world, signer):
        signature_policy_set(department=world.dept_a, policy=SignaturePolicy.DEDUCTIONS)
        body = factories.body([factories.deduction_record(CITIZEN)])
        assert signed_post(world, signer, body).status_code == 201


class TestRefused:
    def test_a_missing_signature_is_refused_where_required(self, world, signer):
        signature_policy_set(department=world.dept_a, policy=SignaturePolicy.REQUIRED)
        response = post(world, factories.body([reward_record()]))
        assert_refused(response, "signature_required", "missing")

    def test_an_unsigned_deduction_is_refused_where_deductions_need_signing(self, world):
        signature_policy_set(department=world.dept_a, policy=SignaturePolicy.DEDUCTIONS)
        body = factories.body([reward_record(), factories.deduction_record(CITIZEN)])
        assert_refused(post(world, body), "signature_required", "missing")

    def test_a_signature_over_another_body_is_refused(self, world, signer):
        signed = factories.body([factories.deduction_record(CITIZEN)], "a")
        sent = factories.body([factories.deduction_record(CITIZEN)], "b")
        response = post(world, sent, signer.headers(signed, path=PATH))
        assert_refused(response, "signature_invalid", "digest_mismatch")

    def test_a_replayed_signed_body_under_another_idempotency_key_is_refused(self, world, signer):
        body = factories.body([factories.deduction_record(CITIZEN)], "first-key")
        headers = signer.headers(body, path=PATH)
        assert post(world, body, headers).status_code == 201
        replayed = body.replace(b"first-key", b"other-key")
        response = post(world, replayed, headers)
        assert response.status_code == 401
        assert body_json(response)["reason"] == "digest_mismatch"
        assert Submission.objects.count() == 1

    def test_a_forged_signature_with_a_matching_digest_is_refused(self, world, signer):
        body = factories.body([factories.deduction_record(CITIZEN)])
        forger = Signer(Ed25519PrivateKey.generate())
        headers = forger.headers(body, path=PATH)
        # The forger claims the registered key's id.
        headers["Signature-Input"] = headers["Signature-Input"].replace(
            forger.key_id, signer.key_id
        )
        assert_refused(post(world, body, headers), "signature_invalid", "bad_signature")

    def test_an_unknown_key_is_refused(self, world):
        body = factories.body([factories.deduction_record(CITIZEN)])
        stranger = Signer(Ed25519PrivateKey.generate())
        assert_refused(signed_post(world, stranger, body), "signature_invalid", "unknown_key")

    def test_a_claimed_key_id_is_neither_echoed_nor_recorded_unless_registered(self, world):
        body = factories.body([factories.deduction_record(CITIZEN)])
        headers = Signer(Ed25519PrivateKey.generate()).headers(body, path=PATH)
        headers["Signature-Input"] = headers["Signature-Input"].replace(
            headers["Signature-Input"].split('keyid="')[1].split('"')[0], CITIZEN
        )
        response = post(world, body, headers)
        assert response.status_code == 401
        assert CITIZEN not in response.content.decode()
        assert CITIZEN not in json.dumps(refusal_entries().get().details)

    def test_a_revoked_keys_id_is_named(self, world, signer):
        signing_key_revoke(department=world.dept_a, key_id=signer.key_id)
        body = factories.body([factories.deduction_record(CITIZEN)])
        response = signed_post(world, signer, body)
        assert body_json(response)["key_id"] == signer.key_id
        assert refusal_entries().get().details["key_id"] == signer.key_id

    def test_another_departments_key_is_unknown_to_this_one(self, world, signer):
        body = factories.body([reward_record()])
        response = post(world, body, signer.headers(body, path=PATH), key=world.key_b)
        assert_refused(response, "signature_invalid", "unknown_key")

    def test_a_revoked_key_is_refused(self, world, signer):
        signing_key_revoke(department=world.dept_a, key_id=signer.key_id, reason="lost")
        body = factories.body([factories.deduction_record(CITIZEN)])
        assert_refused(signed_post(world, signer, body), "signature_invalid", "key_revoked")

    def test_an_expired_key_is_refused(self, world):
        private_key = Ed25519PrivateKey.generate()
        now = dt.datetime.now(dt.UTC)
        signing_key_add(
            department=world.dept_a,
            public_key=base64.b64encode(public_key_raw(private_key)).decode(),
            valid_from=now - dt.timedelta(days=30),
            valid_until=now - dt.timedelta(days=1),
        )
        body = factories.body([factories.deduction_record(CITIZEN)])
        response = signed_post(world, Signer(private_key), body)
        assert_refused(response, "signature_invalid", "key_not_valid")

    @pytest.mark.parametrize("offset", [-400, 120])
    def test_a_signature_outside_the_clock_window_is_refused(self, world, signer, offset):
        body = factories.body([factories.deduction_record(CITIZEN)])
        created = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=offset)
        response = signed_post(world, signer, body, created=created)
        assert_refused(response, "signature_invalid", "clock_skew")
        assert "300" in body_json(response)["message"]

    @pytest.mark.parametrize("created", ["-99999999999", "999999999999999"])
    def test_a_created_time_out_of_any_range_is_clock_skew(self, world, signer, created):
        body = factories.body([factories.deduction_record(CITIZEN)])
        headers = signer.headers(body, path=PATH)
        stamp = headers["Signature-Input"].split("created=")[1].split(";")[0]
        headers["Signature-Input"] = headers["Signature-Input"].replace(stamp, created)
        assert_refused(post(world, body, headers), "signature_invalid", "clock_skew")

    def test_a_signature_that_does_not_cover_the_digest_is_refused(self, world, signer):
        body = factories.body([factories.deduction_record(CITIZEN)])
        headers = signer.headers(body, path=PATH)
        headers["Signature-Input"] = headers["Signature-Input"].replace(' "content-digest"', "")
        assert_refused(post(world, body, headers), "signature_invalid", "coverage")

    @pytest.mark.parametrize(
        "signature_input",
        ["garbage((", 'sig1=("@method");created="x";keyid="k"', 'sig1=("@path")'],
    )
    def test_malformed_signature_headers_are_refused(self, world, signer, signature_input):
        body = factories.body([factories.deduction_record(CITIZEN)])
        headers = signer.headers(body, path=PATH)
        headers["Signature-Input"] = signature_input
        assert_refused(post(world, body, headers), "signature_invalid", "malformed")

    @pytest.mark.parametrize(
        "parameter", ['nonce="320505199003074510"', 'tag="x"', "expires=1796331728"]
    )
    def test_a_parameter_outside_the_profile_is_refused(self, world, signer, parameter):
        # Only checked values may sit in the input the audit entry keeps whole.
        body = factories.body([factories.deduction_record(CITIZEN)])
        headers = signer.headers(body, path=PATH)
        headers["Signature-Input"] += ";" + parameter
        assert_refused(post(world, body, headers), "signature_invalid", "malformed")
        assert "320505199003074510" not in json.dumps(refusal_entries().get().details)

    def test_the_reason_is_given_in_chinese_too(self, world, signer):
        signature_policy_set(department=world.dept_a, policy=SignaturePolicy.REQUIRED)
        response = world.client(world.key_a, language="zh-hans").generic(
            "POST", PATH, factories.body([reward_record()]), content_type="application/json"
        )
        assert response.status_code == 401
        assert "签名" in body_json(response)["message"]

    def test_no_identity_number_reaches_the_refusal_entry(self, world, signer):
        body = factories.body([factories.deduction_record(CITIZEN)])
        headers = signer.headers(body + b" ", path=PATH)
        post(world, body, headers)
        assert CITIZEN not in json.dumps(refusal_entries().get().details)


@pytest.mark.django_db(transaction=True)
def test_a_failure_after_the_signature_check_stores_nothing(world, signer):
    body = factories.body([factories.deduction_record(CITIZEN)], "atomic-1")
    with (
        mock.patch(
            "gateway.services.submissions.log_append", side_effect=RuntimeError("disk gone")
        ),
        pytest.raises(RuntimeError),
    ):
        signed_post(world, signer, body)
    assert not Submission.objects.exists()
    assert not ScoreEvent.objects.exists()
    # The same signed body then goes through once.
    assert signed_post(world, signer, body).status_code == 201
    assert Submission.objects.get().signature_key_id == signer.key_id


class TestKeyServices:
    def test_adding_a_key_is_audited_with_the_public_key(self, world):
        public = base64.b64encode(public_key_raw(Ed25519PrivateKey.generate())).decode()
        key = signing_key_add(department=world.dept_a, public_key=public)
        entry = AuditEntry.objects.get(action=AuditAction.SIGNING_KEY_ADDED)
        assert entry.details["public_key"] == public
        assert entry.details["key_id"] == key.key_id
        assert entry.details["department"] == world.dept_a.code

    @pytest.mark.parametrize("bad", ["", "not base64!", base64.b64encode(b"short").decode()])
    def test_a_malformed_public_key_is_refused(self, world, bad):
        with pytest.raises(InvalidRequest):
            signing_key_add(department=world.dept_a, public_key=bad)
        assert not DepartmentSigningKey.objects.exists()

    def test_a_key_registered_twice_is_a_conflict(self, world, signer):
        public = base64.b64encode(public_key_raw(signer.private_key)).decode()
        with pytest.raises(Conflict):
            signing_key_add(department=world.dept_b, public_key=public)

    def test_a_validity_that_ends_before_it_begins_is_refused(self, world):
        public = base64.b64encode(public_key_raw(Ed25519PrivateKey.generate())).decode()
        now = dt.datetime.now(dt.UTC)
        with pytest.raises(InvalidRequest):
            signing_key_add(
                department=world.dept_a, public_key=public, valid_from=now, valid_until=now
            )

    def test_revoking_is_audited_once(self, world, signer):
        signing_key_revoke(department=world.dept_a, key_id=signer.key_id, reason="rotated")
        signing_key_revoke(department=world.dept_a, key_id=signer.key_id)
        entries = AuditEntry.objects.filter(action=AuditAction.SIGNING_KEY_REVOKED)
        assert [e.details["reason"] for e in entries] == ["rotated"]

    def test_revoking_an_unknown_key_is_not_found(self, world):
        with pytest.raises(NotFound):
            signing_key_revoke(department=world.dept_a, key_id="0" * 32)

    def test_a_policy_change_is_audited(self, world):
        signature_policy_set(department=world.dept_a, policy=SignaturePolicy.REQUIRED)
        entry = AuditEntry.objects.get(action=AuditAction.SIGNATURE_POLICY_CHANGED)
        assert entry.details == {
            "department": "traffic_police",
            "from": "optional",
            "to": "required",
        }

    def test_an_unknown_policy_is_refused(self, world):
        with pytest.raises(InvalidRequest):
            signature_policy_set(department=world.dept_a, policy="sometimes")


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("department_signing_key", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


class TestCommand:
    def test_add_list_revoke_and_policy(self, world):
        public = base64.b64encode(public_key_raw(Ed25519PrivateKey.generate())).decode()
        key_id, _ = run("add", "traffic_police", public, "--valid-days", "30")
        key_id = key_id.strip()
        key = DepartmentSigningKey.objects.get(key_id=key_id)
        assert (key.valid_until - key.valid_from).days == 30
        listing, _ = run("list", "traffic_police")
        assert key_id in listing and "active" in listing
        run("revoke", "traffic_police", key_id, "--reason", "rotated")
        assert "revoked" in run("list", "traffic_police")[0]
        run("policy", "traffic_police", "required")
        world.dept_a.refresh_from_db()
        assert world.dept_a.signature_policy == "required"

    def test_export_writes_every_key_for_the_offline_verifier(self, world, signer):
        signing_key_revoke(department=world.dept_a, key_id=signer.key_id, reason="lost")
        exported = json.loads(run("export")[0])
        (key,) = exported["traffic_police"]
        assert key["key_id"] == signer.key_id
        assert base64.b64decode(key["public_key"]) == public_key_raw(signer.private_key)
        assert key["revoked_at"] and key["valid_until"] is None
        assert json.loads(run("export", "tax")[0]) == {}

    @pytest.mark.parametrize(
        "args",
        [
            ("add", "no_such_department", "AAAA"),
            ("add", "traffic_police", "AAAA"),
            ("add", "traffic_police", base64.b64encode(bytes(32)).decode(), "--valid-days", "0"),
            ("add", "traffic_police", base64.b64encode(bytes(32)).decode(),
             "--valid-until", "2030-01-01T00:00:00"),
            ("revoke", "traffic_police", "f" * 32),
        ],
    )  # fmt: skip
    def test_bad_input_is_a_clear_error(self, world, args):
        with pytest.raises(CommandError):
            run(*args)
        assert not DepartmentSigningKey.objects.exists()


@override_settings(GATEWAY_SIGNATURE_MAX_AGE_SECONDS=5, GATEWAY_SIGNATURE_MAX_SKEW_SECONDS=0)
def test_the_window_follows_the_settings(world, signer):
    body = factories.body([factories.deduction_record(CITIZEN)])
    created = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=30)
    assert signed_post(world, signer, body, created=created).status_code == 401


def test_the_signature_check_is_django_free():
    import subprocess
    import sys

    check = (
        "import sys; import gateway.signatures; "
        "bad = [m for m in sys.modules if m.split('.')[0] == 'django']; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
