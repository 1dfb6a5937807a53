"""Failed logins lock a caller out (django-axes), on each of the three logins, one count.

Run against the configured limits (settings.AXES_FAILURE_LIMIT and AXES_COOLOFF_TIME, from
LOGIN_FAILURE_LIMIT and LOGIN_COOLOFF_SECONDS): after the limit of wrong passwords for a
username from an address, even the right password is refused with 429 and Retry-After,
in the API's error shape or on a translated page; a success before the limit clears the
failures; the wait over, the right password works again.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from rest_framework.test import APIClient

from audit.models import AuditEntry
from config.env import lockout_parameters
from gateway.models import AccountToken
from tests.gateway.people import ALICE_ID, PASSWORD, body

pytestmark = pytest.mark.django_db

WRONG = "not the passphrase"


class Door:
    """One of the three logins: the portal's page, the token API, the admin's page."""

    def __init__(self, name: str, path: str, username: str):
        self.name, self.path, self.username = name, path, username

    def client(self, address: str = "10.1.0.1") -> Client:
        return (APIClient if self.name == "api" else Client)(
            REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE="en"
        )

    def attempt(self, client: Client, password: str, username: str | None = None):
        data = {"username": username or self.username, "password": password}
        if self.name == "api":
            return client.post(self.path, data, format="json")
        return client.post(self.path, data)

    def logged_in(self, client: Client, response) -> bool:
        if self.name == "api":
            return response.status_code == 200 and "token" in body(response)
        return response.status_code == 302 and "_auth_user_id" in client.session


DOORS = [
    Door("portal", "/portal/login/", "alice"),
    Door("api", "/api/v1/auth/token", "alice"),
    Door("admin", "/admin/login/", "reg"),
]


def fail(door: Door, client: Client, times: int) -> list[int]:
    return [door.attempt(client, WRONG).status_code for _ in range(times)]


def assert_locked_out(door: Door, response) -> None:
    assert response.status_code == 429
    assert int(response["Retry-After"]) == int(settings.AXES_COOLOFF_TIME.total_seconds())
    if door.name == "api":
        assert response["Content-Type"].startswith("application/json")
        assert body(response)["error"] == "throttled"
        assert response["Retry-After"] in body(response)["message"]
    else:
        assert response["Content-Type"].startswith("text/html")
        assert "Too many attempts. Try again in" in response.content.decode()


@pytest.fixture(params=DOORS, ids=[door.name for door in DOORS])
def door(request, people) -> Door:
    return request.param


def test_the_limit_is_the_configured_one_and_counted_in_the_database():
    assert settings.AXES_HANDLER == "axes.handlers.database.AxesDatabaseHandler"
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AXES_FAILURE_LIMIT >= 3
    assert settings.AXES_RESET_ON_SUCCESS is True


def test_wrong_passwords_then_the_right_one_is_refused(door):
    client = door.client()
    limit = settings.AXES_FAILURE_LIMIT
    codes = fail(door, client, limit)
    # The failures before the limit are ordinary refusals; the one reaching it locks out.
    assert 429 not in codes[:-1], codes
    assert codes[-1] == 429, codes
    tokens = AccountToken.objects.count()
    response = door.attempt(client, PASSWORD)
    assert_locked_out(door, response)
    assert not door.logged_in(client, response)
    assert AccountToken.objects.count() == tokens


def test_the_lockout_page_speaks_chinese_by_default(people):
    client = Client(REMOTE_ADDR="10.1.0.2")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/portal/login/", {"username": "alice", "password": WRONG})
    response = client.post("/portal/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 429
    assert "尝试次数过多" in response.content.decode()


def test_the_count_is_per_username_and_address(door):
    fail(door, door.client("10.1.0.3"), settings.AXES_FAILURE_LIMIT)
    # The same person from another address, and another username from the same address.
    other_address = door.client("10.1.0.4")
    assert door.logged_in(other_address, door.attempt(other_address, PASSWORD))
    same_address = door.client("10.1.0.3")
    response = door.attempt(same_address, WRONG, username="bob")
    assert response.status_code != 429


def test_a_forwarded_for_header_does_not_make_another_address(people):
    # NUM_PROXIES is 0: the header is the caller's own text, not an address to count by.
    door = DOORS[1]
    for n in range(settings.AXES_FAILURE_LIMIT):
        door.client().post(
            door.path,
            {"username": "alice", "password": WRONG},
            format="json",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}",
        )
    response = door.client().post(
        door.path,
        {"username": "alice", "password": PASSWORD},
        format="json",
        HTTP_X_FORWARDED_FOR="192.0.2.200",
    )
    assert response.status_code == 429


def test_the_three_logins_share_one_count(people):
    portal, api, _admin = DOORS
    client = api.client()
    fail(api, client, settings.AXES_FAILURE_LIMIT - 1)
    # The last failure, on the portal, reaches the limit for alice from this address.
    portal_client = portal.client()
    assert portal.attempt(portal_client, WRONG).status_code == 429
    assert_locked_out(api, api.attempt(client, PASSWORD))


def test_a_success_before_the_limit_clears_the_failures(door):
    client = door.client()
    limit = settings.AXES_FAILURE_LIMIT
    assert 429 not in fail(door, client, limit - 1)
    assert door.logged_in(client, door.attempt(client, PASSWORD))
    # Counted from nought again: as many failures once more before the lockout.
    client = door.client()
    codes = fail(door, client, limit)
    assert 429 not in codes[:-1] and codes[-1] == 429, codes


def test_the_right_password_works_again_after_the_wait(door):
    client = door.client()
    fail(door, client, settings.AXES_FAILURE_LIMIT)
    assert door.attempt(client, PASSWORD).status_code == 429
    # The cool-off has passed for every recorded failure.
    past = settings.AXES_COOLOFF_TIME + dt.timedelta(seconds=1)
    for attempt in AccessAttempt.objects.all():
        AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=attempt.attempt_time - past)
    client = door.client()
    assert door.logged_in(client, door.attempt(client, PASSWORD))


def test_a_typed_identity_number_is_stored_and_logged_only_as_a_keyed_hash(people, caplog):
    client = Client(REMOTE_ADDR="10.1.0.5")
    caplog.set_level(logging.DEBUG)
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        client.post("/portal/login/", {"username": ALICE_ID, "password": WRONG})
        APIClient(REMOTE_ADDR="10.1.0.5").post(
            "/api/v1/auth/token",
            {"username": f" {ALICE_ID.lower()} ", "password": WRONG},
            format="json",
        )
    attempts = list(AccessAttempt.objects.values())
    assert attempts
    stored = json.dumps(attempts, default=str)
    assert ALICE_ID not in stored and ALICE_ID[:14] not in stored
    # One username for both ways of typing it: the same count.
    assert {row["username"] for row in attempts} == {attempts[0]["username"]}
    assert attempts[0]["username"].startswith("id-hash:")
    assert sum(row["failures_since_start"] for row in attempts) == 2 * (
        settings.AXES_FAILURE_LIMIT + 1
    )
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "AXES" in logged
    assert ALICE_ID not in logged and ALICE_ID[:14] not in logged
    assert not AuditEntry.objects.filter(actor_id__contains=ALICE_ID[:14]).exists()


def test_an_ordinary_username_is_recorded_as_typed_in_lower_case(people):
    Client(REMOTE_ADDR="10.1.0.6").post("/portal/login/", {"username": " Alice ", "password": "x"})
    assert list(AccessAttempt.objects.values_list("username", "ip_address")) == [
        ("alice", "10.1.0.6")
    ]


@pytest.mark.parametrize(
    ("value", "parameters"),
    [
        ("username+ip_address", [["username", "ip_address"]]),
        ("ip_address", ["ip_address"]),
        ("username, ip_address+user_agent", ["username", ["ip_address", "user_agent"]]),
    ],
)
def test_the_lockout_setting_reads_counts_and_combinations(value, parameters):
    assert lockout_parameters("LOGIN_LOCKOUT_BY", value) == parameters


@pytest.mark.parametrize("value", ["", "user", "username+", "username,,ip_address", "email"])
def test_a_malformed_lockout_setting_stops_the_process_naming_it(value):
    with pytest.raises(ImproperlyConfigured, match="LOGIN_LOCKOUT_BY"):
        lockout_parameters("LOGIN_LOCKOUT_BY", value)
