"""Credit repair and notifications in the residents' portal, and the site's front door."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from audit.actions import ActorKind, AuditAction
from audit.models import AuditEntry
from gateway.errors import NotFound
from gateway.models import Notification, RepairApplication, RepairStatus
from gateway.services.notifications import (
    notification_mark_read,
    notifications_unread_count,
)
from gateway.services.repairs import Why, repair_apply, repair_decide

STATEMENT = "Paid the fine and attended the road-safety course."
REFERENCE = "Receipt SZ-2026-778"


def portal(account=None, **kwargs) -> Client:
    client = Client(**kwargs)
    if account is not None:
        client.force_login(account.user)
    return client


def english(account) -> Client:
    """The resident's pages in English, so a test can hold a page to the service's words."""
    return portal(account, HTTP_ACCEPT_LANGUAGE="en")


def text(response) -> str:
    return response.content.decode()


def apply_url(event) -> str:
    return reverse("portal:repair-apply", args=[event.pk])


def apply_through_the_form(client, event, statement=STATEMENT, reference=REFERENCE):
    return client.post(apply_url(event), {"statement": statement, "reference": reference})


# --- offering the way to apply -----------------------------------------------------------


class TestTheApplyLink:
    def test_a_deduction_that_counts_has_the_link(self, people):
        event = people.deduct()
        page = text(portal(people.alice).get(reverse("portal:events")))
        assert apply_url(event) in page

    def test_a_disputed_deduction_still_has_the_link(self, people):
        event = people.deduct()
        people.file(event)
        page = text(portal(people.alice).get(reverse("portal:events")))
        assert apply_url(event) in page

    def test_a_reward_has_no_link(self, people):
        reward = people.reward()
        page = text(portal(people.alice).get(reverse("portal:events")))
        assert apply_url(reward) not in page

    def test_an_open_application_removes_the_link_and_shows_its_status(self, people):
        event = people.deduct()
        repair = repair_apply(citizen=people.alice.citizen, event=event, statement=STATEMENT)
        page = text(english(people.alice).get(reverse("portal:events")))
        assert apply_url(event) not in page
        assert f"{reverse('portal:repairs')}#repair-{repair.pk}" in page
        assert "awaiting the department" in page

    def test_a_refusal_offers_the_link_again(self, people):
        event = people.deduct()
        repair = repair_apply(citizen=people.alice.citizen, event=event, statement=STATEMENT)
        repair_decide(
            department=people.world.dept_a,
            repair_id=repair.pk,
            decision=RepairStatus.REFUSED,
            reason="The fine is unpaid.",
        )
        page = text(portal(people.alice).get(reverse("portal:events")))
        assert apply_url(event) in page

    def test_a_confirmed_repair_leaves_nothing_to_repair(self, people):
        event = people.deduct()
        repair = repair_apply(citizen=people.alice.citizen, event=event, statement=STATEMENT)
        repair_decide(
            department=people.world.dept_a, repair_id=repair.pk, decision=RepairStatus.CONFIRMED
        )
        page = text(portal(people.alice).get(reverse("portal:events")))
        assert apply_url(event) not in page


# --- who may use the pages ---------------------------------------------------------------


class TestWhoMayApply:
    def test_the_form_renders_for_the_resident(self, people):
        event = people.deduct()
        response = portal(people.alice).get(apply_url(event))
        page = text(response)
        assert response.status_code == 200
        assert 'name="statement"' in page and 'name="reference"' in page
        assert 'name="csrfmiddlewaretoken"' in page
        assert "traffic.failure_to_yield 规则" in page

    @pytest.mark.parametrize("who", ["rev_tax", "rev_traffic", "reg"])
    def test_staff_are_refused(self, people, who):
        event = people.deduct()
        client = portal(getattr(people, who))
        assert client.get(apply_url(event)).status_code == 403
        assert client.post(apply_url(event), {"statement": STATEMENT}).status_code == 403
        assert client.get(reverse("portal:repairs")).status_code == 403
        assert not RepairApplication.objects.exists()

    def test_anonymous_visitors_log_in_first(self, people):
        event = people.deduct()
        for url in (apply_url(event), reverse("portal:repairs")):
            response = Client().get(url)
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("portal:login") + "?next=")

    def test_another_residents_record_is_not_found(self, people):
        event = people.deduct()
        client = portal(people.bob)
        assert client.get(apply_url(event)).status_code == 404
        assert apply_through_the_form(client, event).status_code == 404
        assert not RepairApplication.objects.exists()
        assert not AuditEntry.objects.filter(action=AuditAction.REPAIR_APPLIED).exists()

    def test_the_form_needs_the_csrf_token(self, people):
        event = people.deduct()
        client = portal(people.alice, enforce_csrf_checks=True)
        assert apply_through_the_form(client, event).status_code == 403
        assert not RepairApplication.objects.exists()
        token = re.search(
            r'name="csrfmiddlewaretoken" value="([^"]+)"', text(client.get(apply_url(event)))
        ).group(1)
        response = client.post(
            apply_url(event), {"statement": STATEMENT, "csrfmiddlewaretoken": token}
        )
        assert response.status_code == 302
        assert RepairApplication.objects.count() == 1


# --- applying ----------------------------------------------------------------------------


class TestApplying:
    def test_an_application_through_the_form_is_listed_and_audited(self, people):
        event = people.deduct()
        client = english(people.alice)
        response = apply_through_the_form(client, event)
        repair = RepairApplication.objects.get()
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('portal:repairs')}#repair-{repair.pk}"
        assert (repair.event_id, repair.citizen_id) == (event.pk, people.alice.citizen.pk)
        assert (repair.statement, repair.reference) == (STATEMENT, REFERENCE)
        assert repair.status == RepairStatus.PENDING

        page = text(client.get(response["Location"]))
        assert f'id="repair-{repair.pk}"' in page
        assert STATEMENT in page and REFERENCE in page
        assert "awaiting the department" in page
        assert "Your application for credit repair was sent to" in page

        (entry,) = AuditEntry.objects.filter(action=AuditAction.REPAIR_APPLIED)
        assert entry.object_ref == f"repair:{repair.pk}"
        assert entry.subject == people.alice.citizen.identity_index
        assert entry.actor_kind == ActorKind.CITIZEN
        assert entry.actor_id == f"account:{people.alice.user.pk}"
        assert entry.details["event"] == event.pk

    def test_a_second_application_gets_the_services_conflict(self, people):
        event = people.deduct()
        client = english(people.alice)
        assert apply_through_the_form(client, event).status_code == 302
        response = apply_through_the_form(client, event, statement="Once more.")
        assert response.status_code == 409
        assert escape(str(Why.ALREADY_OPEN)) in text(response)
        assert 'name="statement"' in text(response)  # the form is shown again
        assert RepairApplication.objects.count() == 1
        assert AuditEntry.objects.filter(action=AuditAction.REPAIR_APPLIED).count() == 1

    def test_a_missing_statement_is_refused_on_its_field(self, people):
        event = people.deduct()
        response = apply_through_the_form(english(people.alice), event, statement="   ")
        page = text(response)
        assert response.status_code == 400
        assert re.search(
            r'class="errorlist[^"]*"[^>]*>\s*<li>' + re.escape(str(Why.STATEMENT_REQUIRED)), page
        )
        assert not RepairApplication.objects.exists()

    def test_a_reward_is_refused_with_the_services_reason(self, people):
        reward = people.reward()
        response = apply_through_the_form(english(people.alice), reward)
        assert response.status_code == 400
        assert escape(str(Why.NOT_A_DEDUCTION)) in text(response)
        assert not RepairApplication.objects.exists()

    def test_a_deduction_that_no_longer_counts_is_refused(self, people):
        event = people.deduct()
        repair = repair_apply(citizen=people.alice.citizen, event=event, statement=STATEMENT)
        repair_decide(
            department=people.world.dept_a, repair_id=repair.pk, decision=RepairStatus.CONFIRMED
        )
        response = apply_through_the_form(english(people.alice), event)
        assert response.status_code == 409
        assert escape(str(Why.NOT_COUNTED).format(status="reversed")) in text(response)


# --- the list of applications ------------------------------------------------------------


class TestMyRepairs:
    def test_it_is_empty_at_first_and_in_the_navigation(self, people):
        page = text(portal(people.alice).get(reverse("portal:repairs")))
        assert f'href="{reverse("portal:repairs")}" aria-current="page"' in page
        assert "您尚未申请信用修复" in page

    def test_a_confirmed_repair_shows_its_removal_due_date(self, people):
        event = people.deduct()
        repair = repair_apply(citizen=people.alice.citizen, event=event, statement=STATEMENT)
        repair = repair_decide(
            department=people.world.dept_a,
            repair_id=repair.pk,
            decision=RepairStatus.CONFIRMED,
            reason="Fine paid on 2026-11-25.",
        )
        page = text(english(people.alice).get(reverse("portal:repairs")))
        assert "confirmed: removed from the score" in page
        assert "Fine paid on 2026-11-25." in page
        assert repair.removal_due.isoformat() in page

    def test_a_refusal_shows_its_reasons(self, people):
        event = people.deduct()
        repair = repair_apply(citizen=people.alice.citizen, event=event, statement=STATEMENT)
        repair_decide(
            department=people.world.dept_a,
            repair_id=repair.pk,
            decision=RepairStatus.REFUSED,
            reason="The fine is still unpaid.",
        )
        page = text(portal(people.alice).get(reverse("portal:repairs")))
        assert "The fine is still unpaid." in page
        assert 'class="tag refused"' in page

    def test_only_the_residents_own_applications_are_listed(self, people):
        mine = repair_apply(citizen=people.alice.citizen, event=people.deduct(), statement="A.")
        page = text(portal(people.bob).get(reverse("portal:repairs")))
        assert f'id="repair-{mine.pk}"' not in page

    def test_the_report_lists_them(self, people):
        event = people.deduct()
        repair_apply(
            citizen=people.alice.citizen, event=event, statement=STATEMENT, reference=REFERENCE
        )
        page = text(portal(people.alice).get(reverse("portal:report")))
        assert "我的信用修复" in page
        assert STATEMENT in page and REFERENCE in page


# --- notifications -----------------------------------------------------------------------


def unread_badge(page: str) -> str | None:
    found = re.search(r'data-testid="unread"[^>]*>(\d+)<', page)
    return found.group(1) if found else None


class TestMarkingNotificationsRead:
    def test_a_resident_marks_a_notification_read(self, people):
        people.file(people.deduct())  # a deduction notice and an objection receipt
        notice = Notification.objects.filter(citizen=people.alice.citizen).first()
        client = portal(people.alice)
        page = text(client.get(reverse("portal:notifications")))
        assert unread_badge(page) == "2"
        url = reverse("portal:notification-read", args=[notice.pk])
        assert f'action="{url}"' in page

        response = client.post(url)
        assert response.status_code == 302
        assert response["Location"] == (
            f"{reverse('portal:notifications')}#notification-{notice.pk}"
        )
        notice.refresh_from_db()
        assert notice.read_at is not None
        page = text(client.get(reverse("portal:notifications")))
        assert unread_badge(page) == "1"
        assert f'action="{url}"' not in page

        first_read = notice.read_at
        assert client.post(url).status_code == 302  # again: nothing changes
        notice.refresh_from_db()
        assert notice.read_at == first_read

    def test_the_count_is_in_the_navigation_of_every_page(self, people):
        people.deduct()
        page = text(portal(people.alice).get(reverse("portal:home")))
        assert unread_badge(page) == "1"
        Notification.objects.update(read_at="2026-12-01T00:00:00Z")
        page = text(portal(people.alice).get(reverse("portal:home")))
        assert unread_badge(page) is None

    def test_another_residents_notification_is_not_found(self, people):
        people.deduct()
        notice = Notification.objects.get(citizen=people.alice.citizen)
        url = reverse("portal:notification-read", args=[notice.pk])
        assert portal(people.bob).post(url).status_code == 404
        assert portal(people.alice).post(url + "x").status_code == 404
        assert (
            portal(people.bob)
            .post(reverse("portal:notification-read", args=[notice.pk + 1000]))
            .status_code
            == 404
        )
        notice.refresh_from_db()
        assert notice.read_at is None

    def test_staff_may_not_mark_and_a_get_does_nothing(self, people):
        people.deduct()
        notice = Notification.objects.get(citizen=people.alice.citizen)
        url = reverse("portal:notification-read", args=[notice.pk])
        assert portal(people.reg).post(url).status_code == 403
        assert portal(people.alice).get(url).status_code == 405
        notice.refresh_from_db()
        assert notice.read_at is None

    def test_marking_needs_the_csrf_token(self, people):
        people.deduct()
        notice = Notification.objects.get(citizen=people.alice.citizen)
        client = portal(people.alice, enforce_csrf_checks=True)
        url = reverse("portal:notification-read", args=[notice.pk])
        assert client.post(url).status_code == 403
        notice.refresh_from_db()
        assert notice.read_at is None


class TestNotificationService:
    def test_only_the_residents_own_notification_is_marked(self, people):
        people.deduct()
        notice = Notification.objects.get(citizen=people.alice.citizen)
        with pytest.raises(NotFound):
            notification_mark_read(citizen=people.bob.citizen, notification_id=notice.pk)
        assert notifications_unread_count(people.alice.citizen) == 1
        marked = notification_mark_read(citizen=people.alice.citizen, notification_id=notice.pk)
        assert marked.pk == notice.pk and marked.read_at is not None
        assert notifications_unread_count(people.alice.citizen) == 0

    @pytest.mark.parametrize("bad", [0, -1, 2**63, True, "1", None])
    def test_an_impossible_id_is_not_found(self, people, bad):
        with pytest.raises(NotFound):
            notification_mark_read(citizen=people.alice.citizen, notification_id=bad)


# --- the front door ----------------------------------------------------------------------


def test_the_site_root_sends_visitors_to_the_portal(db):
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home") == "/portal/"
