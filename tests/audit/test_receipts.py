"""Signed receipts: promised at once, provable once integrated, and checked offline."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test import override_settings

from audit import merkle, note, receipts, triggers
from audit.actions import ActorKind, AuditAction
from audit.keys import verifier_key
from audit.models import AuditEntry
from audit.services import AuditRecord, audit_append, integrate_all
from tests.conftest import body_json

REPO = Path(__file__).resolve().parents[2]


def act(count: int = 1) -> list[dict]:
    records = [
        AuditRecord(
            action=AuditAction.SCORE_READ_BY_DEPARTMENT,
            actor_kind=ActorKind.DEPARTMENT,
            actor_id="tax",
            details={"n": i},
        )
        for i in range(count)
    ]
    with transaction.atomic():
        return [receipt.as_dict() for receipt in audit_append(records)]


def verify_offline(export: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "audit.verify", str(export), "--public-key", verifier_key(), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.django_db
class TestSignedReceipt:
    def test_it_is_signed_by_the_log_at_once_with_the_leaf_and_the_merge_delay(self, settings):
        receipt = act()[0]
        claim = receipts.open_receipt(
            receipt["note"], [note.parse_verifier_key(verifier_key())], settings.AUDIT_LOG_ORIGIN
        )
        assert claim.leaf_hash.hex() == receipt["leaf_hash"]
        assert claim.max_merge_delay == receipt["max_merge_delay"] == 1
        assert receipt["origin"] == settings.AUDIT_LOG_ORIGIN
        entry = AuditEntry.objects.get()
        assert bytes(entry.leaf_hash).hex() == receipt["leaf_hash"]
        assert entry.sequence is None  # promised before it is sequenced

    def test_a_receipt_is_never_a_checkpoint(self, settings):
        receipt = act()[0]
        body = note.open_note(receipt["note"], note.parse_verifier_key(verifier_key()))
        with pytest.raises(note.NoteError):
            note.parse_checkpoint(body)

    def test_a_receipt_for_another_log_is_refused(self, settings):
        receipt = act()[0]
        with pytest.raises(receipts.ReceiptError, match="for the log"):
            receipts.open_receipt(
                receipt["note"], [note.parse_verifier_key(verifier_key())], "other.example/log"
            )

    def test_a_tampered_receipt_does_not_verify(self, settings):
        receipt = act()[0]
        forged = receipt["note"].replace("\n1\n\n", "\n9\n\n")  # a longer merge delay
        with pytest.raises(receipts.ReceiptError, match="does not verify"):
            receipts.open_receipt(
                forged, [note.parse_verifier_key(verifier_key())], settings.AUDIT_LOG_ORIGIN
            )


@pytest.mark.django_db
class TestReceiptEndpoint:
    def test_pending_then_included_with_a_proof_that_verifies(self, client):
        act(4)
        receipt = act()[0]
        url = f"/api/v1/audit/receipts/{receipt['leaf_hash']}"
        pending = body_json(client.get(url))
        assert pending["status"] == "pending" and pending["index"] is None
        checkpoint = integrate_all()
        included = body_json(client.get(url))
        assert included["status"] == "included"
        assert included["index"] == 4 and included["tree_size"] == 5
        assert included["checkpoint"] == checkpoint.note
        assert merkle.verify_inclusion(
            bytes.fromhex(receipt["leaf_hash"]),
            4,
            5,
            [bytes.fromhex(h) for h in included["inclusion_proof"]],
            bytes(checkpoint.root_hash),
        )

    def test_sequenced_but_not_yet_signed(self, client):
        receipt = act()[0]
        integrate_all()
        later = act()[0]
        from audit.services import integrate_pending

        integrate_pending()
        payload = body_json(client.get(f"/api/v1/audit/receipts/{later['leaf_hash']}"))
        assert payload["status"] == "sequenced" and payload["index"] == 1
        assert payload["inclusion_proof"] == [] and payload["checkpoint"] is None
        assert (
            body_json(client.get(f"/api/v1/audit/receipts/{receipt['leaf_hash']}"))["status"]
            == "included"
        )

    def test_unknown_leaf_is_404(self, client):
        response = client.get(f"/api/v1/audit/receipts/{'ab' * 32}")
        assert response.status_code == 404
        assert body_json(response)["error"] == "not_found"

    @pytest.mark.parametrize("bad", ["xyz", "ab" * 31, "zz" * 32, "AB" * 33, "%00" * 3])
    def test_malformed_leaf_is_400(self, client, bad):
        response = client.get(f"/api/v1/audit/receipts/{bad}")
        assert response.status_code == 400
        assert body_json(response)["error"] == "invalid"


@pytest.mark.django_db
class TestOmissionProvedOffline:
    def export(self, tmp_path) -> Path:
        path = tmp_path / "log.export"
        call_command("audit_export", str(path), stdout=io.StringIO())
        return path

    def test_receipts_honoured(self, tmp_path):
        issued = act(3)
        integrate_all()
        receipts_file = tmp_path / "receipts.jsonl"
        receipts_file.write_text("\n".join(json.dumps(r) for r in issued))
        result = verify_offline(
            self.export(tmp_path), "--receipts", str(receipts_file),
            "--as-of", "2100-01-01T00:00:00+00:00",
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        assert "3 receipts honoured" in result.stdout

    def test_an_entry_dropped_from_the_queue_is_proved_missing(self, tmp_path):
        kept = act(2)
        dropped = act()[0]
        # An insider deletes the queued entry before the integrator sees it.
        triggers.uninstall(connection)
        try:
            AuditEntry.objects.filter(leaf_hash=bytes.fromhex(dropped["leaf_hash"])).delete()
        finally:
            triggers.install(connection)
        integrate_all()
        receipts_file = tmp_path / "receipts.json"
        receipts_file.write_text(json.dumps([*kept, dropped]))
        result = verify_offline(
            self.export(tmp_path), "--receipts", str(receipts_file),
            "--as-of", "2100-01-01T00:00:00+00:00",
        )  # fmt: skip
        assert result.returncode == 1
        assert "1 receipted entries are missing" in result.stdout
        assert dropped["leaf_hash"] in result.stdout

    def test_a_receipt_not_yet_due_is_not_a_failure(self, tmp_path):
        promised = act()[0]
        receipts_file = tmp_path / "receipts.json"
        receipts_file.write_text(json.dumps([promised]))
        integrate_all()
        # Judged at the moment it was issued: the merge delay has not passed yet.
        result = verify_offline(
            self.export(tmp_path), "--receipts", str(receipts_file), "--as-of", promised["time"]
        )
        assert result.returncode == 0, result.stdout
        assert "1 not yet due" in result.stdout

    @pytest.mark.parametrize(
        "as_of",
        [
            "2026-W47-5T10:00:00+08:00",  # a week date, which Python's own parser takes
            "2026-324T10:00:00+08:00",  # an ordinal date
            "2026-11-20T10:00:00",  # no offset
            "20261120T100000+0800",
            "2026-11-20T10:00:00+08:00:30",  # an offset with seconds
            "yesterday",
        ],
    )
    def test_an_as_of_that_is_not_rfc_3339_is_a_usage_error(self, tmp_path, as_of):
        promised = act()[0]
        receipts_file = tmp_path / "receipts.json"
        receipts_file.write_text(json.dumps([promised]))
        integrate_all()
        result = verify_offline(
            self.export(tmp_path), "--receipts", str(receipts_file), "--as-of", as_of
        )
        assert result.returncode == 2, result.stdout + result.stderr
        assert "--as-of" in result.stderr and "Traceback" not in result.stderr

    def test_a_receipt_of_another_log_is_a_usage_error(self, tmp_path):
        with override_settings(AUDIT_LOG_ORIGIN="elsewhere.example/log"):
            foreign = act()[0]
        integrate_all()
        receipts_file = tmp_path / "receipts.json"
        receipts_file.write_text(json.dumps([foreign]))
        result = verify_offline(self.export(tmp_path), "--receipts", str(receipts_file))
        assert result.returncode == 2
        assert "for the log 'elsewhere.example/log'" in result.stderr

    def test_garbage_receipts_file_is_a_usage_error(self, tmp_path):
        integrate_all()
        receipts_file = tmp_path / "receipts.json"
        receipts_file.write_text("{not json")
        result = verify_offline(self.export(tmp_path), "--receipts", str(receipts_file))
        assert result.returncode == 2
        assert "bad receipt" in result.stderr
