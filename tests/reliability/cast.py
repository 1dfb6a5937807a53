"""The cast of the fuzzing and access-matrix tests: one of each role, objects in every state.

Everything is made through the product's own services and doors (the department API for
records, the residents' API for objections), on top of ``tests.conftest.World``:

- department A (traffic_police, key_a) submits deductions; department B (tax, key_b) does not;
- alice (citizen A) and bob (citizen B), residents with deductions from department A;
- rev_tax, the reviewer alice's and bob's appeals are assigned to (another department);
- reg, a regulator; admin, a superuser with no account (the Django admin only);
- alice's appeals in each state: pending, decided, under the regulator's review;
- an unappealed deduction of alice's, and a pending repair application awaiting department A;
- one bob appeal (pending), the objects citizen A must not see;
- alice's pending request for a review of an eligibility answer, assigned to rev_tax;
- a signed checkpoint of the audit log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from audit.services import integrate_all
from gateway.models import Appeal, EligibilityReview, RepairApplication, ScoreEvent
from gateway.services import appeals as appeal_services
from gateway.services.eligibility_reviews import eligibility_review_request
from gateway.services.repairs import repair_apply
from gateway.services.tokens import account_token_issue
from tests import factories
from tests.gateway.people import ALICE_ID, BOB_ID, PASSWORD, make_account

ADMIN_PASSWORD = "an administrator's long passphrase 7"


@dataclass
class Cast:
    world: object
    alice: object
    bob: object
    rev_tax: object
    rev_traffic: object
    reg: object
    admin: object
    # alice's records and appeals
    open_deduction: ScoreEvent  # no appeal, no repair
    pending: Appeal  # assigned to rev_tax
    decided: Appeal  # decided by rev_tax; alice may ask for a review
    under_review: Appeal  # alice asked for the review; the regulator decides
    repair: RepairApplication  # pending, awaiting department A
    # bob's
    bob_deduction: ScoreEvent
    bob_pending: Appeal
    # alice's pending request for a person to review an eligibility answer (PIPL 24)
    eligibility_review: EligibilityReview | None = None

    @property
    def key_a(self) -> str:
        return self.world.key_a

    @property
    def key_b(self) -> str:
        return self.world.key_b

    def token(self, account) -> str:
        return account_token_issue(user=account.user)[1]

    def token_client(self, account) -> APIClient:
        client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
        client.credentials(HTTP_AUTHORIZATION=f"Token {self.token(account)}")
        return client

    def key_client(self, key: str) -> APIClient:
        client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
        return client

    def session_client(self, user) -> Client:
        """A browser session (portal, admin) that sends its CSRF token like a page would."""
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(user)
        return client


def _deduct(world, identity: str, day: int) -> ScoreEvent:
    record = factories.deduction_record(identity, occurred_at=f"2026-11-{day:02d}T08:30:00+08:00")
    record["evidence"] = {**record["evidence"], "issued_on": f"2026-11-{day + 1:02d}"}
    response = world.submit(world.key_a, [record])
    assert response.status_code == 201, response.content
    return ScoreEvent.objects.get(pk=json.loads(response.content)["events"][0]["id"])


def _file(citizen_account, event: ScoreEvent) -> Appeal:
    appeal = appeal_services.appeal_file(
        citizen=citizen_account.citizen, event=event, statement="The car was not mine."
    )
    assert appeal.reviewer_id is not None
    return appeal


def cast_create(world) -> Cast:
    alice = make_account("citizen", "alice", citizen_id=ALICE_ID, email="alice@example.org")
    bob = make_account("citizen", "bob", citizen_id=BOB_ID)
    rev_tax = make_account("reviewer", "rev_tax", department_code="tax")
    rev_traffic = make_account("reviewer", "rev_traffic", department_code="traffic_police")
    reg = make_account("regulator", "reg", email="reg@example.org")
    admin = get_user_model().objects.create_superuser("admin", "admin@example.org", ADMIN_PASSWORD)

    pending = _file(alice, _deduct(world, ALICE_ID, 1))
    assert pending.reviewer_id == rev_tax.user_id

    decided = _file(alice, _deduct(world, ALICE_ID, 2))
    decided = appeal_services.appeal_decide(
        appeal=decided, reviewer=rev_tax.user, outcome="upheld", reason="The record stands."
    )

    under_review = _file(alice, _deduct(world, ALICE_ID, 3))
    under_review = appeal_services.appeal_decide(
        appeal=under_review, reviewer=rev_tax.user, outcome="upheld", reason="It stands."
    )
    under_review = appeal_services.appeal_request_review(
        appeal=under_review, citizen=alice.citizen, statement="Please look again."
    )

    open_deduction = _deduct(world, ALICE_ID, 4)
    repair = repair_apply(
        citizen=alice.citizen,
        event=_deduct(world, ALICE_ID, 5),
        statement="Rectified on the same day.",
        reference="RECT-1",
    )

    bob_deduction = _deduct(world, BOB_ID, 6)
    bob_pending = _file(bob, _deduct(world, BOB_ID, 7))
    eligibility_review = eligibility_review_request(
        citizen=alice.citizen, threshold_code="civilization_loan", statement="Please check."
    )
    assert eligibility_review.reviewer_id == rev_tax.user_id

    integrate_all()
    return Cast(
        world=world,
        alice=alice,
        bob=bob,
        rev_tax=rev_tax,
        rev_traffic=rev_traffic,
        reg=reg,
        admin=admin,
        open_deduction=open_deduction,
        pending=pending,
        decided=decided,
        under_review=under_review,
        repair=repair,
        bob_deduction=bob_deduction,
        bob_pending=bob_pending,
        eligibility_review=eligibility_review,
    )


__all__ = ["ADMIN_PASSWORD", "PASSWORD", "Cast", "cast_create"]
