"""The resident's door: GET /api/v1/me/score, /me/events, /me/accesses and /me/appeals."""

from __future__ import annotations

import datetime as dt
import json
from unittest import mock

import pytest
from rest_framework.test import APIClient

from audit.actions import AuditAction
from audit.models import AuditEntry
from gateway.services.appeals import appeal_decide
from tests import factories
from tests.conftest import after_notice_period
from tests.gateway.people import (
    ALICE_ID,
    BOB_ID,
    body,
)

ME = ["/api/v1/me/score", "/api/v1/me/events", "/api/v1/me/accesses", "/api/v1/me/appeals"]
LATER = dt.datetime(2031, 11, 21, 9, 0, tzinfo=dt.UTC)  # past the deduction's five years


@pytest.mark.parametrize("path", ME)
def test_anonymous_callers_get_401(people, path):
    response = APIClient().get(path)
    assert response.status_code == 401
    assert body(response)["error"] == "unauthenticated"
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("path", ME)
@pytest.mark.parametrize("who", ["rev_tax", "reg"])
def test_only_residents_have_a_me(people, path, who):
    response = people.client(getattr(people, who)).get(path)
    assert response.status_code == 403
    assert body(response)["error"] == "forbidden"


def test_a_department_key_is_not_a_resident(people):
    response = people.world.client(people.world.key_a).get("/api/v1/me/score")
    assert response.status_code == 401


class TestMyScore:
    def test_it_shows_the_score_and_every_eligibility_answer(self, people):
        factories.threshold("library_deposit_waiver", minimum=105)
        people.deduct()
        with after_notice_period():
            response = people.client(people.alice).get("/api/v1/me/score")
        assert response.status_code == 200
        payload = body(response)
        assert payload["score"] == 97
        assert payload["disputed_points"] == 0
        assert payload["eligibility"] == {
            "civilization_loan": False,
            "library_deposit_waiver": False,
        }
        assert payload["eligibility_without_disputed"] == payload["eligibility"]
        assert dt.datetime.fromisoformat(payload["as_of"]).tzinfo is not None

    def test_a_disputed_deduction_does_not_count_against_eligibility_while_pending(self, people):
        people.file(people.deduct())
        payload = body(people.client(people.alice).get("/api/v1/me/score"))
        assert payload["score"] == 97
        assert payload["score_without_disputed"] == 100
        assert payload["disputed_points"] == -3
        assert payload["eligibility"] == {"civilization_loan": False}
        assert payload["eligibility_without_disputed"] == {"civilization_loan": True}
        # Departments are told the same (SH 36).
        read = people.world.client(people.world.key_a).get(
            f"/api/v1/citizens/{ALICE_ID}/score?purpose=loan_eligibility"
        )
        assert body(read)["eligibility"] == {"civilization_loan": True}

    def test_each_read_is_recorded_under_the_residents_blind_index(self, people):
        people.client(people.alice).get("/api/v1/me/score")
        entry = AuditEntry.objects.get(action=AuditAction.SCORE_READ_BY_CITIZEN)
        assert entry.subject == people.alice.citizen.identity_index
        assert entry.actor_kind == "citizen"
        assert entry.actor_id == f"account:{people.alice.user.pk}"
        assert "alice" not in json.dumps(entry.details)


class TestMyEvents:
    def test_it_lists_each_record_with_its_source_and_never_its_details(self, people):
        event = people.deduct()
        response = people.client(people.alice).get("/api/v1/me/events")
        assert response.status_code == 200
        payload = body(response)
        assert payload["count"] == 1
        item = payload["results"][0]
        assert item["id"] == event.pk
        assert item["points"] == -3
        assert item["kind"] == "record"
        assert item["status"] == "active"
        assert item["rule"] == {
            "code": "traffic.failure_to_yield",
            "version": 1,
            "title": {"zh": "traffic.failure_to_yield 规则", "en": "traffic.failure_to_yield rule"},
            "legal_basis": {"law": "《中华人民共和国道路交通安全法》", "article": "第四十七条"},
        }
        assert item["department"] == {
            "code": "traffic_police",
            "title": {"zh": "traffic_police 部门", "en": "traffic_police department"},
        }
        assert item["evidence"] == {
            "document": "苏公交决字〔2026〕第123号",
            "issued_by": "苏州市公安局交通警察支队",
            "issued_on": "2026-11-21",
            "procedure": "general",
        }
        assert item["occurred_at"].startswith("2026-11-20")
        assert item["expires_at"].startswith("2031-11-20")
        assert item["compensations"] == [] and item["compensates"] is None
        assert item["open_appeal"] is None and item["appeals"] == []
        assert "干将路" not in response.content.decode()

    def test_it_shows_only_my_records(self, people):
        people.deduct(BOB_ID)
        assert body(people.client(people.alice).get("/api/v1/me/events"))["count"] == 0

    def test_newest_first_and_paginated(self, people):
        first = people.deduct(occurred_at="2026-11-18T08:30:00+08:00")
        second = people.deduct(occurred_at="2026-11-19T08:30:00+08:00")
        third = people.deduct()
        client = people.client(people.alice)
        page = body(client.get("/api/v1/me/events?limit=2"))
        assert (page["count"], page["limit"], page["offset"]) == (3, 2, 0)
        assert [e["id"] for e in page["results"]] == [third.pk, second.pk]
        rest = body(client.get("/api/v1/me/events?limit=2&offset=2"))
        assert [e["id"] for e in rest["results"]] == [first.pk]

    @pytest.mark.parametrize(
        "query", ["limit=0", "limit=201", "limit=abc", "offset=-1", "offset=x", "limit=1.5"]
    )
    def test_bad_paging_gets_400(self, people, query):
        response = people.client(people.alice).get(f"/api/v1/me/events?{query}")
        assert response.status_code == 400
        assert body(response)["error"] == "invalid"
        assert not AuditEntry.objects.filter(action=AuditAction.EVENTS_READ_BY_CITIZEN).exists()

    def test_a_record_past_its_period_shows_as_expired_before_the_job_runs(self, people):
        people.deduct()
        client = people.client(people.alice)
        with mock.patch("django.utils.timezone.now", return_value=LATER):
            item = body(client.get("/api/v1/me/events"))["results"][0]
            score = body(client.get("/api/v1/me/score"))
        assert item["status"] == "expired"
        assert score["score"] == 100

    def test_it_shows_the_open_appeal_and_the_compensating_rows(self, people):
        event = people.deduct()
        appeal = people.file(event)
        client = people.client(people.alice)
        item = body(client.get("/api/v1/me/events"))["results"][0]
        assert item["status"] == "disputed"
        assert item["open_appeal"] == appeal.pk
        assert item["appeals"] == [{"id": appeal.pk, "status": "pending"}]

        appeal_decide(appeal=appeal, reviewer=people.rev_tax.user, outcome="overturned", reason="x")
        results = body(client.get("/api/v1/me/events"))["results"]
        reversal, original = results
        assert original["id"] == event.pk and original["status"] == "reversed"
        assert original["open_appeal"] is None
        assert original["compensations"] == [
            {"id": reversal["id"], "kind": "reversal", "points": 3}
        ]
        assert reversal["compensates"] == event.pk
        assert reversal["expires_at"] == original["expires_at"]
        assert reversal["evidence"]["reference"] == f"appeal:{appeal.pk}"

    def test_each_read_is_recorded(self, people):
        people.client(people.alice).get("/api/v1/me/events?limit=5")
        entry = AuditEntry.objects.get(action=AuditAction.EVENTS_READ_BY_CITIZEN)
        assert entry.subject == people.alice.citizen.identity_index
        assert entry.details == {"limit": 5, "offset": 0, "shown": 0}


class TestMyAccesses:
    def test_a_department_read_shows_who_when_why_and_on_what_basis(self, people):
        people.world.client(people.world.key_a).get(
            f"/api/v1/citizens/{ALICE_ID}/score?purpose=licensing_review"
        )
        response = people.client(people.alice).get("/api/v1/me/accesses")
        assert response.status_code == 200
        payload = body(response)
        assert payload["count"] == 1
        access = payload["results"][0]
        assert access["role"] == "department"
        assert access["department"] == {
            "code": "traffic_police",
            "title": {"zh": "traffic_police 部门", "en": "traffic_police department"},
        }
        assert access["purpose"]["code"] == "licensing_review"
        assert access["purpose"]["title"] == {"zh": "贷款资格", "en": "Loan eligibility"}
        assert "description" in access["purpose"]
        assert "第十九条" in access["legal_basis"]
        assert access["what"]["code"] == AuditAction.SCORE_READ_BY_DEPARTMENT
        assert access["refused"] is False
        assert dt.datetime.fromisoformat(access["time"])

    def test_a_refused_department_read_is_shown_as_refused(self, people):
        people.world.client(people.world.key_b).get(
            f"/api/v1/citizens/{ALICE_ID}/score?purpose=licensing_review"
        )
        access = body(people.client(people.alice).get("/api/v1/me/accesses"))["results"][0]
        assert access["refused"] is True
        assert access["department"]["code"] == "tax"

    def test_my_own_reads_are_left_out_unless_asked_for(self, people):
        client = people.client(people.alice)
        client.get("/api/v1/me/score")
        client.get("/api/v1/me/events")
        assert body(client.get("/api/v1/me/accesses"))["count"] == 0
        own = body(client.get("/api/v1/me/accesses?include_own=true"))
        # The earlier look at the list is there; the read answering now is not.
        assert [a["what"]["code"] for a in own["results"]] == [
            AuditAction.ACCESSES_READ_BY_CITIZEN,
            AuditAction.EVENTS_READ_BY_CITIZEN,
            AuditAction.SCORE_READ_BY_CITIZEN,
        ]
        assert {a["role"] for a in own["results"]} == {"citizen"}

    def test_a_reviewers_read_names_the_department_and_the_purpose(self, people):
        appeal = people.file(people.deduct())
        people.client(people.rev_tax).get(f"/api/v1/appeals/{appeal.pk}")
        access = body(people.client(people.alice).get("/api/v1/me/accesses"))["results"][0]
        assert access["role"] == "reviewer"
        assert access["department"]["code"] == "tax"
        assert access["purpose"]["code"] == "appeal_handling"
        assert access["purpose"]["title"]["en"] == "Handling your objection"
        assert "rev_tax" not in json.dumps(access)

    def test_other_residents_reads_are_not_mine(self, people):
        people.world.client(people.world.key_a).get(
            f"/api/v1/citizens/{BOB_ID}/score?purpose=licensing_review"
        )
        assert body(people.client(people.alice).get("/api/v1/me/accesses"))["count"] == 0

    def test_paginated_newest_first(self, people):
        department = people.world.client(people.world.key_a)
        for purpose in ("licensing_review", "loan_eligibility", "licensing_review"):
            department.get(f"/api/v1/citizens/{ALICE_ID}/score?purpose={purpose}")
        client = people.client(people.alice)
        page = body(client.get("/api/v1/me/accesses?limit=2"))
        assert page["count"] == 3
        assert [a["purpose"]["code"] for a in page["results"]] == [
            "licensing_review",
            "loan_eligibility",
        ]
        assert len(body(client.get("/api/v1/me/accesses?limit=2&offset=2"))["results"]) == 1
        assert client.get("/api/v1/me/accesses?limit=500").status_code == 400

    def test_each_look_is_recorded(self, people):
        people.client(people.alice).get("/api/v1/me/accesses")
        entry = AuditEntry.objects.get(action=AuditAction.ACCESSES_READ_BY_CITIZEN)
        assert entry.subject == people.alice.citizen.identity_index
        assert entry.details["include_own"] is False


class TestMyAppeals:
    def test_filing_answers_201_with_the_deadline(self, people):
        event = people.deduct()
        response = people.client(people.alice).post(
            "/api/v1/me/appeals", {"event": event.pk, "statement": "Not me."}, format="json"
        )
        assert response.status_code == 201
        payload = body(response)
        assert set(payload) == {"id", "status", "decision_due", "decision_due_computed"}
        assert payload["status"] == "pending"
        assert dt.date.fromisoformat(payload["decision_due"])

    def test_it_lists_only_my_appeals(self, people):
        appeal = people.file(people.deduct())
        people.deduct(BOB_ID)
        mine = body(people.client(people.alice).get("/api/v1/me/appeals"))
        assert mine["count"] == 1
        item = mine["results"][0]
        assert item["id"] == appeal.pk
        assert item["statement"] == "The car was not mine."
        assert item["assigned"] is True
        assert "reviewer" not in item
        assert body(people.client(people.bob).get("/api/v1/me/appeals"))["count"] == 0
