"""Nothing private enters what can never be erased: the audit log's one boundary.

A run of hostile inputs through the department API, the residents' API, the reviewers'
API, the portal and the admin, and then a walk of every table, every log line the
configured handlers print, the log's export files and every response: no prohibited
marker and no plaintext identity number anywhere.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import pathlib
import re

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from audit.actions import AuditAction
from audit.models import AuditEntry
from compliance.models import ScreeningRefusal
from gateway.logging import RedactIdentityNumbers, has_identity_shape
from gateway.models import (
    Account,
    Appeal,
    Citizen,
    RepairApplication,
    Score,
    ScoreEvent,
    Submission,
)
from gateway.services import audit_boundary
from tests import factories
from tests.conftest import body_json, named_path
from tests.gateway.people import ALICE_ID, BOB_ID, PASSWORD

# A third person's number, valid (check digit included), never registered anywhere.
OTHER_ID = "11010519491231002X"
PROHIBITED_MARKERS = ("AB型", "Buddhist", "伊斯兰", "糖尿病")
IDENTITY_NUMBERS = (OTHER_ID, ALICE_ID, BOB_ID)
POLICY_TABLES = {
    "compliance_screeningpattern",
    "compliance_screeningterm",
    "compliance_historicalscreeningpattern",
    "compliance_historicalscreeningterm",
}


def _forms(marker: str) -> set[str]:
    # As stored: plain, and as JSON escapes (SQLite keeps JSON text ASCII-escaped).
    return {marker, json.dumps(marker)[1:-1], marker.lower()}


def _leaks(text: str) -> list[str]:
    found = []
    for marker in (*PROHIBITED_MARKERS, *IDENTITY_NUMBERS):
        if any(form in text for form in _forms(marker)):
            found.append(marker)
    return found


def _database_text() -> dict[str, str]:
    """Every table's every row, as text."""
    dumped = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            parts = []
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        parts.append(bytes(value).decode("latin-1"))
                    elif isinstance(value, dict | list):
                        parts.append(json.dumps(value, ensure_ascii=False))
                    else:
                        parts.append(str(value))
            dumped[table] = "\n".join(parts)
    return dumped


class LogCapture:
    """What the configured (masking) handlers print, for the whole run."""

    def __init__(self):
        self.buffer = io.StringIO()
        self.handlers = []
        # The loggers share handlers: each is redirected once, and put back once.
        seen = set()
        for logger in (logging.getLogger(), *map(logging.getLogger, ("django", "django.server"))):
            for handler in logger.handlers:
                if id(handler) in seen:
                    continue
                if any(isinstance(f, RedactIdentityNumbers) for f in handler.filters):
                    seen.add(id(handler))
                    self.handlers.append((handler, handler.setStream(self.buffer)))
        assert self.handlers

    def close(self) -> str:
        for handler, previous in self.handlers:
            handler.setStream(previous)
        return self.buffer.getvalue()


@pytest.fixture
def capture_logs():
    capture = LogCapture()
    yield capture
    capture.close()


def _department_attacks(world, responses):
    client = world.client(world.key_a)

    # Member names that are themselves prohibited text: named by position.
    record = factories.deduction_record(
        ALICE_ID, data={"location": "干将路", "血型AB型": "x", "x religion Buddhist": 1}
    )
    refused = world.submit(world.key_a, [record])
    responses.append(refused)
    assert refused.status_code == 422
    paths = {v["path"] for v in body_json(refused)["violations"]}
    assert paths == {"/records/0/data/#1", "/records/0/data/#2"}
    document = {"records": [record]}
    assert {named_path(document, p) for p in paths} == {
        "/records/0/data/血型AB型",
        "/records/0/data/x religion Buddhist",
    }

    # A record's field name that is an identity number: an unknown field, by position.
    record = factories.deduction_record(ALICE_ID)
    record[OTHER_ID] = "x"
    refused = world.submit(world.key_a, [record])
    responses.append(refused)
    assert refused.status_code == 400
    assert {p["path"] for p in body_json(refused)["problems"]} == {"/records/0/#5"}

    # Another person's number in data or evidence, as a value or as a name.
    record = factories.deduction_record(
        ALICE_ID, data={"location": "干将路", "witness": f"证人 {OTHER_ID}", OTHER_ID: "x"}
    )
    refused = world.submit(world.key_a, [record])
    responses.append(refused)
    assert refused.status_code == 400
    assert {p["path"] for p in body_json(refused)["problems"]} == {
        "/records/0/data/witness",
        "/records/0/data/#2",
    }

    # An identity number as the idempotency key: accepted, stored only as a keyed hash,
    # and the conflict of a second body does not repeat it.
    accepted = world.submit(world.key_a, [factories.deduction_record(ALICE_ID)], OTHER_ID)
    responses.append(accepted)
    assert accepted.status_code == 201
    replay = world.submit(world.key_a, [factories.deduction_record(ALICE_ID)], OTHER_ID)
    responses.append(replay)
    assert replay.status_code == 201
    assert replay["Idempotent-Replayed"] == "true"
    conflict = world.submit(
        world.key_a, [factories.deduction_record(ALICE_ID, data={"location": "别处"})], OTHER_ID
    )
    responses.append(conflict)
    assert conflict.status_code == 409
    assert body_json(conflict)["idempotency_key"] == "1101**********002X"

    # Purposes that are an identity number or a caller's own words, by path and by POST.
    for purpose in (OTHER_ID, "宗教:伊斯兰"):
        read = client.get(f"/api/v1/citizens/{ALICE_ID}/score", {"purpose": purpose})
        responses.append(read)
        assert read.status_code == 403
        assert body_json(read)["error"] == "purpose_not_granted"
        posted = client.post(
            "/api/v1/score-queries", {"citizen_id": ALICE_ID, "purpose": purpose}, format="json"
        )
        responses.append(posted)
        assert posted.status_code == 403


def _resident_attacks(people, responses):
    event = people.deduct()
    alice = people.client(people.alice)
    for statement, status in (("血型AB型，患有糖尿病", 422), (f"我不是 {OTHER_ID}", 400)):
        refused = alice.post(
            "/api/v1/me/appeals", {"event": event.pk, "statement": statement}, format="json"
        )
        responses.append(refused)
        assert refused.status_code == status, refused.content
    appeal = people.file(event)
    reviewer = people.client(people.rev_tax)
    refused = reviewer.post(
        f"/api/v1/appeals/{appeal.pk}/decision",
        {"outcome": "upheld", "reason": "当事人患有糖尿病"},
        format="json",
    )
    responses.append(refused)
    assert refused.status_code == 422
    assert body_json(refused)["violations"] == [{"path": "/reason", "category": "medical_history"}]
    # Who saw my data: only closed values, never the text a department chose.
    accesses = alice.get("/api/v1/me/accesses")
    responses.append(accesses)
    assert accesses.status_code == 200
    refused_reads = [r for r in body_json(accesses)["results"] if r["refused"]]
    assert len(refused_reads) == 4
    assert all(r["purpose"]["code"] is None for r in refused_reads)


# The admin's pages of a resident's rows: each row's change page, history page and
# every past version's page (an appeal's with its statement).
HISTORY_MODELS = (Citizen, Score, ScoreEvent, Appeal, RepairApplication, Account)


def _admin_pages(admin_client, responses):
    for model in HISTORY_MODELS:
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        pages = [base, f"{base}?q={OTHER_ID}"]
        for obj in model.objects.all():
            pages += [f"{base}{obj.pk}/change/", f"{base}{obj.pk}/history/"]
            history = getattr(model, "history", None)
            if history is not None:
                versions = history.filter(**{model._meta.pk.attname: obj.pk})
                pages += [f"{base}{obj.pk}/history/{v.history_id}/" for v in versions]
        for page in pages:
            response = admin_client.get(page, follow=True)
            responses.append(response)
            # Account has no admin pages (404); every other page answers.
            assert response.status_code in (200, 404), (page, response.status_code)


def _admin_attacks(client, admin_client, responses, tmp_path):
    failed = client.post("/admin/login/", {"username": OTHER_ID, "password": "wrong"})
    responses.append(failed)
    assert failed.status_code == 200
    _admin_pages(admin_client, responses)
    # The CSV exports: filtered by what was typed (an identity number in every filter
    # and the search box), and the whole log after the run.
    for query in (
        f"department={OTHER_ID}",
        f"q={OTHER_ID}",
        f"q={ALICE_ID}",
        f"actor_id={OTHER_ID}",
        f"subject={OTHER_ID}",
        "",
    ):
        export = admin_client.get(f"/admin/audit/auditentry/export.csv?{query}")
        responses.append(export)
        assert export.status_code in (200, 400), (query, export.status_code)
    assert export.status_code == 200
    export_file = tmp_path / "audit.export"
    call_command("audit_export", str(export_file), stdout=io.StringIO())
    return export_file


def test_a_hostile_run_leaves_no_marker_and_no_identity_number_anywhere(
    people, client, admin_client, capture_logs, tmp_path
):
    responses = []
    _department_attacks(people.world, responses)
    _resident_attacks(people, responses)
    export_file = _admin_attacks(client, admin_client, responses, tmp_path)
    host = client.get("/healthz", HTTP_HOST=f"{OTHER_ID}.example")
    responses.append(host)
    assert host.status_code == 400

    printed = capture_logs.close()
    assert "Forbidden" in printed  # the run did log, through the masking handlers
    assert _leaks(printed) == []
    for response in responses:
        content = b"".join(response.streaming_content) if response.streaming else response.content
        assert _leaks(content.decode(errors="replace")) == [], (response.status_code, content[:300])
    assert _leaks(export_file.read_bytes().decode(errors="replace")) == []
    leaking = {table: found for table, text in _database_text().items() if (found := _leaks(text))}
    # The screening policy itself holds the terms it looks for, and nothing else does.
    assert set(leaking) <= POLICY_TABLES
    assert all(set(found) <= set(PROHIBITED_MARKERS) for found in leaking.values())

    # And the refusals are still there to be found, by position and category.
    refusal = ScreeningRefusal.objects.get()
    assert refusal.paths == ["/records/0/data/#1", "/records/0/data/#2"]
    assert AuditEntry.objects.filter(action=AuditAction.SCORE_READ_REFUSED).count() == 4
    digest = audit_boundary.idempotency_digest(OTHER_ID)
    assert Submission.objects.filter(idempotency_key=digest).count() == 1


def test_no_gateway_module_but_the_boundary_writes_the_log():
    root = pathlib.Path(__file__).resolve().parents[2] / "gateway"
    writers = re.compile(r"\baudit_(record|append)\b")
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if path.name != "audit_boundary.py" and writers.search(path.read_text())
    ]
    assert offenders == []


class TestBoundary:
    def test_an_unknown_code_is_a_keyed_hash_with_its_length(self, db):
        stored = audit_boundary.opaque(OTHER_ID)
        assert OTHER_ID not in stored
        assert stored.endswith("/18")
        assert stored == audit_boundary.opaque(OTHER_ID)
        assert stored != audit_boundary.opaque("11010519491231003X")

    def test_safe_text_masks_numbers_and_withholds_prohibited_text(self, db):
        assert audit_boundary.safe_text(f"see {OTHER_ID}") == "see 1101**********002X"
        withheld = audit_boundary.safe_text("血型AB型")
        assert "AB" not in withheld and withheld.startswith("~")
        assert audit_boundary.safe_text("traffic.red_light") == "traffic.red_light"
        # A closed value is the gateway's own choice and passes as it is.
        assert audit_boundary.safe_text(audit_boundary.closed("religious_belief")) == (
            "religious_belief"
        )

    def test_every_field_of_an_entry_passes_the_boundary(self, db):
        from django.db import transaction

        with transaction.atomic():
            audit_boundary.log_record(
                action=AuditAction.SCORE_READ_REFUSED,
                actor_kind="department",
                actor_id=OTHER_ID,
                purpose="宗教:伊斯兰",
                object_ref=f"x:{OTHER_ID}",
                details={OTHER_ID: ["血型AB型", {"x religion Buddhist": OTHER_ID}]},
            )
        entry = AuditEntry.objects.get()
        text = json.dumps(
            [entry.actor_id, entry.purpose, entry.object_ref, entry.details], ensure_ascii=False
        )
        assert _leaks(text) == []

    def test_a_blind_index_subject_is_kept_whole_and_other_subjects_are_screened(self, db):
        # 64 hex digits holding 18 decimal ones in a row: the shape of some residents'
        # blind index. Masked, the entry would drop out of her "who saw my data".
        index = "ab" + "320505199003074510" + "c" * 44
        with transaction.atomic():
            audit_boundary.log_record(
                action=AuditAction.SCORE_READ_BY_DEPARTMENT, actor_kind="department", actor_id="d",
                subject=index,
            )  # fmt: skip
            audit_boundary.log_record(
                action=AuditAction.SCORE_READ_BY_DEPARTMENT, actor_kind="department", actor_id="d",
                subject=OTHER_ID,
            )  # fmt: skip
        assert list(AuditEntry.objects.order_by("sequence").values_list("subject", flat=True)) == [
            index,
            "1101**********002X",
        ]

    def test_digests_the_gateway_computes_reach_the_log_unmasked(self, world):
        # About one body in 700 has a SHA-256 whose hex holds an identity-shaped run.
        body = next(
            candidate
            for serial in range(100_000)
            if has_identity_shape(
                hashlib.sha256(
                    candidate := factories.body(
                        [factories.deduction_record(ALICE_ID)], f"digits-{serial}"
                    )
                ).hexdigest()
            )
        )
        response = world.client(world.key_a).generic(
            "POST", "/api/v1/submissions", body, content_type="application/json"
        )
        assert response.status_code == 201, response.content
        entry = AuditEntry.objects.get(action=AuditAction.SUBMISSION_ACCEPTED)
        assert entry.details["body_sha256"] == hashlib.sha256(body).hexdigest()

    def test_a_pointer_names_unsafe_members_by_position(self, db):
        document = {"records": [{"data": {"a": 1, "宗教:伊斯兰": 2, "b~/c": 3}}]}
        assert audit_boundary.safe_pointer(document, "/records/0/data/宗教:伊斯兰") == (
            "/records/0/data/#1"
        )
        assert audit_boundary.safe_pointer(document, "/records/0/data/b~0~1c") == (
            "/records/0/data/b~0~1c"
        )
        assert audit_boundary.safe_pointer(document, f"/records/0/{OTHER_ID}") == "/records/0/#?"


def test_the_login_password_is_never_logged(people, capture_logs):
    # A sanity check of the capture itself: logging through it works and masks.
    logging.getLogger("gateway.test").warning("login of %s failed", OTHER_ID)
    printed = capture_logs.close()
    assert "1101**********002X" in printed
    assert PASSWORD not in printed


@pytest.mark.django_db
def test_an_object_reference_the_gateway_builds_reaches_the_log_as_it_is():
    from gateway.services.audit_boundary import log_record

    reference = "submission:549d582b-1cd9-4529-9757-c541fac20383"  # digits like ICD-9 codes
    with transaction.atomic():
        log_record(action=AuditAction.ADMIN_LOGIN, actor_kind="admin", actor_id="root",
                   object_ref=reference)  # fmt: skip
        log_record(action=AuditAction.ADMIN_LOGIN, actor_kind="admin", actor_id="root",
                   object_ref="event:320505199003074510")  # fmt: skip
    refs = list(AuditEntry.objects.order_by("id").values_list("object_ref", flat=True))
    assert refs == [reference, "event:3205**********4510"]
