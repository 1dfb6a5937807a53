"""The residents' portal and the reviewers' pages, through Django's test client."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.actions import ActorKind, AuditAction
from audit.models import AuditEntry
from gateway.models import Appeal, AppealStatus, EventStatus, Notification, NotificationKind
from gateway.selectors import score_history
from gateway.services.appeals import appeal_decide
from tests.gateway.people import ALICE_ID, PASSWORD, score_of

RESIDENT_PAGES = [
    "portal:home",
    "portal:events",
    "portal:accesses",
    "portal:appeals",
    "portal:notifications",
    "portal:repairs",
    "portal:report",
]
STAFF_PAGES = ["portal:queue"]


def portal(account=None, **kwargs) -> Client:
    client = Client(**kwargs)
    if account is not None:
        client.force_login(account.user)
    return client


def text(response) -> str:
    return response.content.decode()


def entries(action) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


def department_reads(people) -> None:
    """traffic_police reads alice's eligibility for a loan (identity number in the body)."""
    response = people.world.client(people.world.key_a).post(
        "/api/v1/score-queries",
        {"citizen_id": ALICE_ID, "purpose": "loan_eligibility"},
        format="json",
    )
    assert response.status_code == 200, response.content


# --- who may see what --------------------------------------------------------------------


@pytest.mark.parametrize("name", RESIDENT_PAGES + STAFF_PAGES)
def test_anonymous_visitors_are_sent_to_log_in(people, name):
    response = Client().get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login") + "?next=")


@pytest.mark.parametrize("name", [n for n in RESIDENT_PAGES if n != "portal:home"])
@pytest.mark.parametrize("who", ["rev_tax", "reg"])
def test_staff_do_not_see_residents_pages(people, name, who):
    response = portal(getattr(people, who)).get(reverse(name))
    assert response.status_code == 403


@pytest.mark.parametrize("who", ["rev_tax", "reg"])
def test_the_start_page_sends_staff_to_their_queue(people, who):
    response = portal(getattr(people, who)).get(reverse("portal:home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:queue")


def test_residents_do_not_see_the_reviewers_pages(people):
    appeal = people.file(people.deduct())
    client = portal(people.alice)
    assert client.get(reverse("portal:queue")).status_code == 403
    assert client.get(reverse("portal:review", args=[appeal.pk])).status_code == 403
    response = client.post(
        reverse("portal:decide", args=[appeal.pk]), {"outcome": "overturned", "reason": "mine"}
    )
    assert response.status_code == 403
    assert Appeal.objects.get(pk=appeal.pk).status == AppealStatus.PENDING


def test_a_login_without_an_account_is_refused(people):
    admin = get_user_model().objects.create_superuser("root", "", PASSWORD)
    client = Client()
    response = client.post(reverse("portal:login"), {"username": "root", "password": PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    client = portal()
    client.force_login(admin)
    assert client.get(reverse("portal:events")).status_code == 403


def test_no_identity_number_reaches_a_page_or_a_link(people):
    people.file(people.deduct())
    department_reads(people)
    client = portal(people.alice)
    for name in RESIDENT_PAGES:
        assert ALICE_ID not in text(client.get(reverse(name)))


# --- logging in and out ------------------------------------------------------------------


class TestLogin:
    def test_a_resident_logs_in_and_lands_on_my_score(self, people):
        client = Client()
        response = client.post(
            reverse("portal:login"), {"username": "alice", "password": PASSWORD}, follow=True
        )
        assert response.redirect_chain[-1][0] == reverse("portal:home")
        assert response.status_code == 200
        assert 'data-testid="score"' in text(response)

    def test_a_reviewer_logs_in_and_lands_on_the_queue(self, people):
        response = Client().post(
            reverse("portal:login"), {"username": "rev_tax", "password": PASSWORD}, follow=True
        )
        assert response.redirect_chain[-1][0] == reverse("portal:queue")

    def test_a_wrong_password_is_refused(self, people):
        response = Client().post(
            reverse("portal:login"), {"username": "alice", "password": "wrong"}
        )
        assert response.status_code == 200
        assert 'role="alert"' in text(response)

    def test_logging_out_needs_a_post_and_ends_the_session(self, people):
        client = portal(people.alice)
        assert client.get(reverse("portal:logout")).status_code == 405
        response = client.post(reverse("portal:logout"))
        assert response.status_code == 302
        assert response["Location"] == reverse("portal:login")
        assert client.get(reverse("portal:events")).status_code == 302


# --- the resident's pages ----------------------------------------------------------------


class TestMyScore:
    def test_it_shows_the_score_eligibility_and_history_chart(self, people):
        people.deduct()
        response = portal(people.alice).get(reverse("portal:home"))
        assert response.status_code == 200
        page = text(response)
        assert re.search(r'data-testid="score">97<', page)
        assert "文明贷" in page  # the threshold's Chinese title
        assert "<svg" in page and 'class="score"' in page

    def test_a_disputed_deduction_gives_both_eligibility_answers(self, people):
        people.file(people.deduct())
        response = portal(people.alice).get(reverse("portal:home"))
        row = re.search(r"<tr>\s*<td>文明贷</td>.*?</tr>", text(response), re.S).group(0)
        assert row.index('tag no"') < row.index('tag yes"')  # no with, yes without
        assert "-3" in text(response)

    def test_each_view_is_recorded_as_the_api_read_is(self, people):
        portal(people.alice).get(reverse("portal:home"))
        (entry,) = entries(AuditAction.SCORE_READ_BY_CITIZEN)
        assert entry.subject == people.alice.citizen.identity_index
        assert entry.actor_kind == ActorKind.CITIZEN
        assert entry.actor_id == f"account:{people.alice.user.pk}"


class TestScoreHistory:
    def test_it_starts_at_100_and_follows_the_ledger_to_the_current_score(self, people):
        event = people.deduct()
        people.reward()
        appeal = people.file(event)
        citizen = people.alice.citizen
        scores = [score for _, score in score_history(citizen, now=timezone.now())]
        assert scores[0] == 100
        assert scores[-1] == score_of() == 99
        assert 97 in scores
        appeal_decide(appeal=appeal, reviewer=people.rev_tax.user, outcome="overturned", reason="x")
        scores = [score for _, score in score_history(citizen, now=timezone.now())]
        assert scores[-1] == score_of() == 102

    def test_a_record_leaves_the_history_at_the_end_of_its_period(self, people):
        event = people.deduct()
        later = event.expires_at + dt.timedelta(days=1)
        history = score_history(people.alice.citizen, now=later)
        assert [score for _, score in history] == [100, 97, 100, 100]
        assert history[2][0] == event.expires_at


class TestMyRecords:
    def test_it_shows_each_record_with_its_source_and_an_object_button(self, people):
        event = people.deduct()
        response = portal(people.alice).get(reverse("portal:events"))
        page = text(response)
        assert response.status_code == 200
        assert "traffic.failure_to_yield 规则" in page
        assert "《中华人民共和国道路交通安全法》第四十七条" in page
        assert "traffic_police 部门" in page
        assert "苏公交决字〔2026〕第123号" in page
        assert "-3" in page
        assert (
            event.expires_at.astimezone(timezone.get_current_timezone()).strftime("%Y-%m-%d")
            in page
        )
        assert reverse("portal:appeal-file", args=[event.pk]) in page

    def test_it_shows_the_deduction_notice_in_the_current_language(self, people):
        people.deduct()
        client = portal(people.alice)
        assert "信用扣分告知" in text(client.get(reverse("portal:events")))
        client.post(reverse("set_language"), {"language": "en"})
        page = text(client.get(reverse("portal:events")))
        assert "Notice of a credit deduction" in page
        assert "信用扣分告知" not in page

    def test_a_record_under_objection_has_no_object_button(self, people):
        event = people.deduct()
        people.file(event)
        page = text(portal(people.alice).get(reverse("portal:events")))
        assert reverse("portal:appeal-file", args=[event.pk]) not in page
        assert "有异议" in page

    def test_each_view_is_recorded(self, people):
        people.deduct()
        portal(people.alice).get(reverse("portal:events"))
        (entry,) = entries(AuditAction.EVENTS_READ_BY_CITIZEN)
        assert entry.subject == people.alice.citizen.identity_index
        assert entry.details["shown"] == 1

    def test_bad_paging_is_refused(self, people):
        response = portal(people.alice).get(reverse("portal:events") + "?offset=-1")
        assert response.status_code == 400


class TestWhoSawMyData:
    def test_it_lists_a_departments_read_with_purpose_and_legal_basis(self, people):
        people.deduct()
        department_reads(people)
        response = portal(people.alice).get(reverse("portal:accesses"))
        page = text(response)
        assert "traffic_police 部门" in page
        assert "贷款资格" in page  # the purpose
        assert "《浙江省公共信用信息管理条例》 第十九条" in page
        assert "部门" in page  # the role
        (entry,) = entries(AuditAction.ACCESSES_READ_BY_CITIZEN)
        assert entry.subject == people.alice.citizen.identity_index

    def test_a_reviewers_read_names_the_department_and_purpose(self, people):
        appeal = people.file(people.deduct())
        portal(people.rev_tax).get(reverse("portal:review", args=[appeal.pk]))
        page = text(portal(people.alice).get(reverse("portal:accesses")))
        assert "tax 部门" in page
        assert "处理您的异议" in page


class TestObjecting:
    def test_a_resident_files_an_objection_through_the_form(self, people):
        event = people.deduct()
        client = portal(people.alice)
        form = client.get(reverse("portal:appeal-file", args=[event.pk]))
        assert form.status_code == 200
        response = client.post(
            reverse("portal:appeal-file", args=[event.pk]), {"statement": "Not my car."}
        )
        appeal = Appeal.objects.get(event=event)
        assert response.status_code == 302
        assert response["Location"] == reverse("portal:appeal", args=[appeal.pk])
        assert appeal.statement == "Not my car."
        event.refresh_from_db()
        assert event.status == EventStatus.DISPUTED
        page = text(client.get(response["Location"]))
        assert "Not my car." in page
        assert appeal.decision_due.isoformat() in page

    def test_an_empty_statement_is_refused_with_the_services_reason(self, people):
        event = people.deduct()
        response = portal(people.alice).post(
            reverse("portal:appeal-file", args=[event.pk]), {"statement": "  "}
        )
        assert response.status_code == 400
        assert "errorlist" in text(response)
        assert not Appeal.objects.exists()

    def test_a_second_objection_is_refused(self, people):
        event = people.deduct()
        people.file(event)
        response = portal(people.alice).post(
            reverse("portal:appeal-file", args=[event.pk]), {"statement": "Again."}
        )
        assert response.status_code == 409
        assert Appeal.objects.count() == 1

    def test_another_residents_record_is_not_found(self, people):
        event = people.deduct()
        client = portal(people.bob)
        assert client.get(reverse("portal:appeal-file", args=[event.pk])).status_code == 404
        response = client.post(reverse("portal:appeal-file", args=[event.pk]), {"statement": "x"})
        assert response.status_code == 404
        assert not Appeal.objects.exists()

    def test_another_residents_appeal_is_not_found(self, people):
        appeal = people.file(people.deduct())
        assert portal(people.bob).get(reverse("portal:appeal", args=[appeal.pk])).status_code == 404

    def test_the_resident_follows_the_decision_and_asks_for_a_review(self, people):
        appeal = people.file(people.deduct())
        appeal_decide(
            appeal=appeal, reviewer=people.rev_tax.user, outcome="upheld", reason="Photo shows it."
        )
        client = portal(people.alice)
        listing = text(client.get(reverse("portal:appeals")))
        assert "Photo shows it." in listing
        assert "已作出决定" in listing
        url = reverse("portal:appeal", args=[appeal.pk])
        assert 'name="statement"' in text(client.get(url))
        response = client.post(url, {"statement": "The photo is of another car."})
        assert response.status_code == 302
        appeal.refresh_from_db()
        assert appeal.status == AppealStatus.UNDER_REVIEW
        assert appeal.review_statement == "The photo is of another car."
        again = client.post(url, {"statement": "Once more."})
        assert again.status_code == 409


class TestNotificationsAndReport:
    def test_notifications_are_listed_in_the_current_language(self, people):
        people.file(people.deduct())
        client = portal(people.alice)
        page = text(client.get(reverse("portal:notifications")))
        assert "信用扣分告知" in page
        assert Notification.objects.filter(kind=NotificationKind.APPEAL_FILED).exists()
        client.post(reverse("set_language"), {"language": "en"})
        assert "Notice of a credit deduction" in text(client.get(reverse("portal:notifications")))

    def test_the_report_holds_everything_and_each_part_is_recorded(self, people):
        event = people.deduct()
        people.file(event)
        department_reads(people)
        response = portal(people.alice).get(reverse("portal:report"))
        page = text(response)
        assert response.status_code == 200
        assert "@media print" not in page  # the print rules are in the one stylesheet
        assert "portal/portal.css" in page
        assert "traffic.failure_to_yield 规则" in page
        assert "贷款资格" in page
        assert "The car was not mine." in page
        assert "<svg" in page
        assert people.alice.citizen.identity_masked in page
        for action in (
            AuditAction.SCORE_READ_BY_CITIZEN,
            AuditAction.EVENTS_READ_BY_CITIZEN,
            AuditAction.ACCESSES_READ_BY_CITIZEN,
            AuditAction.REPORT_READ_BY_CITIZEN,
        ):
            (entry,) = entries(action)
            assert entry.subject == people.alice.citizen.identity_index
        assert entries(AuditAction.REPORT_READ_BY_CITIZEN)[0].details["events"] == 1


# --- the reviewers' pages ----------------------------------------------------------------


class TestReviewerPages:
    def test_the_queue_lists_assigned_appeals_oldest_deadline_first(self, people):
        first = people.file(people.deduct())
        second = people.file(people.deduct(occurred_at="2026-11-19T08:30:00+08:00"))
        Appeal.objects.filter(pk=second.pk).update(decision_due=first.decision_due.replace(day=1))
        page = text(portal(people.rev_tax).get(reverse("portal:queue")))
        assert page.index(f"/review/{second.pk}/") < page.index(f"/review/{first.pk}/")
        reads = entries(AuditAction.DATA_READ_BY_REVIEWER)
        assert {e.object_ref for e in reads} == {f"appeal:{first.pk}", f"appeal:{second.pk}"}

    def test_a_reviewer_of_the_deducting_department_sees_nothing(self, people):
        appeal = people.file(people.deduct())
        client = portal(people.rev_traffic)
        assert f"/review/{appeal.pk}/" not in text(client.get(reverse("portal:queue")))
        assert client.get(reverse("portal:review", args=[appeal.pk])).status_code == 404
        response = client.post(
            reverse("portal:decide", args=[appeal.pk]), {"outcome": "overturned", "reason": "x"}
        )
        assert response.status_code == 404

    def test_the_detail_shows_the_record_evidence_and_statement_and_is_recorded(self, people):
        appeal = people.file(people.deduct())
        response = portal(people.rev_tax).get(reverse("portal:review", args=[appeal.pk]))
        page = text(response)
        assert response.status_code == 200
        assert "The car was not mine." in page
        assert "苏公交决字〔2026〕第123号" in page
        assert "第四十七条" in page
        assert 'name="outcome"' in page and 'name="working_days"' in page
        (entry,) = entries(AuditAction.DATA_READ_BY_REVIEWER)
        assert entry.object_ref == f"appeal:{appeal.pk}"
        assert entry.details["department"] == "tax"

    def test_overturning_restores_the_score_and_tells_the_resident(self, people):
        appeal = people.file(people.deduct())
        assert score_of() == 97
        response = portal(people.rev_tax).post(
            reverse("portal:decide", args=[appeal.pk]),
            {"outcome": "overturned", "reason": "The plate was misread.", "points": ""},
        )
        assert response.status_code == 302
        assert response["Location"] == reverse("portal:queue")
        appeal.refresh_from_db()
        assert appeal.outcome == "overturned"
        assert score_of() == 100
        assert Notification.objects.filter(
            kind=NotificationKind.APPEAL_DECIDED, appeal=appeal
        ).exists()

    def test_a_correction_with_bad_points_is_refused_with_the_services_reason(self, people):
        appeal = people.file(people.deduct())
        response = portal(people.rev_tax).post(
            reverse("portal:decide", args=[appeal.pk]),
            {"outcome": "corrected", "reason": "Smaller.", "points": "-5"},
        )
        assert response.status_code == 400
        assert "errorlist" in text(response)
        assert Appeal.objects.get(pk=appeal.pk).status == AppealStatus.PENDING

    def test_a_correction_changes_the_points(self, people):
        appeal = people.file(people.deduct())
        response = portal(people.rev_tax).post(
            reverse("portal:decide", args=[appeal.pk]),
            {"outcome": "corrected", "reason": "Smaller.", "points": "-1"},
        )
        assert response.status_code == 302
        assert score_of() == 99

    def test_the_deadline_is_extended_once(self, people):
        appeal = people.file(people.deduct())
        client = portal(people.rev_tax)
        url = reverse("portal:extend", args=[appeal.pk])
        response = client.post(url, {"working_days": "20", "reason": "Waiting for the police."})
        assert response.status_code == 302
        appeal.refresh_from_db()
        assert appeal.extended_at is not None
        assert client.post(url, {"working_days": "20", "reason": "Again."}).status_code == 409


# --- CSRF and language -------------------------------------------------------------------


class TestCsrfAndLanguage:
    def test_forms_need_the_csrf_token(self, people):
        event = people.deduct()
        client = portal(people.alice, enforce_csrf_checks=True)
        url = reverse("portal:appeal-file", args=[event.pk])
        assert client.post(url, {"statement": "Not mine."}).status_code == 403
        assert not Appeal.objects.exists()
        page = text(client.get(url))
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        response = client.post(url, {"statement": "Not mine.", "csrfmiddlewaretoken": token})
        assert response.status_code == 302
        assert Appeal.objects.count() == 1

    def test_the_login_form_needs_the_csrf_token(self, people):
        client = Client(enforce_csrf_checks=True)
        response = client.post(reverse("portal:login"), {"username": "alice", "password": PASSWORD})
        assert response.status_code == 403

    def test_chinese_is_the_default(self, people):
        page = text(portal(people.alice).get(reverse("portal:home")))
        assert '<html lang="zh-hans">' in page
        assert "我的信用分" in page

    def test_the_switcher_changes_to_english_and_back(self, people):
        client = portal(people.alice)
        response = client.post(
            reverse("set_language"), {"language": "en", "next": reverse("portal:events")}
        )
        assert response.status_code == 302
        assert response["Location"] == reverse("portal:events")
        page = text(client.get(reverse("portal:home")))
        assert '<html lang="en">' in page
        assert "My score" in page and "我的信用分" not in page
        client.post(reverse("set_language"), {"language": "zh-hans"})
        assert "我的信用分" in text(client.get(reverse("portal:home")))

    def test_the_login_page_is_translated(self, people):
        assert "登录" in text(Client().get(reverse("portal:login")))
        english = Client(HTTP_ACCEPT_LANGUAGE="en")
        assert "Log in" in text(english.get(reverse("portal:login")))


class TestRegulatorPages:
    def test_a_regulator_decides_an_escalated_appeal(self, people):
        from gateway.services.appeals import appeals_escalate_overdue

        appeal = people.file(people.deduct())
        appeals_escalate_overdue(today=appeal.decision_due + dt.timedelta(days=1))
        client = portal(people.reg)
        assert f"/review/{appeal.pk}/" in text(client.get(reverse("portal:queue")))
        response = client.post(
            reverse("portal:decide", args=[appeal.pk]),
            {"outcome": "upheld", "reason": "The photo is clear."},
        )
        assert response.status_code == 302
        appeal.refresh_from_db()
        assert (appeal.status, appeal.outcome) == (AppealStatus.DECIDED, "upheld")
        assert appeal.decided_by == people.reg.user

    def test_a_regulator_reviews_a_decision_on_request(self, people):
        appeal = people.file(people.deduct())
        appeal_decide(appeal=appeal, reviewer=people.rev_tax.user, outcome="upheld", reason="x")
        portal(people.alice).post(
            reverse("portal:appeal", args=[appeal.pk]), {"statement": "Please look again."}
        )
        client = portal(people.reg)
        page = text(client.get(reverse("portal:review", args=[appeal.pk])))
        assert "Please look again." in page
        response = client.post(
            reverse("portal:decide", args=[appeal.pk]),
            {"outcome": "overturned", "reason": "The plate was misread."},
        )
        assert response.status_code == 302
        appeal.refresh_from_db()
        assert (appeal.status, appeal.review_outcome) == (AppealStatus.REVIEWED, "overturned")
        assert score_of() == 100

    def test_a_regulator_may_not_decide_a_pending_appeal(self, people):
        appeal = people.file(people.deduct())
        response = portal(people.reg).post(
            reverse("portal:decide", args=[appeal.pk]), {"outcome": "upheld", "reason": "x"}
        )
        assert response.status_code == 403
        assert Appeal.objects.get(pk=appeal.pk).status == AppealStatus.PENDING


def test_a_refusal_is_explained_in_the_residents_language(people):
    event = people.deduct()
    people.file(event)
    client = portal(people.alice)
    url = reverse("portal:appeal-file", args=[event.pk])
    assert "该记录已有异议正在处理" in text(client.post(url, {"statement": "Again."}))
    client.post(reverse("set_language"), {"language": "en"})
    assert "already under objection" in text(client.post(url, {"statement": "Again."}))


def test_logging_in_returns_to_the_page_asked_for(people):
    client = Client()
    target = reverse("portal:accesses")
    response = client.post(
        reverse("portal:login") + f"?next={target}",
        {"username": "alice", "password": PASSWORD, "next": target},
    )
    assert response.status_code == 302
    assert response["Location"] == target


def test_a_post_without_fields_is_refused_by_the_service(people):
    event = people.deduct()
    response = portal(people.alice).post(reverse("portal:appeal-file", args=[event.pk]))
    assert response.status_code == 400
    assert not Appeal.objects.exists()


def test_forms_are_offered_only_to_those_who_may_use_them(people):
    appeal = people.file(people.deduct())
    assert 'name="outcome"' not in text(
        portal(people.reg).get(reverse("portal:review", args=[appeal.pk]))
    )
    appeal_decide(appeal=appeal, reviewer=people.rev_tax.user, outcome="upheld", reason="x")
    page = text(portal(people.rev_tax).get(reverse("portal:review", args=[appeal.pk])))
    assert 'name="outcome"' not in page and 'name="working_days"' not in page
