"""A regulator extends the screening policy in the admin; the next submission is refused."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from audit.actions import AuditAction
from audit.models import AuditEntry
from compliance.models import ScreeningCategory, ScreeningTerm
from tests import factories
from tests.conftest import body_json

CITIZEN = "320505199003074510"


@pytest.fixture
def admin_client(client, db):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw-123456")
    client.force_login(user)
    return client


def test_a_new_term_in_an_existing_category_refuses_the_next_submission(world, admin_client):
    record = factories.deduction_record(CITIZEN, data={"location": "干将路", "lab_group": "A"})
    assert world.submit(world.key_a, [record]).status_code == 201

    blood = ScreeningCategory.objects.get(code="blood_type")
    response = admin_client.post(
        "/admin/compliance/screeningterm/add/", {"category": blood.pk, "term": "=lab_group"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert ScreeningTerm.objects.filter(term="=lab_group").exists()

    refused = world.submit(world.key_a, [record])
    assert refused.status_code == 422
    payload = body_json(refused)
    assert payload["violations"] == [
        {"record": 0, "path": "/records/0/data/lab_group", "category": "blood_type"}
    ]
    assert payload["policy_version"] >= 2
    entry = AuditEntry.objects.filter(action=AuditAction.POLICY_CHANGED).latest("id")
    assert entry.actor_id == "root"
    assert ScreeningTerm.history.filter(term="=lab_group").exists()


def test_a_regulator_adds_a_category_without_a_code_change(world, admin_client):
    form = {
        "code": "political_opinion",
        "title_zh": "政治面貌",
        "title_en": "Political opinion",
        "legal_source": "PIPL 28; GDPR 9(1)",
        "is_active": "on",
        "terms-TOTAL_FORMS": "2",
        "terms-INITIAL_FORMS": "0",
        "terms-MIN_NUM_FORMS": "0",
        "terms-MAX_NUM_FORMS": "1000",
        "terms-0-term": "政治面貌",
        "terms-1-term": "political_affiliation",
        "patterns-TOTAL_FORMS": "0",
        "patterns-INITIAL_FORMS": "0",
        "patterns-MIN_NUM_FORMS": "0",
        "patterns-MAX_NUM_FORMS": "1000",
    }
    response = admin_client.post("/admin/compliance/screeningcategory/add/", form)
    assert response.status_code == 302, response.content.decode()[:3000]

    record = factories.deduction_record(
        CITIZEN, data={"location": "干将路", "政治面貌": "群众", "PoliticalAffiliation": "x"}
    )
    refused = world.submit(world.key_a, [record])
    assert refused.status_code == 422
    found = {(v["path"], v["category"]) for v in body_json(refused)["violations"]}
    assert found == {
        ("/records/0/data/政治面貌", "political_opinion"),
        ("/records/0/data/PoliticalAffiliation", "political_opinion"),
    }


def test_a_bad_pattern_is_refused_in_the_admin(world, admin_client):
    blood = ScreeningCategory.objects.get(code="blood_type")
    response = admin_client.post(
        "/admin/compliance/screeningpattern/add/",
        {"category": blood.pk, "name": "broken", "pattern": "(unclosed", "description": ""},
    )
    assert response.status_code == 200  # the form is shown again with the error
    assert "regular expression" in response.content.decode().lower()
    assert world.submit(world.key_a, [factories.deduction_record(CITIZEN)]).status_code == 201


def test_the_monthly_report_shows_refusals_per_department_and_category(world, admin_client):
    prohibited = factories.deduction_record(CITIZEN, data={"blood_type": "AB"})
    for _ in range(3):
        assert world.submit(world.key_a, [prohibited]).status_code == 422
    religion = factories.deduction_record(CITIZEN, data={"宗教信仰": "无"})
    assert world.submit(world.key_b, [religion]).status_code == 422

    page = admin_client.get("/admin/compliance/screeningrefusal/")
    assert page.status_code == 200
    findings = {row["department"]: row for row in page.context["monthly_findings"]}
    assert findings["traffic_police"]["refusals"] == 3
    assert findings["traffic_police"]["categories"] == {"blood_type": 3}
    assert findings["traffic_police"]["finding"] is True
    assert findings["tax"]["categories"] == {"religious_belief": 1}
    assert findings["tax"]["finding"] is False
    assert "AB" not in page.content.decode().split('id="monthly-findings"')[1].split("</table>")[0]
