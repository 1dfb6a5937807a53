"""Automated eligibility answers explained, and a person's review of one (PIPL 24)."""

from __future__ import annotations

import datetime as dt
import io
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client

from audit.actions import AuditAction
from audit.models import AuditEntry
from compliance.law import DISPLAY_ZONE
from gateway.models import (
    EligibilityReview,
    EligibilityReviewStatus,
    Notification,
    NotificationKind,
)
from gateway.services import eligibility_reviews as services
from tests.conftest import after_notice_period
from tests.gateway.people import body

EXPLAIN = "/api/v1/me/eligibility/civilization_loan/explanation"
REQUEST = "/api/v1/me/eligibility/civilization_loan/review"
FILED = dt.datetime(2026, 11, 26, 10, 0, tzinfo=DISPLAY_ZONE)  # a Thursday


def request_review(people, statement="My repaired record still counts.", at=None):
    with mock.patch("django.utils.timezone.now", return_value=at or FILED):
        return people.client(people.alice).post(REQUEST, {"statement": statement}, format="json")


def decide(people, account, review_id, **data):
    return people.client(account).post(
        f"/api/v1/eligibility-reviews/{review_id}/decision", data, format="json"
    )


class TestExplanation:
    def test_the_answer_is_explained_with_each_record_rule_points_and_legal_basis(self, people):
        event = people.deduct()
        # Within the notice period departments are not yet told of it (CRR 15): the
        # explanation says so, with the same figures as the department's own read.
        early = body(people.client(people.alice).get(EXPLAIN))
        assert (early["score"], early["answer"]) == (97, False)
        assert (early["score_without_disputed"], early["answer_without_disputed"]) == (100, True)
        assert early["events"][0]["counted_for_departments"] is False
        assert early["events"][0]["not_for_departments"] == "notice_period"
        with after_notice_period():
            response = people.client(people.alice).get(EXPLAIN)
        assert response.status_code == 200, response.content
        found = body(response)
        assert found["threshold"]["code"] == "civilization_loan"
        assert found["threshold"]["minimum_score"] == 100
        assert found["score"] == 97
        assert found["answer"] is False
        assert found["score_without_disputed"] == 97
        assert found["answer_without_disputed"] is False
        assert found["starting_score"] == 100
        assert found["score_range"] == [0, 200]
        assert found["as_of"]
        [row] = found["events"]
        assert row["id"] == event.pk
        assert row["rule"] == event.rule.code
        assert row["points"] == -3
        assert row["legal_basis"] == {
            "law": event.rule.legal_basis_law,
            "article": event.rule.legal_basis_article,
        }
        assert row["counted_for_departments"] is True
        assert found["legal_basis"] == "PIPL 24"
        # The read itself is recorded (ZJ 20).
        entry = AuditEntry.objects.filter(action=AuditAction.SCORE_READ_BY_CITIZEN).last()
        assert entry.details["explained"] == "civilization_loan"

    def test_a_disputed_deduction_is_not_counted_in_what_departments_are_told(self, people):
        event = people.deduct()
        people.file(event)
        with after_notice_period():
            found = body(people.client(people.alice).get(EXPLAIN))
        assert (found["answer"], found["answer_without_disputed"]) == (False, True)
        assert found["events"][0]["counted_for_departments"] is False

    @pytest.mark.parametrize("code", ["nothing", "%00", "A" * 300, "civilization_loan%20"])
    def test_an_unknown_threshold_is_404(self, people, code):
        response = people.client(people.alice).get(f"/api/v1/me/eligibility/{code}/explanation")
        assert response.status_code == 404
        assert body(response)["error"] == "not_found"

    def test_without_login_401_and_for_staff_403(self, people):
        from rest_framework.test import APIClient

        assert APIClient().get(EXPLAIN).status_code == 401
        assert people.client(people.rev_tax).get(EXPLAIN).status_code == 403


class TestRequest:
    def test_a_request_goes_to_the_queue_with_a_working_day_deadline_audited_and_told(self, people):
        people.deduct()
        response = request_review(people)
        assert response.status_code == 201, response.content
        created = body(response)
        # Five working days after Thursday 26 November 2026 (SH 36, ZJ 31).
        assert created["decision_due"] == "2026-12-03"
        assert created["decision_due_computed"] is False
        assert (created["score"], created["answer"], created["minimum_score"]) == (97, False, 100)
        review = EligibilityReview.objects.get(pk=created["id"])
        assert review.reviewer == people.rev_tax.user or review.reviewer == people.rev_traffic.user
        entry = AuditEntry.objects.get(action=AuditAction.ELIGIBILITY_REVIEW_REQUESTED)
        assert entry.object_ref == f"eligibility_review:{review.pk}"
        assert entry.details["decision_due"] == "2026-12-03"
        assert "repaired" not in str(entry.details)  # the statement stays out of the log
        notice = Notification.objects.get(
            eligibility_review=review, kind=NotificationKind.ELIGIBILITY_REVIEW
        )
        assert "2026-12-03" in notice.body
        reviewer = people.rev_tax if review.reviewer == people.rev_tax.user else people.rev_traffic
        queue = body(people.client(reviewer).get("/api/v1/reviewer/eligibility-reviews"))
        assert [r["id"] for r in queue["results"]] == [review.pk]
        mine = body(people.client(people.alice).get("/api/v1/me/eligibility-reviews"))
        assert [r["id"] for r in mine["results"]] == [review.pk]

    def test_a_second_open_request_for_the_same_answer_is_409(self, people):
        assert request_review(people).status_code == 201
        response = request_review(people)
        assert response.status_code == 409
        assert body(response)["error"] == "review_exists"
        assert EligibilityReview.objects.count() == 1

    def test_an_empty_statement_is_400_and_nothing_is_written(self, people):
        before = AuditEntry.objects.count()
        response = request_review(people, statement="  ")
        assert response.status_code == 400
        assert body(response)["problems"][0]["path"] == "/statement"
        assert EligibilityReview.objects.count() == 0
        assert AuditEntry.objects.count() == before

    def test_an_identity_number_in_the_statement_is_400_without_echoing_it(self, people):
        response = request_review(people, statement="See 320505198506125215 please")
        assert response.status_code == 400
        assert "320505198506125215" not in response.content.decode()
        assert EligibilityReview.objects.count() == 0

    def test_prohibited_text_is_422(self, people):
        response = request_review(people, statement="我的宗教信仰是佛教")
        assert response.status_code == 422, response.content
        assert body(response)["error"] == "prohibited_data"
        assert EligibilityReview.objects.count() == 0

    def test_an_unknown_threshold_is_404_and_staff_403(self, people):
        client = people.client(people.alice)
        response = client.post(
            "/api/v1/me/eligibility/nothing/review", {"statement": "Why?"}, format="json"
        )
        assert response.status_code == 404
        staff = people.client(people.reg).post(REQUEST, {"statement": "Why?"}, format="json")
        assert staff.status_code == 403


class TestDecision:
    def _filed(self, people) -> EligibilityReview:
        people.deduct()
        return EligibilityReview.objects.get(pk=body(request_review(people))["id"])

    def _assigned(self, people, review):
        return people.rev_tax if review.reviewer == people.rev_tax.user else people.rev_traffic

    def test_the_reviewer_decides_with_reasons_audited_and_the_resident_told(self, people):
        review = self._filed(people)
        response = decide(
            people,
            self._assigned(people, review),
            review.pk,
            outcome="changed",
            reason="The deduction was repaired last week; the answer is yes.",
        )
        assert response.status_code == 200, response.content
        decided = body(response)
        assert decided["status"] == "decided"
        assert decided["decision"]["outcome"] == "changed"
        assert decided["decision"]["answer"] is True
        entry = AuditEntry.objects.get(action=AuditAction.ELIGIBILITY_REVIEW_DECIDED)
        assert entry.details["reviewed_answer"] is True
        assert "repaired" not in str(entry.details)
        told = Notification.objects.filter(eligibility_review=review).order_by("pk").last()
        assert "repaired last week" in told.body
        assert "理由" in told.body
        # The resident sees the result; a second decision is refused.
        seen = body(people.client(people.alice).get(f"/api/v1/eligibility-reviews/{review.pk}"))
        assert seen["decision"]["outcome"] == "changed"
        again = decide(
            people, self._assigned(people, review), review.pk, outcome="upheld", reason="No."
        )
        assert again.status_code == 409
        assert body(again)["error"] == "review_not_open"

    def test_bad_outcome_and_missing_reasons_are_400(self, people):
        review = self._filed(people)
        response = decide(people, self._assigned(people, review), review.pk, outcome="maybe")
        assert response.status_code == 400
        paths = {p["path"] for p in body(response)["problems"]}
        assert paths == {"/outcome", "/reason"}
        assert EligibilityReview.objects.get(pk=review.pk).status == "pending"

    def test_who_may_decide(self, people):
        review = self._filed(people)
        assigned = self._assigned(people, review)
        other = people.rev_traffic if assigned is people.rev_tax else people.rev_tax
        # Another reviewer does not learn it exists; a regulator waits for escalation.
        assert decide(people, other, review.pk, outcome="upheld", reason="x").status_code == 404
        early = decide(people, people.reg, review.pk, outcome="upheld", reason="x")
        assert early.status_code == 403
        resident = decide(people, people.alice, review.pk, outcome="upheld", reason="x")
        assert resident.status_code == 403
        assert decide(people, assigned, 99999, outcome="upheld", reason="x").status_code == 404
        from rest_framework.test import APIClient

        anonymous = APIClient().post(f"/api/v1/eligibility-reviews/{review.pk}/decision", {})
        assert anonymous.status_code == 401

    def test_an_overdue_review_is_escalated_and_the_regulator_decides(self, people):
        review = self._filed(people)
        out = io.StringIO()
        call_command("escalate_overdue_appeals", "--today", "2026-12-04", stdout=out)
        assert f"eligibility review {review.pk}" in out.getvalue()
        review.refresh_from_db()
        assert review.status == EligibilityReviewStatus.ESCALATED
        assert AuditEntry.objects.filter(action=AuditAction.ELIGIBILITY_REVIEW_ESCALATED).exists()
        queue = body(people.client(people.reg).get("/api/v1/reviewer/eligibility-reviews"))
        assert [r["id"] for r in queue["results"]] == [review.pk]
        response = decide(people, people.reg, review.pk, outcome="upheld", reason="It stands.")
        assert response.status_code == 200, response.content

    def test_nothing_is_escalated_on_the_day_it_is_due(self, people):
        review = self._filed(people)
        assert services.eligibility_reviews_escalate_overdue(today=dt.date(2026, 12, 3)) == []
        review.refresh_from_db()
        assert review.status == EligibilityReviewStatus.PENDING


class TestPortal:
    def _login(self, people) -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(people.alice.user)
        return client

    def test_each_answer_links_to_its_explanation_and_the_form_files_a_request(self, people):
        people.deduct()
        client = self._login(people)
        home = client.get("/portal/")
        assert "/portal/eligibility/civilization_loan/" in home.content.decode()
        page = client.get("/portal/eligibility/civilization_loan/")
        assert page.status_code == 200
        text = page.content.decode()
        assert "Records that counted" in text and "-3" in text
        response = client.post(
            "/portal/eligibility/civilization_loan/", {"statement": "Please check."}
        )
        assert response.status_code == 302
        assert EligibilityReview.objects.filter(citizen=people.alice.citizen).count() == 1
        # While it is pending the form is gone, and a second request is refused.
        page = client.get("/portal/eligibility/civilization_loan/").content.decode()
        assert "Ask for a review</button>" not in page
        refused = client.post("/portal/eligibility/civilization_loan/", {"statement": "Again."})
        assert refused.status_code == 409
        assert EligibilityReview.objects.count() == 1

    def test_an_empty_statement_is_shown_as_a_400(self, people):
        client = self._login(people)
        response = client.post("/portal/eligibility/civilization_loan/", {"statement": " "})
        assert response.status_code == 400
        assert EligibilityReview.objects.count() == 0

    def test_the_reviewer_decides_in_the_portal(self, people):
        people.deduct()
        review = EligibilityReview.objects.get(pk=body(request_review(people))["id"])
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(review.reviewer)
        queue = client.get("/portal/review/").content.decode()
        assert f"/portal/review/eligibility/{review.pk}/" in queue
        page = client.get(f"/portal/review/eligibility/{review.pk}/")
        assert page.status_code == 200
        assert review.statement in page.content.decode()
        refused = client.post(f"/portal/review/eligibility/{review.pk}/", {"outcome": "upheld"})
        assert refused.status_code == 400
        done = client.post(
            f"/portal/review/eligibility/{review.pk}/",
            {"outcome": "upheld", "reason": "Every record counts as it should."},
        )
        assert done.status_code == 302
        review.refresh_from_db()
        assert (review.status, review.outcome) == ("decided", "upheld")

    def test_an_unknown_threshold_is_a_404_page(self, people):
        assert self._login(people).get("/portal/eligibility/nothing/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_failure_midway_leaves_no_request_entry_or_notice(people):
    people.deduct()
    counts = (EligibilityReview.objects.count(), AuditEntry.objects.count())
    with (
        mock.patch(
            "gateway.services.eligibility_reviews.notification_send",
            side_effect=RuntimeError("mail store down"),
        ),
        pytest.raises(RuntimeError),
    ):
        services.eligibility_review_request(
            citizen=people.alice.citizen, threshold_code="civilization_loan", statement="Why?"
        )
    assert (EligibilityReview.objects.count(), AuditEntry.objects.count()) == counts
    assert not Notification.objects.filter(kind=NotificationKind.ELIGIBILITY_REVIEW).exists()
    assert not transaction.get_connection().in_atomic_block


@pytest.mark.django_db(transaction=True)
def test_a_failure_midway_leaves_the_decision_undone(people):
    people.deduct()
    review = services.eligibility_review_request(
        citizen=people.alice.citizen, threshold_code="civilization_loan", statement="Why?"
    )
    before = AuditEntry.objects.count()
    with (
        mock.patch(
            "gateway.services.eligibility_reviews.notification_send",
            side_effect=RuntimeError("mail store down"),
        ),
        pytest.raises(RuntimeError),
    ):
        services.eligibility_review_decide(
            review=review, reviewer=review.reviewer, outcome="upheld", reason="It stands."
        )
    review.refresh_from_db()
    assert review.status == EligibilityReviewStatus.PENDING
    assert AuditEntry.objects.count() == before
