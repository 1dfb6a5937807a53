"""People for the residents' and appeals tests: accounts made by the service, logins by the API.

On top of ``world`` (traffic_police submits deductions, tax does not):

- alice and bob, residents; alice has a -3 deduction from traffic_police;
- rev_tax, a reviewer of tax: outside the deducting department, so alice's appeals go
  to her; rev_traffic, a reviewer of traffic_police: never assigned those appeals;
- reg, a regulator.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from audit.models import AuditEntry
from gateway.models import Appeal, Citizen, Notification, Score, ScoreEvent
from gateway.services.accounts import account_create
from tests import factories

PASSWORD = "a long demo passphrase 42"
ALICE_ID = "320505198506125215"
BOB_ID = "320583199201018121"


def login(username: str, password: str = PASSWORD) -> APIClient:
    """An API client logged in through POST /api/v1/auth/token."""
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    response = client.post(
        "/api/v1/auth/token", {"username": username, "password": password}, format="json"
    )
    assert response.status_code == 200, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Token {json.loads(response.content)['token']}")
    return client


def session_login(client, username: str, password: str = PASSWORD):
    """CLIENT logged in through the portal's login page, as a browser would (a session)."""
    response = client.post("/portal/login/", {"username": username, "password": password})
    assert response.status_code == 302, response.content
    return client


def body(response) -> dict:
    return json.loads(response.content)


@dataclass
class People:
    world: object
    alice: object
    bob: object
    rev_tax: object
    rev_traffic: object
    reg: object

    def client(self, account) -> APIClient:
        return login(account.user.username)

    def deduct(self, identity: str = ALICE_ID, **overrides) -> ScoreEvent:
        """A -3 deduction from traffic_police, submitted through the department API."""
        response = self.world.submit(
            self.world.key_a, [factories.deduction_record(identity, **overrides)]
        )
        assert response.status_code == 201, response.content
        return ScoreEvent.objects.get(pk=body(response)["events"][0]["id"])

    def reward(self, identity: str = ALICE_ID) -> ScoreEvent:
        record = {
            "citizen_id": identity,
            "rule": "volunteer.service_hours",
            "occurred_at": "2026-11-20T08:30:00+08:00",
            "evidence": {"reference": "VS-2026-1", "issued_by": "苏州市志愿者总会"},
        }
        response = self.world.submit(self.world.key_a, [record])
        assert response.status_code == 201, response.content
        return ScoreEvent.objects.get(pk=body(response)["events"][0]["id"])

    def file(self, event: ScoreEvent, statement: str = "The car was not mine.") -> Appeal:
        response = self.client(self.alice).post(
            "/api/v1/me/appeals", {"event": event.pk, "statement": statement}, format="json"
        )
        assert response.status_code == 201, response.content
        return Appeal.objects.get(pk=body(response)["id"])


def make_account(role: str, username: str, **kwargs):
    return account_create(role=role, username=username, password=PASSWORD, **kwargs)


@pytest.fixture(autouse=True)
def _fresh_throttles(request, django_db_setup, django_db_blocker):
    # Rate limits live in the database's cache table; each test that uses the database
    # starts with none used. (Failed logins are rows of axes's table, rolled back with each
    # test.) A run of tests that never use it has no test database to clear.
    if not (
        request.node.get_closest_marker("django_db") or "_django_db_helper" in request.fixturenames
    ):
        yield
        return
    with django_db_blocker.unblock():
        cache.clear()
    yield
    with django_db_blocker.unblock():
        cache.clear()


@pytest.fixture(autouse=True)
def _long_lived_tokens(settings):
    # Many of these tests log in and then move the clock years ahead (past a record's
    # period, past a deadline); a token lasting hours would have expired by then.
    settings.ACCOUNT_TOKEN_HOURS = 24 * 365 * 20


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Real hashing costs a quarter second a login; these tests log in hundreds of times.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def people(world) -> People:
    return People(
        world=world,
        alice=make_account("citizen", "alice", citizen_id=ALICE_ID, email="alice@example.org"),
        bob=make_account("citizen", "bob", citizen_id=BOB_ID),
        rev_tax=make_account("reviewer", "rev_tax", department_code="tax"),
        rev_traffic=make_account("reviewer", "rev_traffic", department_code="traffic_police"),
        reg=make_account("regulator", "reg", email="reg@example.org"),
    )


def score_of(identity: str = ALICE_ID) -> int:
    from gateway.identity import vault

    citizen = Citizen.objects.get(identity_index=vault().blind_index(identity))
    return Score.objects.get(citizen=citizen).score


def snapshot_counts() -> dict:
    """Everything an act could change; a refusal must leave it all as it was."""
    return {
        "appeals": list(
            Appeal.objects.order_by("pk").values_list(
                "pk", "status", "decision_due", "outcome", "reviewer_id", "extended_at"
            )
        ),
        "events": list(ScoreEvent.objects.order_by("pk").values_list("pk", "status", "points")),
        "scores": list(Score.objects.order_by("pk").values_list("pk", "points_sum", "score")),
        "audit": AuditEntry.objects.count(),
        "history": Appeal.history.count(),
        "notifications": Notification.objects.count(),
    }
