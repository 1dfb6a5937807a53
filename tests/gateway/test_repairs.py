"""Credit repair: /api/v1/me/repairs for residents, /api/v1/repairs for departments."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from unittest import mock

import pytest
from rest_framework.test import APIClient

from audit.actions import AuditAction
from audit.models import AuditEntry
from compliance.selectors import add_working_days
from gateway.identity import vault
from gateway.models import (
    Citizen,
    EventKind,
    EventStatus,
    Notification,
    NotificationKind,
    RepairApplication,
    Score,
    ScoreEvent,
)
from gateway.services.accounts import account_create
from gateway.services.appeals import appeal_file
from gateway.services.notices import notice_text
from gateway.services.repairs import Why
from gateway.services.tokens import account_token_issue
from tests import factories

PASSWORD = "a long test passphrase 42"
ANN_ID = factories.identity_number(serial=601)
BEN_ID = factories.identity_number(serial=602)


def body(response) -> dict:
    return json.loads(response.content)


def score_of(identity: str = ANN_ID) -> int:
    citizen = Citizen.objects.get(identity_index=vault().blind_index(identity))
    return Score.objects.get(citizen=citizen).score


@dataclass
class Residents:
    """On top of ``world``: ann (with an e-mail address) and ben, residents; rev, a reviewer
    of tax. Deductions come from traffic_police through the department API."""

    world: object
    ann: object
    ben: object
    rev: object

    def client(self, account) -> APIClient:
        client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
        _token, plaintext = account_token_issue(user=account.user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {plaintext}")
        return client

    def deduct(self, identity: str = ANN_ID, **overrides) -> ScoreEvent:
        response = self.world.submit(
            self.world.key_a, [factories.deduction_record(identity, **overrides)]
        )
        assert response.status_code == 201, response.content
        return ScoreEvent.objects.get(pk=body(response)["events"][0]["id"])

    def reward(self, identity: str = ANN_ID) -> ScoreEvent:
        record = {
            "citizen_id": identity,
            "rule": "volunteer.service_hours",
            "occurred_at": "2026-11-20T08:30:00+08:00",
            "evidence": {"reference": "VS-2026-1", "issued_by": "苏州市志愿者总会"},
        }
        response = self.world.submit(self.world.key_a, [record])
        assert response.status_code == 201, response.content
        return ScoreEvent.objects.get(pk=body(response)["events"][0]["id"])

    def dispute(self, event: ScoreEvent):
        """The resident objects: the record is flagged disputed (SH 36)."""
        return appeal_file(citizen=event.citizen, event=event, statement="不是我的车。")


def make_residents(world) -> Residents:
    def account(role, username, **kwargs):
        return account_create(role=role, username=username, password=PASSWORD, **kwargs)

    return Residents(
        world=world,
        ann=account("citizen", "ann", citizen_id=ANN_ID, email="ann@example.org"),
        ben=account("citizen", "ben", citizen_id=BEN_ID),
        rev=account("reviewer", "rev", department_code="tax"),
    )


@pytest.fixture
def residents(world) -> Residents:
    return make_residents(world)


def apply(residents, target, *, account=None, **fields):
    payload = {"event": target.pk, "statement": "已缴清罚款并参加交通安全学习。"}
    payload.update(fields)
    return residents.client(account or residents.ann).post(
        "/api/v1/me/repairs", payload, format="json"
    )


def decide(residents, repair_id, decision="confirmed", reason="已核实", key=None):
    return residents.world.client(key or residents.world.key_a).post(
        f"/api/v1/repairs/{repair_id}/decision",
        {"decision": decision, "reason": reason},
        format="json",
    )


def state() -> dict:
    """Everything a repair could change; a refusal must leave it all as it was."""
    return {
        "repairs": list(
            RepairApplication.objects.order_by("pk").values_list("pk", "status", "compensation")
        ),
        "events": list(ScoreEvent.objects.order_by("pk").values_list("pk", "status", "points")),
        "scores": list(Score.objects.order_by("pk").values_list("pk", "points_sum", "score")),
        "audit": AuditEntry.objects.count(),
        "history": RepairApplication.history.count(),
        "notifications": Notification.objects.count(),
    }


def refused(response, status: int, state_before: dict) -> dict:
    assert response.status_code == status, response.content
    payload = body(response)
    assert set(payload) >= {"error", "message"}
    assert state() == state_before
    return payload


class TestFromApplicationToRestoredScore:
    def test_a_confirmed_repair_restores_the_score_at_once(self, residents):
        event = residents.deduct()
        assert score_of() == 97

        response = apply(residents, event, reference="缴款凭证 2026-001")
        assert response.status_code == 201, response.content
        applied = body(response)
        assert applied["status"] == "pending"
        assert applied["event"]["id"] == event.pk
        entry = AuditEntry.objects.get(action=AuditAction.REPAIR_APPLIED)
        assert entry.subject == event.citizen.identity_index
        assert entry.actor_id == f"account:{residents.ann.user.pk}"

        listing = residents.world.client(residents.world.key_a).get("/api/v1/repairs")
        assert listing.status_code == 200
        pending = body(listing)
        assert pending["count"] == 1
        shown = pending["results"][0]
        assert shown["citizen"] == ANN_ID[:4] + "*" * 10 + ANN_ID[-4:]
        assert ANN_ID not in json.dumps(pending)
        assert shown["statement"] == "已缴清罚款并参加交通安全学习。"
        read = AuditEntry.objects.get(action=AuditAction.DATA_READ_BY_REVIEWER)
        assert (read.actor_id, read.subject) == ("traffic_police", entry.subject)

        response = decide(residents, applied["id"])
        assert response.status_code == 200, response.content
        decided = body(response)
        repair = RepairApplication.objects.get()
        assert decided["status"] == repair.status == "confirmed"
        assert score_of() == 100

        compensation = ScoreEvent.objects.get(kind=EventKind.REPAIR)
        event.refresh_from_db()
        assert event.status == EventStatus.REVERSED
        assert event.points == -3  # the ledger is never edited
        assert compensation.compensates_id == event.pk
        assert compensation.points == 3
        assert compensation.expires_at == event.expires_at
        assert compensation.status == EventStatus.ACTIVE
        assert repair.compensation_id == compensation.pk == decided["compensation"]
        assert repair.removed_at is not None
        assert repair.removal_due == add_working_days(repair.decided_at, 3)
        assert decided["removal_due"] == repair.removal_due.isoformat()

        entry = AuditEntry.objects.get(action=AuditAction.REPAIR_DECIDED)
        assert entry.actor_id == "traffic_police"
        assert entry.subject == event.citizen.identity_index
        assert entry.details["compensation"] == compensation.pk
        assert entry.legal_basis == "SH 38; GB22"
        assert list(
            repair.history.order_by("history_date").values_list("history_change_reason", flat=True)
        ) == ["applied", "decided: confirmed"]

        notice = Notification.objects.get(kind=NotificationKind.REPAIR_DECIDED)
        assert notice.repair_id == repair.pk
        assert "信用修复已确认" in notice.title
        assert "SH 38" in notice_text(notice, "en")[1]

        mine = body(residents.client(residents.ann).get("/api/v1/me/repairs"))
        assert [(r["id"], r["status"]) for r in mine] == [(repair.pk, "confirmed")]
        listing = residents.world.client(residents.world.key_a).get("/api/v1/repairs")
        assert body(listing)["count"] == 0

        # The compensating row is among the resident's records.
        events = body(residents.client(residents.ann).get("/api/v1/me/events"))["results"]
        assert {e["id"]: e["kind"] for e in events}[compensation.pk] == "repair"

    def test_a_refused_repair_keeps_the_score_and_may_be_asked_again(self, residents):
        event = residents.deduct()
        repair_id = body(apply(residents, event))["id"]
        response = decide(residents, repair_id, "refused", "罚款尚未缴清")
        assert response.status_code == 200
        assert body(response)["decision_reason"] == "罚款尚未缴清"
        assert score_of() == 97
        assert not ScoreEvent.objects.filter(kind=EventKind.REPAIR).exists()
        notice = Notification.objects.get(kind=NotificationKind.REPAIR_DECIDED)
        assert "罚款尚未缴清" in notice.body
        assert apply(residents, event).status_code == 201

    def test_a_disputed_deduction_can_be_repaired(self, residents):
        event = residents.deduct()
        residents.dispute(event)
        event.refresh_from_db()
        assert event.status == EventStatus.DISPUTED
        repair_id = body(apply(residents, event))["id"]
        assert decide(residents, repair_id).status_code == 200
        assert score_of() == 100


class TestResidentRefusals:
    def test_another_residents_deduction_is_not_found(self, residents):
        event = residents.deduct(BEN_ID)
        before = state()
        payload = refused(apply(residents, event), 404, before)
        assert payload["message"] == Why.NOT_FOUND

    def test_a_reward_is_not_repaired(self, residents):
        reward = residents.reward()
        refused(apply(residents, reward), 400, state())

    def test_one_open_application_per_deduction(self, residents):
        event = residents.deduct()
        assert apply(residents, event).status_code == 201
        payload = refused(apply(residents, event), 409, state())
        assert payload["message"] == Why.ALREADY_OPEN

    def test_a_repaired_deduction_is_not_repaired_twice(self, residents):
        event = residents.deduct()
        decide(residents, body(apply(residents, event))["id"])
        payload = refused(apply(residents, event), 409, state())
        assert "no longer counts" in payload["message"]

    def test_an_expired_deduction_is_not_repaired(self, residents):
        event = residents.deduct()
        later = event.expires_at + dt.timedelta(seconds=1)
        before = state()
        with mock.patch("django.utils.timezone.now", return_value=later):
            response = apply(residents, event)
        refused(response, 409, before)

    @pytest.mark.parametrize(
        ("payload", "path"),
        [
            ({"statement": ""}, "/statement"),
            ({"statement": "  "}, "/statement"),
            ({"statement": 5}, "/statement"),
            ({"statement": "x" * 2001}, "/statement"),
            ({"reference": "x" * 201}, "/reference"),
            ({"event": "1"}, "/event"),
            ({"event": True}, "/event"),
            ({"event": None}, "/event"),
            ({"extra": 1}, "/extra"),
        ],
    )
    def test_bad_input_gets_400_naming_the_field(self, residents, payload, path):
        event = residents.deduct()
        before = state()
        response = apply(residents, event, **payload)
        problems = refused(response, 400, before)["problems"]
        assert path in [p["path"] for p in problems]

    def test_a_body_that_is_not_an_object_gets_400(self, residents):
        residents.deduct()
        client = residents.client(residents.ann)
        assert client.post("/api/v1/me/repairs", [1], format="json").status_code == 400
        response = client.post("/api/v1/me/repairs", "{", content_type="application/json")
        assert response.status_code == 400
        assert body(response)["error"] == "invalid"

    def test_only_a_logged_in_resident_applies(self, residents):
        event = residents.deduct()
        before = state()
        refused(
            APIClient().post("/api/v1/me/repairs", {"event": event.pk}, format="json"), 401, before
        )
        keyed = residents.world.client(residents.world.key_a)
        refused(keyed.post("/api/v1/me/repairs", {"event": event.pk}, format="json"), 401, before)
        reviewer = residents.client(residents.rev)
        refused(reviewer.get("/api/v1/me/repairs"), 403, before)


class TestDepartmentRefusals:
    @pytest.fixture
    def pending(self, residents):
        return body(apply(residents, residents.deduct()))["id"]

    def test_only_the_submitting_department_decides(self, residents, pending):
        before = state()
        refused(decide(residents, pending, key=residents.world.key_b), 404, before)
        listing = residents.world.client(residents.world.key_b).get("/api/v1/repairs")
        assert body(listing)["count"] == 0

    @pytest.mark.parametrize(
        ("decision", "reason", "path"),
        [
            ("approved", "ok", "/decision"),
            (None, "ok", "/decision"),
            ("refused", "", "/reason"),
            ("refused", "   ", "/reason"),
            ("confirmed", 7, "/reason"),
            ("confirmed", "x" * 2001, "/reason"),
        ],
    )
    def test_bad_decisions_get_400(self, residents, pending, decision, reason, path):
        before = state()
        payload = refused(decide(residents, pending, decision, reason), 400, before)
        assert path in [p["path"] for p in payload["problems"]]

    def test_a_decided_application_is_not_decided_again(self, residents, pending):
        decide(residents, pending, "refused", "未纠正")
        payload = refused(decide(residents, pending), 409, state())
        assert "already decided" in payload["message"]

    @pytest.mark.parametrize("repair_id", ["999999", "abc", "1e3", "9" * 30])
    def test_an_unknown_application_gets_404(self, residents, pending, repair_id):
        refused(decide(residents, repair_id), 404, state())

    def test_the_department_needs_its_key(self, residents, pending):
        before = state()
        refused(APIClient().get("/api/v1/repairs"), 401, before)
        refused(
            APIClient().post(f"/api/v1/repairs/{pending}/decision", {}, format="json"), 401, before
        )
        refused(residents.client(residents.ann).get("/api/v1/repairs"), 401, before)

    def test_a_deduction_past_its_period_cannot_be_confirmed(self, residents, pending):
        repair = RepairApplication.objects.get(pk=pending)
        later = repair.event.expires_at + dt.timedelta(days=1)
        before = state()
        with mock.patch("django.utils.timezone.now", return_value=later):
            response = decide(residents, pending)
        assert "no longer counts" in refused(response, 409, before)["message"]


class TestFreeTextIsScreened:
    OTHER_ID = "11010519491231002X"

    def test_an_application_holding_prohibited_data_is_refused_with_its_path(self, residents):
        event = residents.deduct()
        before = state()
        response = apply(residents, event, statement="我患有糖尿病，无法按时缴款。")
        payload = refused(response, 422, before)
        assert payload["error"] == "prohibited_data"
        assert payload["violations"] == [{"path": "/statement", "category": "medical_history"}]
        assert "糖尿病" not in response.content.decode()

    def test_an_application_naming_another_person_by_number_is_refused(self, residents):
        event = residents.deduct()
        before = state()
        response = apply(residents, event, statement=f"罚款由 {self.OTHER_ID} 代缴。")
        payload = refused(response, 400, before)
        assert payload["problems"][0]["path"] == "/statement"
        assert "identity number" in payload["problems"][0]["message"]
        assert self.OTHER_ID not in response.content.decode()

    def test_a_department_s_reasons_are_screened_too(self, residents):
        event = residents.deduct()
        repair_id = body(apply(residents, event))["id"]
        before = state()
        response = decide(residents, repair_id, decision="refused", reason="当事人血型AB型")
        payload = refused(response, 422, before)
        assert payload["violations"] == [{"path": "/reason", "category": "blood_type"}]
