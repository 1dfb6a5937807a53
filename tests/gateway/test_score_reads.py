"""Department score reads: GET /api/v1/citizens/{id}/score and POST /api/v1/score-queries."""

from __future__ import annotations

from audit.actions import AuditAction
from audit.models import AuditEntry
from gateway.identity import vault
from tests import factories
from tests.conftest import after_notice_period, body_json

CITIZEN = "320505199003074510"


def read(world, key, purpose="licensing_review", citizen=CITIZEN):
    query = f"?purpose={purpose}" if purpose is not None else ""
    return world.client(key).get(f"/api/v1/citizens/{citizen}/score{query}")


def test_a_score_purpose_discloses_the_score_and_eligibility(world):
    world.submit(world.key_a, [factories.deduction_record(CITIZEN)])
    with after_notice_period():
        response = read(world, world.key_a)
    assert response.status_code == 200
    payload = body_json(response)
    assert payload["score"] == 97
    assert payload["eligibility"] == {"civilization_loan": False}
    assert "as_of" in payload


def test_an_eligibility_purpose_discloses_no_score(world):
    response = read(world, world.key_a, purpose="loan_eligibility")
    assert response.status_code == 200
    payload = body_json(response)
    assert "score" not in payload
    assert payload["eligibility"] == {"civilization_loan": True}


def test_a_resident_without_records_has_the_starting_score(world):
    response = read(world, world.key_a, citizen=factories.identity_number(serial=11))
    assert body_json(response)["score"] == 100


def test_a_read_without_purpose_gets_400(world):
    response = read(world, world.key_a, purpose=None)
    assert response.status_code == 400
    assert body_json(response)["error"] == "purpose_required"


def test_a_purpose_not_granted_gets_403_and_is_recorded(world):
    response = read(world, world.key_b, purpose="licensing_review")
    assert response.status_code == 403
    assert body_json(response)["error"] == "purpose_not_granted"
    entry = AuditEntry.objects.get(action=AuditAction.SCORE_READ_REFUSED)
    assert entry.actor_id == "tax"


def test_an_unknown_purpose_gets_403(world):
    assert read(world, world.key_a, purpose="curiosity").status_code == 403


def test_an_invalid_identity_number_gets_400_without_echo(world):
    response = read(world, world.key_a, citizen="320505199003074519")
    assert response.status_code == 400
    assert "320505199003074519" not in response.content.decode()


def test_a_read_needs_a_key(world):
    assert read(world, None).status_code == 401


def test_every_read_is_recorded_with_purpose_and_legal_basis(world):
    read(world, world.key_a)
    entry = AuditEntry.objects.get(action=AuditAction.SCORE_READ_BY_DEPARTMENT)
    assert entry.purpose == "licensing_review"
    assert entry.subject == vault().blind_index(CITIZEN)
    assert "第十九条" in entry.legal_basis
    assert entry.actor_id == "traffic_police"


def test_the_body_variant_keeps_the_number_out_of_the_url(world):
    response = world.client(world.key_a).post(
        "/api/v1/score-queries",
        {"citizen_id": CITIZEN, "purpose": "licensing_review"},
        format="json",
    )
    assert response.status_code == 200
    assert body_json(response)["score"] == 100
    missing = world.client(world.key_a).post(
        "/api/v1/score-queries", {"citizen_id": CITIZEN}, format="json"
    )
    assert missing.status_code == 400
