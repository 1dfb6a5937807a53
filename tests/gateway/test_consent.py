"""Consent-gated data (CRR 14 ¶2, ZJ 14 ¶2, SH 14 ¶2): 422 `consent_required` unless the
record names its written consent, which is audited; the categories are policy data."""

from __future__ import annotations

import pytest

from audit.actions import AuditAction
from audit.models import AuditEntry
from compliance.models import ScreeningCategory, ScreeningTerm
from compliance.services import catalogue_object_save
from gateway.errors import Msg
from gateway.models import ScoreEvent
from gateway.validation import Why
from tests import factories
from tests.conftest import body_json

CITIZEN = "320505199003074510"
ACTOR = {"actor_kind": "regulator", "actor_id": "reg"}
CONSENT = "书面授权 SZ-2026-0042"


def record(data: dict, **extra) -> dict:
    return factories.deduction_record(CITIZEN, data=data, **extra)


@pytest.mark.parametrize(
    "data",
    [
        {"monthly_income": 8200},
        {"存款余额": "12万元"},
        {"securities_holdings": ["600000"]},
        {"commercialInsurance": "寿险"},
        {"real_estate": "姑苏区某小区"},
        {"纳税额": 3000},
    ],
)
def test_consent_gated_data_without_consent_is_422_and_nothing_stored(world, data):
    response = world.submit(world.key_a, [record(data)])
    assert response.status_code == 422
    payload = body_json(response)
    assert payload["error"] == "consent_required"
    assert payload["message"] == str(Msg.CONSENT_REQUIRED)
    assert "CRR 14" in payload["message"]
    # The member's name says what it holds: it is named by its position, as every flagged
    # member name is (the first member of data).
    assert payload["violations"] == [
        {"record": 0, "path": "/records/0/data/#0", "category": "consent_financial"}
    ]
    assert str(next(iter(data.values()))) not in response.content.decode()
    assert not ScoreEvent.objects.exists()
    entry = AuditEntry.objects.get(action=AuditAction.SUBMISSION_REFUSED_CONSENT)
    assert entry.details["categories"] == ["consent_financial"]
    assert entry.legal_basis.startswith("CRR 14")


def test_a_named_consent_lets_the_record_in_and_is_audited(world):
    response = world.submit(
        world.key_a, [record({"monthly_income": 8200}, consent_reference=CONSENT)]
    )
    assert response.status_code == 201, response.content
    entry = AuditEntry.objects.get(action=AuditAction.SUBMISSION_ACCEPTED)
    assert entry.details["consents"] == [{"record": 0, "reference": CONSENT}]


def test_one_records_consent_does_not_cover_another(world):
    response = world.submit(
        world.key_a,
        [
            record({"monthly_income": 8200}),
            record({"monthly_income": 9100}, consent_reference=CONSENT),
        ],
    )
    assert response.status_code == 422
    assert [v["record"] for v in body_json(response)["violations"]] == [0]
    assert not ScoreEvent.objects.exists()


def test_consent_never_admits_prohibited_data(world):
    response = world.submit(world.key_a, [record({"blood_type": "AB"}, consent_reference=CONSENT)])
    assert response.status_code == 422
    assert body_json(response)["error"] == "prohibited_data"


@pytest.mark.parametrize("reference", ["", "   ", 5, "x" * 201])
def test_an_unusable_consent_reference_is_400(world, reference):
    response = world.submit(
        world.key_a, [record({"location": "干将路"}, consent_reference=reference)]
    )
    assert response.status_code == 400
    assert {
        "record": 0,
        "path": "/records/0/consent_reference",
        "message": str(Why.BAD_CONSENT),
    } in body_json(response)["problems"]


def test_an_empty_reference_is_no_consent(world):
    response = world.submit(world.key_a, [record({"monthly_income": 1}, consent_reference=" ")])
    assert response.status_code == 422
    assert body_json(response)["error"] == "consent_required"


class TestPolicyAsData:
    def test_a_regulator_can_gate_another_kind_of_data(self, world):
        category = catalogue_object_save(
            ScreeningCategory(
                code="consent_pension",
                title_zh="养老金数额",
                title_en="Pension amounts",
                legal_source="CRR 14 ¶2",
                needs_consent=True,
            ),
            **ACTOR,
        )
        catalogue_object_save(ScreeningTerm(category=category, term="pension amount"), **ACTOR)
        refused = world.submit(world.key_a, [record({"pension_amount": 3000})])
        assert refused.status_code == 422
        assert body_json(refused)["violations"][0]["category"] == "consent_pension"
        accepted = world.submit(
            world.key_a, [record({"pension_amount": 3000}, consent_reference=CONSENT)]
        )
        assert accepted.status_code == 201

    def test_a_deactivated_category_no_longer_asks_for_consent(self, world):
        category = ScreeningCategory.objects.get(code="consent_financial")
        category.is_active = False
        catalogue_object_save(category, changed_fields=["is_active"], **ACTOR)
        assert world.submit(world.key_a, [record({"monthly_income": 1})]).status_code == 201
