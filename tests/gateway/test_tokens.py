"""People's API tokens are secrets: hashed, shown once, expiring, revoked by a new password."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.test import APIClient

from gateway.models import AccountToken
from gateway.services.tokens import account_token_issue
from tests.gateway.people import PASSWORD, body, login


def _token_of(response) -> str:
    return body(response)["token"]


def test_a_token_is_stored_only_as_a_hash_and_shown_once(people):
    response = APIClient().post(
        "/api/v1/auth/token", {"username": "alice", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    plaintext = _token_of(response)
    stored = AccountToken.objects.get(user=people.alice.user)
    assert plaintext not in (stored.id, stored.hashed_key, stored.prefix)
    assert plaintext.startswith(stored.prefix + ".")
    assert body(response)["expires_at"] == stored.expiry_date.isoformat()
    # A second login gets a new token; the first is not shown again anywhere.
    again = APIClient().post(
        "/api/v1/auth/token", {"username": "alice", "password": PASSWORD}, format="json"
    )
    assert _token_of(again) != plaintext


def test_a_token_expires(people, settings):
    settings.ACCOUNT_TOKEN_HOURS = 1
    _token, plaintext = account_token_issue(
        user=people.alice.user, now=timezone.now() - dt.timedelta(hours=2)
    )
    client = APIClient(HTTP_AUTHORIZATION=f"Token {plaintext}")
    response = client.get("/api/v1/me/score")
    assert response.status_code == 401
    assert body(response)["error"] == "unauthenticated"


def test_a_fresh_token_opens_the_api_until_the_password_changes(people):
    client = login("alice")
    assert client.get("/api/v1/me/score").status_code == 200
    other_device = login("alice")
    user = User.objects.get(username="alice")
    user.set_password("a brand new passphrase 43")
    user.save()
    for device in (client, other_device):
        response = device.get("/api/v1/me/score")
        assert response.status_code == 401
    assert not AccountToken.objects.filter(user=user, revoked=False).exists()


def test_saving_a_user_without_a_new_password_keeps_the_tokens(people):
    client = login("alice")
    user = User.objects.get(username="alice")
    user.first_name = "Alice"
    user.save()
    assert client.get("/api/v1/me/score").status_code == 200


def test_a_malformed_or_unknown_token_gets_401(people):
    for header in ("Token", "Token a b", "Token nodot", "Token abc.def", "Token \u00e9.x"):
        response = APIClient(HTTP_AUTHORIZATION=header).get("/api/v1/me/score")
        assert response.status_code == 401, header
        assert body(response)["error"] == "unauthenticated"


def test_a_deactivated_user_s_token_gets_401(people):
    client = login("alice")
    User.objects.filter(username="alice").update(is_active=False)
    assert client.get("/api/v1/me/score").status_code == 401


def test_no_admin_page_shows_a_usable_token(people, admin_client):
    plaintext = _token_of(
        APIClient().post(
            "/api/v1/auth/token", {"username": "alice", "password": PASSWORD}, format="json"
        )
    )
    secret = plaintext.partition(".")[2]
    assert admin_client.get("/admin/authtoken/").status_code == 404
    for url in ("/admin/", "/admin/auth/user/", f"/admin/auth/user/{people.alice.user.pk}/change/"):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert secret not in response.content.decode()
