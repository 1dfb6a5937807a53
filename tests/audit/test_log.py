"""The audit log in the database: queueing, sequencing, triggers, tamper detection, proofs."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from audit import merkle, triggers
from audit.actions import ActorKind, AuditAction
from audit.models import AuditEntry, LogHead
from audit.services import (
    AuditError,
    AuditRecord,
    audit_append,
    entry_bytes,
    integrate_all,
    integrate_pending,
)
from tests.conftest import body_json

REPO = Path(__file__).resolve().parents[2]


def append(count: int, **overrides) -> list:
    records = [
        AuditRecord(
            action=AuditAction.SCORE_READ_BY_DEPARTMENT,
            actor_kind=ActorKind.DEPARTMENT,
            actor_id="traffic_police",
            subject=f"{i:064x}",
            purpose="loan_eligibility",
            details={"n": i, **overrides},
        )
        for i in range(count)
    ]
    with transaction.atomic():
        return audit_append(records)


def verify() -> tuple[int, str]:
    try:
        call_command("audit_verify", stdout=io.StringIO())
    except CommandError as exc:
        return 1, str(exc)
    return 0, "ok"


@pytest.mark.django_db
class TestAppend:
    def test_acts_queue_entries_that_the_integrator_sequences_without_gaps(self):
        receipts = append(5) + append(3)
        assert AuditEntry.objects.filter(sequence__isnull=True).count() == 8
        assert LogHead.objects.get().size == 0
        assert integrate_pending(limit=3).sequenced == 3
        assert integrate_pending(limit=100).sequenced == 5
        assert integrate_pending().sequenced == 0
        entries = list(AuditEntry.objects.order_by("sequence"))
        assert [e.sequence for e in entries] == list(range(8))
        # Queue order is insertion order, and each receipt names its entry's leaf.
        assert [bytes(e.leaf_hash) for e in entries] == [r.leaf_hash for r in receipts]
        for entry in entries:
            assert entry.format_version == 2
            assert merkle.leaf_hash(entry_bytes(entry)) == bytes(entry.leaf_hash)
        head = LogHead.objects.get()
        assert head.size == 8
        root = merkle.root_from_leaf_hashes([r.leaf_hash for r in receipts])
        assert (
            merkle.CompactRange.from_hashes(
                8, [bytes(head.frontier)[i : i + 32] for i in range(0, len(head.frontier), 32)]
            ).root()
            == root
        )

    def test_a_checkpoint_signs_what_is_sequenced(self):
        append(4)
        checkpoint = integrate_all()
        assert checkpoint.size == 4
        append(2)
        assert integrate_all().size == 6

    @pytest.mark.django_db(transaction=True)
    def test_it_refuses_to_write_outside_a_transaction(self):
        with pytest.raises(AuditError):
            audit_append([AuditRecord(action=1, actor_kind="system", actor_id="x")])

    def test_a_failed_act_leaves_no_entry(self):
        with pytest.raises(RuntimeError), transaction.atomic():
            append(1)
            raise RuntimeError("the act failed")
        assert AuditEntry.objects.count() == 0
        assert integrate_pending().sequenced == 0
        assert LogHead.objects.get().size == 0


@pytest.mark.django_db
class TestTriggers:
    @pytest.mark.parametrize(
        "statement",
        [
            "UPDATE audit_auditentry SET actor_id = 'someone_else'",
            "UPDATE audit_auditentry SET sequence = sequence + 100",
            "UPDATE audit_auditentry SET sequence = NULL",
            "DELETE FROM audit_auditentry",
            "UPDATE audit_checkpoint SET size = 0",
            "DELETE FROM audit_treenode",
        ],
    )
    def test_the_database_refuses_edits(self, statement):
        append(4)
        integrate_all()
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
        assert AuditEntry.objects.filter(actor_id="traffic_police").count() == 4

    def test_only_the_index_may_be_set_and_only_once(self):
        append(2)
        first = AuditEntry.objects.order_by("id").first()
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(
                "UPDATE audit_auditentry SET sequence = 0, purpose = 'other' WHERE id = %s",
                [first.id],
            )
        with connection.cursor() as cursor:
            cursor.execute("UPDATE audit_auditentry SET sequence = 0 WHERE id = %s", [first.id])
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("UPDATE audit_auditentry SET sequence = 1 WHERE id = %s", [first.id])

    def test_truncate_is_refused(self):
        # SQLite has no TRUNCATE: its equivalent is an unqualified DELETE, which a
        # DELETE trigger keeps from being optimised into one.
        statement = (
            "TRUNCATE audit_auditentry CASCADE"
            if connection.vendor == "postgresql"
            else "DELETE FROM audit_auditentry"
        )
        append(1)
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
        assert AuditEntry.objects.count() == 1


@pytest.fixture
def insider(db):
    """An administrator who drops the triggers and edits the tables directly."""
    triggers.uninstall(connection)
    yield connection
    triggers.install(connection)


def _execute(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.django_db
class TestTamperDetection:
    def test_an_untouched_log_verifies(self):
        append(10)
        integrate_all()
        append(3)
        integrate_all()
        assert verify() == (0, "ok")

    def test_an_edited_entry_is_caught_at_its_index(self, insider):
        append(10)
        integrate_all()
        _execute("UPDATE audit_auditentry SET purpose = 'curiosity' WHERE sequence = 4")
        status, message = verify()
        assert status == 1
        assert "index 4" in message

    def test_an_edit_with_a_recomputed_leaf_hash_is_caught_by_the_checkpoints(self, insider):
        append(5)
        integrate_all()
        append(5)
        integrate_all()
        entry = AuditEntry.objects.get(sequence=6)
        entry.actor_id = "court"
        new_leaf = merkle.leaf_hash(entry_bytes(entry))
        _execute(
            "UPDATE audit_auditentry SET actor_id = 'court', leaf_hash = %s WHERE sequence = 6",
            [new_leaf],
        )
        status, message = verify()
        assert status == 1
        assert "index 5" in message and "entries [5, 10) differ" in message

    def test_a_deleted_entry_is_caught_at_its_index(self, insider):
        append(10)
        integrate_all()
        _execute("DELETE FROM audit_auditentry WHERE sequence = 3")
        status, message = verify()
        assert status == 1
        assert "index 3" in message

    def test_reordered_entries_are_caught(self, insider):
        append(2)
        integrate_all()
        append(8)
        integrate_all()
        _execute("UPDATE audit_auditentry SET sequence = 100 WHERE sequence = 2")
        _execute("UPDATE audit_auditentry SET sequence = 2 WHERE sequence = 5")
        _execute("UPDATE audit_auditentry SET sequence = 5 WHERE sequence = 100")
        status, message = verify()
        assert status == 1
        assert "index 2" in message and "entries [2, 10) differ" in message

    def test_a_tail_cut_after_a_checkpoint_is_caught(self, insider):
        append(10)
        integrate_all()
        _execute("DELETE FROM audit_auditentry WHERE sequence >= 7")
        status, message = verify()
        assert status == 1
        assert "index 7" in message

    def test_a_forged_checkpoint_is_caught(self, insider):
        append(4)
        checkpoint = integrate_all()
        forged = checkpoint.note.replace("\n4\n", "\n3\n")
        _execute("UPDATE audit_checkpoint SET note = %s", [forged])
        assert verify()[0] == 1


@pytest.mark.django_db
class TestExportAndOfflineVerification:
    def test_an_export_verifies_offline_with_the_public_key_alone(self, tmp_path):
        append(20)
        integrate_all()
        append(5)
        integrate_all()
        export = tmp_path / "log.export"
        out = io.StringIO()
        call_command("audit_export", str(export), stdout=out)
        key = out.getvalue().split("verifier key: ")[1].strip()
        result = subprocess.run(
            [sys.executable, "-m", "audit.verify", str(export), "--public-key", key],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.startswith("OK")
        assert AuditEntry.objects.filter(action=AuditAction.AUDIT_EXPORTED).exists()

    def test_an_export_is_the_latest_signed_prefix_and_streams_version_2(self, tmp_path):
        from audit.verify import read_export_header, verify_export_file

        append(5)
        checkpoint = integrate_all()
        append(3)
        integrate_pending()  # sequenced, not yet signed: not in the export
        export = tmp_path / "log.export"
        call_command("audit_export", str(export), stdout=io.StringIO())
        header = read_export_header(export)
        assert (header.version, header.size) == (2, checkpoint.size) == (2, 5)
        from audit.keys import verifier_key

        result = verify_export_file(export, verifier_key())
        assert result.ok and result.size == 5, result.line()

    def test_an_export_of_a_tampered_log_fails_offline(self, tmp_path, insider):
        append(20)
        integrate_all()
        _execute(
            "UPDATE audit_auditentry SET purpose = 'x', leaf_hash = %s WHERE sequence = 19",
            [bytes(32)],
        )
        export = tmp_path / "log.export"
        out = io.StringIO()
        call_command("audit_export", str(export), stdout=out)
        key = out.getvalue().split("verifier key: ")[1].strip()
        result = subprocess.run(
            [sys.executable, "-m", "audit.verify", str(export), "--public-key", key],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 1
        assert "FAIL" in result.stdout


@pytest.mark.django_db
class TestProofEndpoints:
    def test_no_checkpoint_yet_is_404(self, client):
        response = client.get("/api/v1/audit/checkpoint")
        assert response.status_code == 404
        assert body_json(response)["error"] == "not_found"

    def test_the_latest_checkpoint_is_served(self, client):
        append(7)
        integrate_all()
        payload = body_json(client.get("/api/v1/audit/checkpoint"))
        assert payload["size"] == 7
        assert payload["note"].startswith(payload["origin"] + "\n7\n")

    def test_every_entry_is_provably_included(self, client):
        append(13)
        checkpoint = integrate_all()
        root = bytes(checkpoint.root_hash)
        for index in range(13):
            payload = body_json(client.get(f"/api/v1/audit/proof/inclusion?index={index}&size=13"))
            assert payload["root_hash"] == root.hex()
            proof = [bytes.fromhex(h) for h in payload["proof"]]
            leaf = bytes.fromhex(payload["leaf_hash"])
            assert merkle.verify_inclusion(leaf, index, 13, proof, root)

    def test_consistency_between_two_sizes(self, client):
        append(5)
        first = integrate_all()
        append(9)
        second = integrate_all()
        payload = body_json(client.get("/api/v1/audit/proof/consistency?from=5&to=14"))
        proof = [bytes.fromhex(h) for h in payload["proof"]]
        assert merkle.verify_consistency(
            5, 14, bytes(first.root_hash), bytes(second.root_hash), proof
        )

    @pytest.mark.parametrize(
        "query",
        [
            "inclusion?index=0",
            "inclusion?index=x&size=3",
            "inclusion?index=3&size=3",
            "inclusion?index=0&size=99",
            "inclusion?index=-1&size=3",
            "inclusion?index=0&size=99999999999999999999999",
            "consistency?from=0&to=3",
            "consistency?from=3&to=2",
            "consistency?to=2",
        ],
    )
    def test_bad_proof_requests_get_400(self, client, query):
        append(3)
        response = client.get(f"/api/v1/audit/proof/{query}")
        assert response.status_code == 400
        assert body_json(response)["error"] == "invalid"


@pytest.mark.django_db(transaction=True)
def test_export_and_acts_do_not_wait_for_the_integrators_lock(tmp_path):
    """The head row is the integrator's alone: holding it blocks neither acts nor exports."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time: a held write lock blocks every writer")
    import threading

    from django.db import connections

    append(4)
    integrate_all()
    holder = connections.create_connection("default")
    holder.set_autocommit(False)
    try:
        with holder.cursor() as cursor:
            cursor.execute("SELECT size FROM audit_loghead WHERE id = 1 FOR UPDATE")
        done = threading.Event()

        def export_and_act():
            try:
                call_command("audit_export", str(tmp_path / "x.export"), stdout=io.StringIO())
                append(1)
                done.set()
            finally:
                connections["default"].close()

        worker = threading.Thread(target=export_and_act)
        worker.start()
        worker.join(timeout=30)
        assert done.is_set(), "an export or an act waited for the integrator's lock"
    finally:
        holder.rollback()
        holder.close()
