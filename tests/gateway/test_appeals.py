"""Objections: filing, decision, extension, review, and who may see and do what."""

from __future__ import annotations

import datetime as dt
import threading
from unittest import mock

import pytest
from django.db import connection
from guardian.shortcuts import assign_perm, get_perms
from rest_framework.test import APIClient

from audit.actions import AuditAction
from audit.models import AuditEntry
from compliance.selectors import add_working_days
from gateway.errors import GatewayError
from gateway.models import Appeal, EventStatus, Notification, ScoreEvent
from gateway.services import appeals as services
from tests.gateway.people import (
    ALICE_ID,
    BOB_ID,
    body,
    make_account,
    score_of,
    snapshot_counts,
)

LATER = dt.datetime(2031, 11, 21, 9, 0, tzinfo=dt.UTC)


def post(client, path, payload):
    return client.post(path, payload, format="json")


def refused_over_http(client, path, payload, status, error=None):
    """The call is refused with ``status`` in the error shape and nothing changes."""
    before = snapshot_counts()
    response = post(client, path, payload)
    assert response.status_code == status, response.content
    payload = body(response)
    assert set(payload) >= {"error", "message"}
    if error:
        assert payload["error"] == error
    assert snapshot_counts() == before
    return payload


def decide(people, appeal, outcome="upheld", reason="The decision stands.", **extra):
    return post(
        people.client(people.rev_tax),
        f"/api/v1/appeals/{appeal.pk}/decision",
        {"outcome": outcome, "reason": reason, **extra},
    )


class TestFiling:
    def test_filing_flags_the_record_and_assigns_a_reviewer_outside_its_department(self, people):
        event = people.deduct()
        appeal = people.file(event)
        event.refresh_from_db()
        assert event.status == EventStatus.DISPUTED
        assert appeal.status == "pending"
        assert appeal.reviewer == people.rev_tax.user
        assert "decide_appeal" in get_perms(people.rev_tax.user, appeal)
        assert "decide_appeal" not in get_perms(people.rev_traffic.user, appeal)
        assert appeal.decision_due == add_working_days(appeal.filed_at, 5)
        assert score_of() == 97  # the score keeps it; eligibility does not count it

    def test_no_eligible_reviewer_leaves_the_appeal_to_the_regulators(self, world):
        from tests.gateway.people import People

        alice = make_account("citizen", "alice", citizen_id=ALICE_ID)
        same = make_account("reviewer", "rev_traffic", department_code="traffic_police")
        reg = make_account("regulator", "reg")
        crowd = People(world, alice, None, None, same, reg)
        appeal = crowd.file(crowd.deduct())
        assert appeal.reviewer is None
        queue = body(crowd.client(reg).get("/api/v1/reviewer/appeals"))
        assert [a["id"] for a in queue["results"]] == [appeal.pk]
        assert queue["results"][0]["assigned"] is False
        assert body(crowd.client(same).get("/api/v1/reviewer/appeals"))["count"] == 0
        assert crowd.client(same).get(f"/api/v1/appeals/{appeal.pk}").status_code == 404


class TestReviewerLoad:
    def test_the_reviewer_with_the_fewest_open_appeals_is_chosen(self, people):
        from tests import factories

        factories.department("civil_affairs")
        rev_civil = make_account("reviewer", "rev_civil", department_code="civil_affairs")
        first = people.file(people.deduct())
        second = people.file(people.deduct())
        third = people.file(people.deduct())
        reviewers = [a.reviewer.username for a in (first, second, third)]
        # rev_tax was created first, so wins the first tie; then they alternate.
        assert reviewers == ["rev_tax", "rev_civil", "rev_tax"]
        assert rev_civil.user.assigned_appeals.count() == 1


class TestFilingRefusals:
    @pytest.fixture
    def alice(self, people):
        return people.client(people.alice)

    def test_someone_elses_record_is_not_found(self, people, alice):
        event = people.deduct(BOB_ID)
        payload = refused_over_http(
            alice, "/api/v1/me/appeals", {"event": event.pk, "statement": "x"}, 404, "not_found"
        )
        assert str(event.pk) not in payload["message"]

    def test_an_unknown_record_is_not_found(self, people, alice):
        refused_over_http(
            alice, "/api/v1/me/appeals", {"event": 999999, "statement": "x"}, 404, "not_found"
        )

    @pytest.mark.parametrize("event", [None, "1", 1.5, True, -1, 2**70, [1]])
    def test_a_malformed_record_id_gets_400(self, people, alice, event):
        people.deduct()
        refused_over_http(
            alice, "/api/v1/me/appeals", {"event": event, "statement": "x"}, 400, "invalid"
        )

    @pytest.mark.parametrize(
        "statement", [None, "", "   \n ", 42, ["x"], "x" * 5001, "x" * 100_000]
    )
    def test_an_empty_or_oversized_statement_gets_400(self, people, alice, statement):
        event = people.deduct()
        payload = refused_over_http(
            alice, "/api/v1/me/appeals", {"event": event.pk, "statement": statement}, 400
        )
        assert payload["problems"][0]["path"] == "/statement"

    def test_a_statement_of_5000_characters_is_accepted(self, people, alice):
        event = people.deduct()
        response = post(alice, "/api/v1/me/appeals", {"event": event.pk, "statement": "x" * 5000})
        assert response.status_code == 201

    def test_a_record_already_under_objection_gets_409(self, people, alice):
        event = people.deduct()
        people.file(event)
        refused_over_http(
            alice,
            "/api/v1/me/appeals",
            {"event": event.pk, "statement": "again"},
            409,
            "appeal_exists",
        )

    def test_a_decided_record_gets_409_and_points_to_the_review(self, people, alice):
        event = people.deduct()
        appeal = people.file(event)
        assert decide(people, appeal).status_code == 200
        payload = refused_over_http(
            alice,
            "/api/v1/me/appeals",
            {"event": event.pk, "statement": "again"},
            409,
            "appeal_exists",
        )
        assert "review" in payload["message"]

    def test_a_reversed_record_gets_409(self, people, alice):
        event = people.deduct()
        appeal = people.file(event)
        decide(people, appeal, "overturned")
        reversal = ScoreEvent.objects.get(compensates=event)
        for target in (event, reversal):
            refused_over_http(
                alice,
                "/api/v1/me/appeals",
                {"event": target.pk, "statement": "x"},
                409,
                "not_appealable",
            )

    def test_an_expired_record_gets_409(self, people, alice):
        event = people.deduct()
        with mock.patch("django.utils.timezone.now", return_value=LATER):
            payload = refused_over_http(
                alice,
                "/api/v1/me/appeals",
                {"event": event.pk, "statement": "x"},
                409,
                "not_appealable",
            )
        assert "SH 35" in payload["message"]

    def test_a_reward_is_not_objected_to(self, people, alice):
        event = people.reward()
        refused_over_http(
            alice,
            "/api/v1/me/appeals",
            {"event": event.pk, "statement": "x"},
            409,
            "not_appealable",
        )

    def test_only_residents_file(self, people):
        event = people.deduct()
        refused_over_http(
            people.client(people.rev_tax),
            "/api/v1/me/appeals",
            {"event": event.pk, "statement": "x"},
            403,
            "forbidden",
        )
        refused_over_http(
            APIClient(), "/api/v1/me/appeals", {"event": event.pk, "statement": "x"}, 401
        )

    def test_the_service_refuses_another_residents_record_too(self, people):
        event = people.deduct(BOB_ID)
        with pytest.raises(GatewayError) as info:
            services.appeal_file(citizen=people.alice.citizen, event=event, statement="x")
        assert info.value.status_code == 404


class TestDecision:
    def test_upheld_puts_the_record_back(self, people):
        event = people.deduct()
        appeal = people.file(event)
        response = decide(people, appeal, "upheld", "The camera shows the car.")
        assert response.status_code == 200
        payload = body(response)
        assert payload["status"] == "decided"
        assert payload["decision"]["outcome"] == "upheld"
        assert payload["decision"]["reason"] == "The camera shows the car."
        event.refresh_from_db()
        assert event.status == EventStatus.ACTIVE
        assert not ScoreEvent.objects.filter(compensates=event).exists()
        assert score_of() == 97

    def test_overturned_restores_the_score_with_a_compensating_row(self, people):
        event = people.deduct()
        assert score_of() == 97
        appeal = people.file(event)
        assert decide(people, appeal, "overturned", "Wrong plate.").status_code == 200
        assert score_of() == 100
        event.refresh_from_db()
        assert event.status == EventStatus.REVERSED
        assert event.points == -3  # the ledger is never edited
        reversal = ScoreEvent.objects.get(compensates=event)
        assert (reversal.kind, reversal.points, reversal.status) == ("reversal", 3, "active")
        assert reversal.expires_at == event.expires_at
        entry = AuditEntry.objects.get(action=AuditAction.EVENT_REVERSED)
        assert entry.object_ref == f"event:{reversal.pk}"
        score = body(people.client(people.alice).get("/api/v1/me/score"))
        assert score["score"] == 100 and score["eligibility"] == {"civilization_loan": True}

    def test_corrected_changes_the_points_with_a_correction_row(self, people):
        event = people.deduct()
        appeal = people.file(event)
        response = decide(people, appeal, "corrected", "Minor.", points=-1)
        assert response.status_code == 200
        assert body(response)["decision"]["points"] == -1
        correction = ScoreEvent.objects.get(compensates=event)
        assert (correction.kind, correction.points) == ("correction", 2)
        assert correction.expires_at == event.expires_at
        event.refresh_from_db()
        assert event.status == EventStatus.ACTIVE
        assert score_of() == 99
        assert AuditEntry.objects.filter(action=AuditAction.EVENT_CORRECTED).count() == 1

    def test_a_record_that_expired_while_pending_needs_no_compensation(self, people):
        event = people.deduct()
        appeal = people.file(event)
        services.appeal_decide(
            appeal=appeal,
            reviewer=people.rev_tax.user,
            outcome="overturned",
            reason="x",
            now=LATER,
        )
        assert not ScoreEvent.objects.filter(compensates=event).exists()
        assert Appeal.objects.get(pk=appeal.pk).outcome == "overturned"


class TestDecisionRefusals:
    @pytest.fixture
    def appeal(self, people):
        return people.file(people.deduct())

    @pytest.mark.parametrize(
        ("payload", "path"),
        [
            ({"outcome": "dismissed", "reason": "x"}, "/outcome"),
            ({"reason": "x"}, "/outcome"),
            ({"outcome": "upheld"}, "/reason"),
            ({"outcome": "upheld", "reason": "  "}, "/reason"),
            ({"outcome": "upheld", "reason": "x" * 5001}, "/reason"),
            ({"outcome": "corrected", "reason": "x"}, "/points"),
            ({"outcome": "corrected", "reason": "x", "points": None}, "/points"),
            ({"outcome": "corrected", "reason": "x", "points": "-1"}, "/points"),
            ({"outcome": "corrected", "reason": "x", "points": True}, "/points"),
            ({"outcome": "corrected", "reason": "x", "points": -1.5}, "/points"),
            ({"outcome": "corrected", "reason": "x", "points": 0}, "/points"),
            ({"outcome": "corrected", "reason": "x", "points": -3}, "/points"),
            ({"outcome": "corrected", "reason": "x", "points": -4}, "/points"),
            ({"outcome": "corrected", "reason": "x", "points": 2}, "/points"),
            ({"outcome": "upheld", "reason": "x", "points": -1}, "/points"),
            ({"outcome": "overturned", "reason": "x", "points": 0}, "/points"),
        ],
    )
    def test_bad_input_gets_400(self, people, appeal, payload, path):
        result = refused_over_http(
            people.client(people.rev_tax),
            f"/api/v1/appeals/{appeal.pk}/decision",
            payload,
            400,
            "invalid",
        )
        assert path in [p["path"] for p in result["problems"]]

    def test_a_stranger_reviewer_gets_404(self, people, appeal):
        other = make_account("reviewer", "rev_other", department_code="tax")
        refused_over_http(
            people.client(other),
            f"/api/v1/appeals/{appeal.pk}/decision",
            {"outcome": "overturned", "reason": "x"},
            404,
            "not_found",
        )

    def test_an_unknown_appeal_gets_404(self, people, appeal):
        for path in ("999999", "abc", "1" * 40):
            refused_over_http(
                people.client(people.rev_tax),
                f"/api/v1/appeals/{path}/decision",
                {"outcome": "upheld", "reason": "x"},
                404,
                "not_found",
            )

    def test_a_reviewer_of_the_records_own_department_gets_403(self, people, appeal):
        # Even holding the permission (granted by hand in the admin, say).
        assign_perm("gateway.decide_appeal", people.rev_traffic.user, appeal)
        refused_over_http(
            people.client(people.rev_traffic),
            f"/api/v1/appeals/{appeal.pk}/decision",
            {"outcome": "overturned", "reason": "x"},
            403,
            "separation_of_duties",
        )

    def test_residents_cannot_decide(self, people, appeal):
        refused_over_http(
            people.client(people.alice),
            f"/api/v1/appeals/{appeal.pk}/decision",
            {"outcome": "overturned", "reason": "x"},
            403,
            "forbidden",
        )

    def test_the_service_hides_the_appeal_from_other_residents(self, people, appeal):
        with pytest.raises(GatewayError) as info:
            services.appeal_decide(
                appeal=appeal, reviewer=people.bob.user, outcome="overturned", reason="x"
            )
        assert info.value.status_code == 404
        with pytest.raises(GatewayError) as info:
            services.appeal_decide(
                appeal=appeal, reviewer=people.alice.user, outcome="overturned", reason="x"
            )
        assert info.value.status_code == 403

    def test_a_regulator_waits_for_escalation(self, people, appeal):
        refused_over_http(
            people.client(people.reg),
            f"/api/v1/appeals/{appeal.pk}/decision",
            {"outcome": "overturned", "reason": "x"},
            403,
            "forbidden",
        )

    def test_deciding_twice_gets_409(self, people, appeal):
        assert decide(people, appeal, "overturned", "x").status_code == 200
        refused_over_http(
            people.client(people.rev_tax),
            f"/api/v1/appeals/{appeal.pk}/decision",
            {"outcome": "upheld", "reason": "changed my mind"},
            409,
            "appeal_not_open",
        )
        assert score_of() == 100

    def test_anonymous_gets_401(self, people, appeal):
        refused_over_http(
            APIClient(),
            f"/api/v1/appeals/{appeal.pk}/decision",
            {"outcome": "upheld", "reason": "x"},
            401,
        )

    def test_a_deduction_of_one_point_cannot_be_corrected(self, people):
        from tests import factories

        factories.rule("parking.minor", points=-1, departments=[people.world.dept_a])
        event = people.deduct(rule="parking.minor")
        appeal = people.file(event)
        result = refused_over_http(
            people.client(people.rev_tax),
            f"/api/v1/appeals/{appeal.pk}/decision",
            {"outcome": "corrected", "reason": "x", "points": -1},
            400,
        )
        assert "cannot be made smaller" in result["problems"][0]["message"]


class TestViewing:
    @pytest.fixture
    def appeal(self, people):
        return people.file(people.deduct())

    @pytest.mark.parametrize(("who", "staff"), [("alice", False), ("rev_tax", True), ("reg", True)])
    def test_the_appellant_the_reviewer_and_regulators_see_it(self, people, appeal, who, staff):
        response = people.client(getattr(people, who)).get(f"/api/v1/appeals/{appeal.pk}")
        assert response.status_code == 200
        payload = body(response)
        assert payload["id"] == appeal.pk
        assert payload["event"]["points"] == -3
        assert payload["event"]["evidence"]["document"] == "苏公交决字〔2026〕第123号"
        assert ("reviewer" in payload) is staff
        assert ALICE_ID not in response.content.decode()

    @pytest.mark.parametrize("who", ["bob", "rev_traffic"])
    def test_anyone_else_gets_404(self, people, appeal, who):
        response = people.client(getattr(people, who)).get(f"/api/v1/appeals/{appeal.pk}")
        assert response.status_code == 404
        assert body(response)["error"] == "not_found"
        missing = people.client(getattr(people, who)).get("/api/v1/appeals/999999")
        assert body(missing) == body(response)

    def test_anonymous_gets_401(self, people, appeal):
        assert APIClient().get(f"/api/v1/appeals/{appeal.pk}").status_code == 401

    def test_staff_reads_are_recorded_the_appellants_are_not(self, people, appeal):
        people.client(people.alice).get(f"/api/v1/appeals/{appeal.pk}")
        assert not AuditEntry.objects.filter(action=AuditAction.DATA_READ_BY_REVIEWER).exists()
        people.client(people.rev_tax).get(f"/api/v1/appeals/{appeal.pk}")
        entry = AuditEntry.objects.get(action=AuditAction.DATA_READ_BY_REVIEWER)
        assert entry.subject == people.alice.citizen.identity_index
        assert (entry.actor_kind, entry.actor_id) == ("reviewer", "rev_tax")
        assert entry.purpose == "appeal_handling"
        assert entry.details["department"] == "tax"

    def test_a_reviewer_lists_assigned_appeals_oldest_deadline_first(self, people):
        first = people.file(people.deduct())
        post(
            people.client(people.rev_tax),
            f"/api/v1/appeals/{first.pk}/extension",
            {"reason": "Waiting for the department's file."},
        )
        second = people.file(people.deduct())
        response = people.client(people.rev_tax).get("/api/v1/reviewer/appeals")
        assert response.status_code == 200
        payload = body(response)
        assert [a["id"] for a in payload["results"]] == [second.pk, first.pk]
        assert payload["results"][0]["reviewer"] == "rev_tax"
        assert AuditEntry.objects.filter(action=AuditAction.DATA_READ_BY_REVIEWER).count() == 2
        assert body(people.client(people.rev_traffic).get("/api/v1/reviewer/appeals"))["count"] == 0
        filtered = people.client(people.rev_tax).get("/api/v1/reviewer/appeals?status=decided")
        assert body(filtered)["count"] == 0

    def test_residents_have_no_reviewer_list(self, people):
        assert people.client(people.alice).get("/api/v1/reviewer/appeals").status_code == 403
        assert APIClient().get("/api/v1/reviewer/appeals").status_code == 401


class TestExtension:
    @pytest.fixture
    def appeal(self, people):
        return people.file(people.deduct())

    def extend(self, people, appeal, **payload):
        return post(
            people.client(people.rev_tax),
            f"/api/v1/appeals/{appeal.pk}/extension",
            {"reason": "The department's file is late.", **payload},
        )

    def test_it_extends_to_20_working_days_from_filing(self, people, appeal):
        response = self.extend(people, appeal)
        assert response.status_code == 200
        appeal.refresh_from_db()
        assert appeal.decision_due == add_working_days(appeal.filed_at, 20)
        assert appeal.extension_reason == "The department's file is late."
        assert body(response)["decision_due"] == appeal.decision_due.isoformat()

    def test_a_shorter_total_may_be_chosen(self, people, appeal):
        assert self.extend(people, appeal, working_days=10).status_code == 200
        appeal.refresh_from_db()
        assert appeal.decision_due == add_working_days(appeal.filed_at, 10)

    def test_only_once(self, people, appeal):
        self.extend(people, appeal, working_days=10)
        refused_over_http(
            people.client(people.rev_tax),
            f"/api/v1/appeals/{appeal.pk}/extension",
            {"reason": "again"},
            409,
            "extension_refused",
        )

    def test_only_while_pending(self, people, appeal):
        decide(people, appeal)
        refused_over_http(
            people.client(people.rev_tax),
            f"/api/v1/appeals/{appeal.pk}/extension",
            {"reason": "late"},
            409,
            "appeal_not_open",
        )

    def test_not_after_the_deadline(self, people, appeal):
        late = dt.datetime.combine(
            appeal.decision_due + dt.timedelta(days=1), dt.time(10), tzinfo=dt.UTC
        )
        with pytest.raises(GatewayError) as info:
            services.appeal_extend(
                appeal=appeal, reviewer=people.rev_tax.user, reason="late", now=late
            )
        assert info.value.code == "extension_refused"

    @pytest.mark.parametrize(
        ("payload", "path"),
        [
            ({"working_days": 21}, "/working_days"),
            ({"working_days": 5}, "/working_days"),
            ({"working_days": "20"}, "/working_days"),
            ({"working_days": None}, "/working_days"),
            ({"reason": ""}, "/reason"),
            ({"reason": None}, "/reason"),
        ],
    )
    def test_bad_input_gets_400(self, people, appeal, payload, path):
        result = refused_over_http(
            people.client(people.rev_tax),
            f"/api/v1/appeals/{appeal.pk}/extension",
            {"reason": "late", **payload},
            400,
            "invalid",
        )
        assert path in [p["path"] for p in result["problems"]]

    def test_strangers_get_404_the_appellant_403(self, people, appeal):
        other = make_account("reviewer", "rev_other", department_code="tax")
        refused_over_http(
            people.client(other),
            f"/api/v1/appeals/{appeal.pk}/extension",
            {"reason": "x"},
            404,
        )
        refused_over_http(
            people.client(people.alice),
            f"/api/v1/appeals/{appeal.pk}/extension",
            {"reason": "x"},
            403,
        )
        refused_over_http(
            people.client(people.reg),
            f"/api/v1/appeals/{appeal.pk}/extension",
            {"reason": "x"},
            403,
        )


class TestReview:
    @pytest.fixture
    def decided(self, people):
        appeal = people.file(people.deduct())
        assert decide(people, appeal, "upheld", "The camera shows the car.").status_code == 200
        return appeal

    def request(self, people, appeal, statement="The camera is wrong."):
        return post(
            people.client(people.alice),
            f"/api/v1/appeals/{appeal.pk}/review-request",
            {"statement": statement},
        )

    def review(self, people, appeal, outcome, **extra):
        return post(
            people.client(people.reg),
            f"/api/v1/appeals/{appeal.pk}/review",
            {"outcome": outcome, "reason": "Reviewed.", **extra},
        )

    def test_the_appellant_asks_and_the_regulator_overturns(self, people, decided):
        response = self.request(people, decided)
        assert response.status_code == 200
        assert body(response)["status"] == "under_review"
        assert body(response)["review_statement"] == "The camera is wrong."
        response = self.review(people, decided, "overturned")
        assert response.status_code == 200
        payload = body(response)
        assert payload["status"] == "reviewed"
        assert payload["decision"]["outcome"] == "upheld"  # the first decision is kept
        assert payload["review"]["outcome"] == "overturned"
        assert score_of() == 100
        assert ScoreEvent.objects.get(compensates=decided.event).kind == "reversal"

    def test_a_regulator_can_reinstate_an_overturned_record(self, people):
        event = people.deduct()
        appeal = people.file(event)
        decide(people, appeal, "overturned", "Wrong plate.")
        assert score_of() == 100
        self.request(people, appeal)
        assert self.review(people, appeal, "corrected", points=-2).status_code == 200
        assert score_of() == 98
        event.refresh_from_db()
        assert event.status == EventStatus.ACTIVE
        assert sorted(
            ScoreEvent.objects.filter(compensates=event).values_list("points", flat=True)
        ) == [-2, 3]

    def test_a_review_needs_a_decision_first(self, people):
        appeal = people.file(people.deduct())
        refused_over_http(
            people.client(people.alice),
            f"/api/v1/appeals/{appeal.pk}/review-request",
            {"statement": "x"},
            409,
            "appeal_not_open",
        )

    def test_a_review_is_asked_for_once(self, people, decided):
        self.request(people, decided)
        refused_over_http(
            people.client(people.alice),
            f"/api/v1/appeals/{decided.pk}/review-request",
            {"statement": "again"},
            409,
            "appeal_not_open",
        )

    @pytest.mark.parametrize("statement", ["", None, "x" * 5001])
    def test_a_review_request_needs_a_statement(self, people, decided, statement):
        refused_over_http(
            people.client(people.alice),
            f"/api/v1/appeals/{decided.pk}/review-request",
            {"statement": statement},
            400,
            "invalid",
        )

    def test_only_the_appellant_asks(self, people, decided):
        refused_over_http(
            people.client(people.bob),
            f"/api/v1/appeals/{decided.pk}/review-request",
            {"statement": "x"},
            404,
            "not_found",
        )
        refused_over_http(
            people.client(people.rev_tax),
            f"/api/v1/appeals/{decided.pk}/review-request",
            {"statement": "x"},
            403,
        )

    def test_only_a_regulator_reviews(self, people, decided):
        self.request(people, decided)
        for who in ("rev_tax", "alice"):
            refused_over_http(
                people.client(getattr(people, who)),
                f"/api/v1/appeals/{decided.pk}/review",
                {"outcome": "overturned", "reason": "x"},
                403,
            )

    def test_the_service_hides_the_review_from_strangers(self, people, decided):
        self.request(people, decided)
        with pytest.raises(GatewayError) as info:
            services.appeal_review_decide(
                appeal=decided, regulator=people.rev_traffic.user, outcome="upheld", reason="x"
            )
        assert info.value.status_code == 404

    def test_a_review_without_a_request_gets_409(self, people, decided):
        refused_over_http(
            people.client(people.reg),
            f"/api/v1/appeals/{decided.pk}/review",
            {"outcome": "overturned", "reason": "x"},
            409,
            "appeal_not_open",
        )

    @pytest.mark.parametrize(
        "payload",
        [
            {"outcome": "overturned"},
            {"outcome": "maybe", "reason": "x"},
            {"outcome": "corrected", "reason": "x"},
            {"outcome": "corrected", "reason": "x", "points": -7},
        ],
    )
    def test_a_bad_review_gets_400(self, people, decided, payload):
        self.request(people, decided)
        refused_over_http(
            people.client(people.reg),
            f"/api/v1/appeals/{decided.pk}/review",
            payload,
            400,
            "invalid",
        )


class TestEveryStepLeavesItsTrace:
    def trace(self, appeal, action):
        """The audit entry, the history row and the appellant's notification of one step."""
        entry = (
            AuditEntry.objects.filter(action=action, object_ref=f"appeal:{appeal.pk}")
            .order_by("-id")
            .first()
        )
        assert entry is not None, action
        assert entry.subject == appeal.citizen.identity_index
        assert entry.legal_basis
        history = Appeal.history.filter(id=appeal.pk).order_by("-history_id").first()
        notification = Notification.objects.filter(appeal=appeal).order_by("-id").first()
        assert notification.citizen_id == appeal.citizen_id
        return entry, history, notification

    def test_file_extend_decide_request_review(
        self, people, mailoutbox, django_capture_on_commit_callbacks
    ):
        event = people.deduct()
        with django_capture_on_commit_callbacks(execute=True):
            appeal = people.file(event)
        entry, history, note = self.trace(appeal, AuditAction.APPEAL_FILED)
        assert (entry.actor_kind, entry.actor_id) == ("citizen", f"account:{people.alice.user.pk}")
        assert history.history_type == "+" and history.history_user == people.alice.user
        assert note.kind == "appeal_filed"
        assert appeal.decision_due.isoformat() in note.body
        assert [m.to for m in mailoutbox] == [["alice@example.org"]]

        post(
            people.client(people.rev_tax),
            f"/api/v1/appeals/{appeal.pk}/extension",
            {"reason": "Late file."},
        )
        entry, history, note = self.trace(appeal, AuditAction.APPEAL_EXTENDED)
        assert (entry.actor_kind, entry.actor_id) == ("reviewer", "rev_tax")
        assert history.history_user == people.rev_tax.user and history.extended_at is not None
        assert note.kind == "appeal_extended"

        decide(people, appeal, "corrected", "Minor.", points=-2)
        entry, history, note = self.trace(appeal, AuditAction.APPEAL_DECIDED)
        assert entry.details["outcome"] == "corrected" and entry.details["stage"] == "decision"
        assert history.status == "decided"
        assert note.kind == "appeal_decided"
        assert "Minor." in note.body and "ZJ 30" in note.body

        post(
            people.client(people.alice),
            f"/api/v1/appeals/{appeal.pk}/review-request",
            {"statement": "No."},
        )
        entry, history, note = self.trace(appeal, AuditAction.APPEAL_REVIEW_REQUESTED)
        assert history.status == "under_review"
        assert note.kind == "appeal_review"

        post(
            people.client(people.reg),
            f"/api/v1/appeals/{appeal.pk}/review",
            {"outcome": "upheld", "reason": "Stands."},
        )
        entry, history, note = self.trace(appeal, AuditAction.APPEAL_DECIDED)
        assert entry.details["stage"] == "review" and entry.actor_kind == "regulator"
        assert history.status == "reviewed" and history.history_user == people.reg.user
        assert note.kind == "appeal_review" and "Stands." in note.body
        assert score_of() == 97
        assert Appeal.history.filter(id=appeal.pk).count() == 5
        assert Notification.objects.filter(appeal=appeal).count() == 5


def test_two_filings_at_once_make_one_appeal(transactional_db, people):
    event = people.deduct()
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def file_once():
        try:
            barrier.wait(timeout=10)
            services.appeal_file(citizen=people.alice.citizen, event=event, statement="x")
            outcomes.append("filed")
        except GatewayError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=file_once) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["appeal_exists", "filed"]
    assert Appeal.objects.filter(event=event).count() == 1
