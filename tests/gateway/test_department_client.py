"""The department client against the real gateway: a signed CSV in batches, interrupted
and resumed with no duplicates, then every signature confirmed from an audit export."""

from __future__ import annotations

import base64
import csv
import io
import json

import pytest
from credit_gateway_client import verify_export
from credit_gateway_client.cli import main
from credit_gateway_client.signing import Signer, public_key_raw
from credit_gateway_client.submit import submit_file
from credit_gateway_client.transport import Gateway
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command

from audit.services import verifier_key_string
from compliance.models import SignaturePolicy
from gateway.models import ScoreEvent, Submission
from gateway.services.signing import signature_policy_set, signing_key_add, signing_keys_export
from tests import factories

ROWS = 2300


def write_csv(path, rows: int):
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(
            ["citizen_id", "rule", "occurred_at", "evidence.document", "evidence.issued_by",
             "evidence.issued_on", "evidence.procedure"]
        )  # fmt: skip
        for i in range(rows):
            writer.writerow(
                [factories.identity_number(serial=i % 50), "traffic.failure_to_yield",
                 "2026-11-20T08:30:00+08:00", f"苏公交决字〔2026〕第{i}号",
                 "苏州市公安局交通警察支队", "2026-11-21", "general"]
            )  # fmt: skip
    return path


@pytest.fixture
def signed_world(world):
    private_key = Ed25519PrivateKey.generate()
    signing_key_add(
        department=world.dept_a,
        public_key=base64.b64encode(public_key_raw(private_key)).decode(),
    )
    signature_policy_set(department=world.dept_a, policy=SignaturePolicy.REQUIRED)
    return world, Signer(private_key)


def test_a_signed_csv_is_interrupted_resumed_and_every_signature_verifies_offline(
    live_server, signed_world, tmp_path, capsys
):
    world, signer = signed_world
    source = write_csv(tmp_path / "records.csv", ROWS)
    gateway = Gateway(live_server.url, api_key=world.key_a, signer=signer, lang="en")

    sent = []
    real_submit = gateway.submit

    def interrupted_after_two(body):
        if len(sent) == 2:
            raise KeyboardInterrupt
        sent.append(body)
        return real_submit(body)

    gateway.submit = interrupted_after_two
    with pytest.raises(KeyboardInterrupt):
        submit_file(source, gateway, progress=None)
    assert ScoreEvent.objects.count() == 2000

    progress = io.StringIO()
    resumed = Gateway(live_server.url, api_key=world.key_a, signer=signer, lang="en")
    summary = submit_file(source, resumed, progress=progress)
    assert (summary.skipped_batches, summary.sent_batches, summary.accepted) == (2, 1, ROWS)
    assert "records/s" in progress.getvalue()
    # Run again from scratch, results file gone: each batch is a replay, nothing new.
    (tmp_path / "records.csv.results.jsonl").unlink()
    again = submit_file(source, resumed, progress=None)
    assert again.accepted == ROWS
    assert ScoreEvent.objects.count() == ROWS
    assert Submission.objects.count() == 3
    assert set(Submission.objects.values_list("signature_key_id", flat=True)) == {signer.key_id}
    results = (tmp_path / "records.csv.results.jsonl").read_text()
    assert all(json.loads(line)["replayed"] for line in results.splitlines()[1:])

    # Before the integrator runs, every receipt is pending; after it, each is proved.
    log_key = ["--log-key", verifier_key_string()]
    results_file = str(tmp_path / "records.csv.results.jsonl")
    url = ["--url", live_server.url]
    assert main([*url, "verify-receipts", results_file, *log_key]) == 4
    call_command("audit_checkpoint", stdout=io.StringIO())
    capsys.readouterr()
    assert main([*url, "verify-receipts", results_file, *log_key]) == 0
    assert "3 receipts verified" in capsys.readouterr().out

    export = tmp_path / "audit.export"
    call_command("audit_export", str(export), stdout=io.StringIO(), stderr=io.StringIO())
    keys = tmp_path / "departments.json"
    keys.write_text(json.dumps(signing_keys_export()))
    assert verify_export.main([str(export), "--keys", str(keys), "--require-signatures"]) == 0
    report = verify_export.verify_export(export, verify_export.load_keys(keys))
    assert (report.submissions, report.signed, report.failures) == (3, 3, [])


def test_read_score_through_the_client_reads_in_the_users_language(live_server, world, capsys):
    code = main(["--url", live_server.url, "--api-key", world.key_a, "--lang", "en",
                 "read-score", "--purpose", "loan_eligibility",
                 "--citizen-id", "320505199003074510"])  # fmt: skip
    assert code == 0
    assert '"civilization_loan"' in capsys.readouterr().out
    code = main(["--url", live_server.url, "--api-key", world.key_a, "--lang", "zh",
                 "read-score", "--purpose", "no_such_purpose",
                 "--citizen-id", "320505199003074510"])  # fmt: skip
    assert code == 1
    assert "未" in capsys.readouterr().out


def test_the_offline_check_catches_a_wrong_key_and_an_unsigned_submission(
    live_server, world, tmp_path
):
    private_key = Ed25519PrivateKey.generate()
    signing_key_add(
        department=world.dept_a, public_key=base64.b64encode(public_key_raw(private_key)).decode()
    )
    signed = Gateway(live_server.url, api_key=world.key_a, signer=Signer(private_key))
    body = factories.body([factories.deduction_record("320505199003074510")], "one")
    assert signed.submit(body).status == 201
    unsigned = Gateway(live_server.url, api_key=world.key_a)
    assert (
        unsigned.submit(factories.body([factories.deduction_record("320505199003074510")])).status
        == 201
    )

    call_command("audit_checkpoint", stdout=io.StringIO())
    export = tmp_path / "audit.export"
    call_command("audit_export", str(export), stdout=io.StringIO(), stderr=io.StringIO())
    keys = tmp_path / "departments.json"
    keys.write_text(json.dumps(signing_keys_export()))
    assert verify_export.main([str(export), "--keys", str(keys)]) == 0
    assert verify_export.main([str(export), "--keys", str(keys), "--require-signatures"]) == 1
    # Keys that claim the department used another key: the signature no longer verifies.
    stranger = base64.b64encode(public_key_raw(Ed25519PrivateKey.generate())).decode()
    document = signing_keys_export()
    document["traffic_police"][0]["public_key"] = stranger
    keys.write_text(json.dumps(document))
    assert verify_export.main([str(export), "--keys", str(keys)]) == 1
    keys.write_text("not json")
    assert verify_export.main([str(export), "--keys", str(keys)]) == 2
