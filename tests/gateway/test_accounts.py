"""Accounts: account_create, the create_account command, token and session logins, demo logins."""

from __future__ import annotations

import io
import json
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from audit.actions import AuditAction
from audit.models import AuditEntry
from gateway.errors import GatewayError
from gateway.identity import vault
from gateway.models import Account, AccountToken, Citizen, Role
from gateway.services.accounts import AccountMsg, account_create
from tests import factories
from tests.gateway.people import (
    ALICE_ID,
    PASSWORD,
    body,
    login,
    make_account,
    session_login,
)

User = get_user_model()


def refused(call) -> GatewayError:
    users, accounts, audit = (
        User.objects.count(),
        Account.objects.count(),
        AuditEntry.objects.count(),
    )
    with pytest.raises(GatewayError) as info:
        call()
    assert (User.objects.count(), Account.objects.count(), AuditEntry.objects.count()) == (
        users,
        accounts,
        audit,
    )
    return info.value


class TestAccountCreate:
    def test_a_resident_account_registers_the_resident_and_is_audited_by_blind_index(self, world):
        account = make_account("citizen", "alice", citizen_id=ALICE_ID.lower())
        assert account.role == Role.CITIZEN
        assert account.citizen.identity_index == vault().blind_index(ALICE_ID)
        assert account.citizen.score.score == 100
        assert not account.user.is_staff
        entry = AuditEntry.objects.get(action=AuditAction.ACCOUNT_CREATED)
        assert entry.subject == account.citizen.identity_index
        assert entry.object_ref == f"account:{account.user.pk}"
        # Beside the role, only the digest of the new resident's starting score.
        assert {k: v for k, v in entry.details.items() if k != "ledger"} == {"role": "citizen"}
        assert set(entry.details["ledger"]) == {"scores"}
        assert ALICE_ID not in json.dumps(
            list(AuditEntry.objects.values("subject", "object_ref", "details", "actor_id"))
        )
        assert account.history.count() == 1

    def test_an_account_finds_a_resident_already_on_record(self, world):
        world.submit(world.key_a, [factories.deduction_record(ALICE_ID)])
        account = make_account("citizen", "alice", citizen_id=ALICE_ID)
        assert Citizen.objects.count() == 1
        assert account.citizen.score.score == 97

    def test_a_reviewer_belongs_to_a_department(self, world):
        account = make_account("reviewer", "rev", department_code="tax", email="r@example.org")
        assert account.department == world.dept_b
        assert account.user.email == "r@example.org"
        assert not account.user.is_staff
        entry = AuditEntry.objects.get(action=AuditAction.ACCOUNT_CREATED)
        assert entry.details == {"role": "reviewer", "username": "rev", "department": "tax"}

    def test_a_regulator_is_staff_in_the_regulators_group(self, world):
        account = make_account("regulator", "reg")
        user = account.user
        assert user.is_staff and not user.is_superuser
        assert user.groups.filter(name="regulators").exists()
        assert user.has_perm("gateway.view_appeal")
        assert user.has_perm("audit.view_auditentry")
        assert not user.has_perm("gateway.change_appeal")

    def test_a_regulator_reads_the_admin(self, world, client):
        make_account("regulator", "reg")
        response = client.post("/admin/login/", {"username": "reg", "password": PASSWORD})
        assert response.status_code == 302
        assert client.get("/admin/gateway/scoreevent/").status_code == 200

    @pytest.mark.parametrize(
        ("kwargs", "path"),
        [
            ({"role": "citizen", "username": "x"}, "/citizen_id"),
            (
                {"role": "citizen", "username": "x", "citizen_id": "320505198506125210"},
                "/citizen_id",
            ),
            ({"role": "citizen", "username": "x", "citizen_id": "123"}, "/citizen_id"),
            ({"role": "reviewer", "username": "x"}, "/department"),
            ({"role": "reviewer", "username": "x", "department_code": "nowhere"}, "/department"),
            ({"role": "regulator", "username": "x", "department_code": "tax"}, "/department"),
            ({"role": "regulator", "username": "x", "citizen_id": ALICE_ID}, "/citizen_id"),
            ({"role": "judge", "username": "x"}, "/role"),
            ({"role": "regulator", "username": ""}, "/username"),
            ({"role": "regulator", "username": "bad name!"}, "/username"),
            ({"role": "regulator", "username": "x", "email": "not-an-address"}, "/email"),
            ({"role": "regulator", "username": "x", "password": "short"}, "/password"),
            ({"role": "regulator", "username": "x", "password": "password123"}, "/password"),
            ({"role": "regulator", "username": "x", "password": ""}, "/password"),
        ],
    )
    def test_bad_input_is_refused_and_creates_nothing(self, world, kwargs, path):
        kwargs = {"password": PASSWORD, **kwargs}
        error = refused(lambda: account_create(**kwargs))
        assert error.status_code == 400
        assert path in [p["path"] for p in error.details["problems"]]
        assert "320505198506125210" not in json.dumps(error.payload(), ensure_ascii=False)

    def test_an_identity_number_is_never_a_username(self, world):
        error = refused(lambda: make_account("citizen", ALICE_ID, citizen_id=ALICE_ID))
        assert {"path": "/username", "message": str(AccountMsg.USERNAME_IS_IDENTITY)} in (
            error.details["problems"]
        )

    def test_a_username_is_taken_once(self, world):
        make_account("regulator", "reg")
        error = refused(lambda: make_account("reviewer", "REG", department_code="tax"))
        assert (error.status_code, error.code) == (409, "username_taken")

    def test_a_resident_has_one_account(self, world):
        make_account("citizen", "alice", citizen_id=ALICE_ID)
        error = refused(lambda: make_account("citizen", "alice2", citizen_id=ALICE_ID))
        assert (error.status_code, error.code) == (409, "citizen_has_account")


class TestCreateAccountCommand:
    def test_it_reads_the_password_from_the_environment(self, world):
        out = io.StringIO()
        with mock.patch.dict("os.environ", {"ACCOUNT_PASSWORD": PASSWORD}):
            call_command("create_account", "citizen", "alice", "--citizen-id", ALICE_ID, stdout=out)
        assert "3205**********5215" in out.getvalue()
        assert ALICE_ID not in out.getvalue()
        assert Account.objects.get(user__username="alice").role == Role.CITIZEN
        entry = AuditEntry.objects.get(action=AuditAction.ACCOUNT_CREATED)
        assert entry.actor_id == "manage.py create_account"

    def test_it_creates_a_reviewer_and_a_regulator(self, world):
        with mock.patch.dict("os.environ", {"ACCOUNT_PASSWORD": PASSWORD}):
            call_command(
                "create_account", "reviewer", "rev", "--department", "tax", stdout=io.StringIO()
            )
            call_command(
                "create_account",
                "regulator",
                "reg",
                "--email",
                "r@example.org",
                stdout=io.StringIO(),
            )
        assert Account.objects.get(user__username="rev").department == world.dept_b
        assert User.objects.get(username="reg").is_staff

    def test_it_asks_on_a_terminal(self, world):
        with (
            mock.patch.dict("os.environ", {}, clear=False) as environ,
            mock.patch("sys.stdin.isatty", return_value=True),
            mock.patch("getpass.getpass", return_value=PASSWORD),
        ):
            environ.pop("ACCOUNT_PASSWORD", None)
            call_command("create_account", "regulator", "reg", stdout=io.StringIO())
        assert User.objects.get(username="reg").check_password(PASSWORD)

    def test_it_fails_clearly_without_a_terminal_or_password(self, world):
        with (
            mock.patch.dict("os.environ", {}, clear=False) as environ,
            mock.patch("sys.stdin.isatty", return_value=False),
        ):
            environ.pop("ACCOUNT_PASSWORD", None)
            with pytest.raises(CommandError, match="ACCOUNT_PASSWORD"):
                call_command("create_account", "regulator", "reg")
        assert not User.objects.exists()

    def test_it_reports_bad_input_without_a_traceback(self, world):
        with (
            mock.patch.dict("os.environ", {"ACCOUNT_PASSWORD": PASSWORD}),
            pytest.raises(CommandError, match="/department"),
        ):
            call_command("create_account", "reviewer", "rev", "--department", "nowhere")
        assert not User.objects.exists()


class TestTokenLogin:
    def test_a_login_returns_a_token_that_opens_the_api(self, people):
        response = APIClient().post(
            "/api/v1/auth/token", {"username": "alice", "password": PASSWORD}, format="json"
        )
        assert response.status_code == 200
        assert body(response)["role"] == "citizen"
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {body(response)['token']}")
        assert client.get("/api/v1/me/score").status_code == 200

    @pytest.mark.parametrize(
        "credentials",
        [
            {"username": "alice", "password": "wrong"},
            {"username": "nobody", "password": PASSWORD},
        ],
    )
    def test_wrong_credentials_get_400(self, people, credentials):
        response = APIClient().post("/api/v1/auth/token", credentials, format="json")
        assert response.status_code == 400
        assert body(response)["error"] == "invalid_credentials"
        assert "message" in body(response)
        assert not AccountToken.objects.filter(revoked=False).exists()

    def test_a_login_without_an_account_gets_400(self, people):
        User.objects.create_superuser("root", password=PASSWORD)
        response = APIClient().post(
            "/api/v1/auth/token", {"username": "root", "password": PASSWORD}, format="json"
        )
        assert body(response)["error"] == "invalid_credentials"

    def test_an_inactive_account_cannot_log_in(self, people):
        people.bob.user.is_active = False
        people.bob.user.save()
        response = APIClient().post(
            "/api/v1/auth/token", {"username": "bob", "password": PASSWORD}, format="json"
        )
        assert response.status_code == 400

    @pytest.mark.parametrize(
        "payload", [{}, {"username": "alice"}, {"username": 1, "password": []}]
    )
    def test_missing_fields_get_400(self, people, payload):
        response = APIClient().post("/api/v1/auth/token", payload, format="json")
        assert response.status_code == 400
        assert body(response)["error"] == "invalid"
        assert body(response)["problems"]

    def test_a_non_json_body_gets_400(self, people):
        response = APIClient().generic(
            "POST", "/api/v1/auth/token", b"{not json", content_type="application/json"
        )
        assert response.status_code == 400

    def test_logout_revokes_the_token(self, people):
        client = login("alice")
        assert client.delete("/api/v1/auth/token").status_code == 204
        assert not AccountToken.objects.filter(revoked=False).exists()
        response = client.get("/api/v1/me/score")
        assert response.status_code == 401
        assert body(response)["error"] == "unauthenticated"

    def test_logout_needs_a_login(self, people):
        response = APIClient().delete("/api/v1/auth/token")
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"

    def test_a_bad_token_gets_401(self, people):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Token nonsense")
        assert client.get("/api/v1/me/score").status_code == 401


class TestSessionLogin:
    def test_a_session_opens_the_api(self, people):
        client = session_login(APIClient(), "alice")
        assert client.get("/api/v1/me/score").status_code == 200

    def test_a_session_write_needs_the_csrf_token(self, people):
        event = people.deduct()
        client = session_login(APIClient(), "alice")
        client.handler.enforce_csrf_checks = True
        response = client.post(
            "/api/v1/me/appeals", {"event": event.pk, "statement": "not me"}, format="json"
        )
        assert response.status_code == 403
        assert body(response)["error"] == "forbidden"
        assert not people.alice.citizen.appeals.exists()

    def test_logout_ends_the_session(self, people):
        client = session_login(APIClient(), "alice")
        assert client.delete("/api/v1/auth/token").status_code == 204
        assert client.get("/api/v1/me/score").status_code == 401


class TestDemoAccounts:
    def test_seed_demo_creates_residents_reviewers_and_a_regulator(self, db, settings, tmp_path):
        settings.VAR_DIR = tmp_path
        out = io.StringIO()
        call_command("seed_demo", stdout=out)
        stored = json.loads((tmp_path / "demo-credentials.json").read_text())
        logins = stored["logins"]
        residents = [name for name in logins if name.startswith("resident")]
        assert 2 <= len(residents) <= 3
        for name in residents:
            account = Account.objects.get(user__username=name)
            assert account.role == Role.CITIZEN
            assert account.citizen.events.filter(points__lt=0).exists()
            assert logins[name]["password"] in out.getvalue()
        reviewers = Account.objects.filter(role=Role.REVIEWER)
        assert sorted(a.department.code for a in reviewers) == [
            "civil_affairs",
            "development_reform",
        ]
        regulator = Account.objects.get(role=Role.REGULATOR)
        assert regulator.user.is_staff and regulator.user.groups.filter(name="regulators").exists()
        login(residents[0], logins[residents[0]]["password"])

        again = io.StringIO()
        call_command("seed_demo", stdout=again)
        assert json.loads((tmp_path / "demo-credentials.json").read_text()) == stored
        assert Account.objects.count() == len(residents) + 3
