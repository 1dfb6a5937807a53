"""The public catalogue: GET /api/v1/rules and /api/v1/purposes."""

from tests import factories
from tests.conftest import body_json


def test_rules_list_published_versions_with_departments(world, client):
    factories.rule("traffic.draft_rule", departments=[world.dept_a], status="draft")
    response = client.get("/api/v1/rules")
    assert response.status_code == 200
    rules = {rule["code"]: rule for rule in body_json(response)}
    assert "traffic.draft_rule" not in rules
    entry = rules["traffic.failure_to_yield"]
    assert entry["points"] == -3
    assert entry["departments"] == ["traffic_police"]
    assert entry["legal_basis"] == {
        "law": "《中华人民共和国道路交通安全法》",
        "article": "第四十七条",
    }
    assert entry["effective_from"] == "2026-01-01"
    assert entry["version"] == 1
    assert rules["volunteer.service_hours"]["departments"] == ["tax", "traffic_police"]


def test_purposes_list_what_each_discloses(world, client):
    response = client.get("/api/v1/purposes")
    assert response.status_code == 200
    purposes = {p["code"]: p for p in body_json(response)}
    assert purposes["loan_eligibility"]["discloses"] == "eligibility"
    assert purposes["loan_eligibility"]["departments"] == ["traffic_police"]
    assert purposes["loan_eligibility"]["eligibility"][0]["minimum_score"] == 100


def test_the_catalogue_refuses_writes(world, client):
    assert client.post("/api/v1/rules", {}).status_code == 405
