"""Production settings: the deployment check, secrets, security headers and rate limits.

The settings module reads the environment once, at start-up, so each production case runs
``manage.py`` in a process of its own with a clean environment: only what an operator
would set (GATEWAY_ENV=production, the secrets, ALLOWED_HOSTS), and a private var dir.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient

from gateway.api.throttles import ScoreReadThrottle, SubmissionThrottle
from tests import factories

BASE_DIR = Path(settings.BASE_DIR)
HOST = "credit.example.gov.cn"
SECRETS = ("SECRET_KEY", "IDENTITY_ENCRYPTION_KEYS", "IDENTITY_INDEX_KEY", "AUDIT_SIGNING_KEY")


def _key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def production_secrets() -> dict[str, str]:
    return {
        "SECRET_KEY": secrets.token_urlsafe(64),
        "IDENTITY_ENCRYPTION_KEYS": f"k1:{_key()}",
        "IDENTITY_INDEX_KEY": _key(),
        "AUDIT_SIGNING_KEY": _key(),
    }


@pytest.fixture
def production_env(tmp_path) -> dict[str, str]:
    """What an operator sets, and nothing from the developer's shell (no DEBUG)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "GATEWAY_ENV": "production",
        "GATEWAY_VAR_DIR": str(tmp_path / "var"),
        "ALLOWED_HOSTS": HOST,
        "CSRF_TRUSTED_ORIGINS": f"https://{HOST}",
        **production_secrets(),
    }


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def python_in(env: dict[str, str], code: str) -> subprocess.CompletedProcess:
    """Run code under the production settings (``manage.py shell -c``)."""
    return manage(env, "shell", "--no-imports", "-c", code)


# --- the deployment check ----------------------------------------------------------------


def test_check_deploy_reports_no_issues_at_all(production_env):
    result = manage(production_env, "check", "--deploy", "--fail-level", "WARNING")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output
    assert "WARNINGS" not in output and "ERRORS" not in output, output


def test_the_deployment_check_includes_the_schema_without_warnings(production_env):
    # drf-spectacular's own deploy check generates the schema; any W001/W002 would show.
    code = (
        "from django.core.checks import run_checks\n"
        "issues = run_checks(include_deployment_checks=True)\n"
        "print([issue.id for issue in issues])\n"
    )
    result = python_in(production_env, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", result.stdout


def test_production_settings_are_what_the_check_approves_of(production_env):
    code = (
        "import json\n"
        "from django.conf import settings as s\n"
        "print(json.dumps({'debug': s.DEBUG, 'hsts': s.SECURE_HSTS_SECONDS,\n"
        "  'ssl_redirect': s.SECURE_SSL_REDIRECT, 'session_secure': s.SESSION_COOKIE_SECURE,\n"
        "  'csrf_secure': s.CSRF_COOKIE_SECURE, 'hosts': s.ALLOWED_HOSTS,\n"
        "  'email': s.EMAIL_BACKEND}))\n"
    )
    result = python_in(production_env, code)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "debug": False,
        "hsts": 31536000,
        "ssl_redirect": True,
        "session_secure": True,
        "csrf_secure": True,
        "hosts": [HOST],
        "email": "django.core.mail.backends.smtp.EmailBackend",
    }


# --- secrets -----------------------------------------------------------------------------


def assert_stops_with_one_line_naming(result, name: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("configuration error: "), result.stderr
    assert name in lines[0], result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("name", [*SECRETS, "ALLOWED_HOSTS"])
def test_production_refuses_to_start_without_each_secret(production_env, name):
    del production_env[name]
    assert_stops_with_one_line_naming(manage(production_env, "check"), name)


MALFORMED = [
    ("SECRET_KEY", "x" * 44),  # what a base64 of 32 bytes gives: too short (security.W009)
    ("SECRET_KEY", "ab" * 40),  # long enough, but too few different characters
    ("IDENTITY_ENCRYPTION_KEYS", "not-a-ring"),
    ("IDENTITY_ENCRYPTION_KEYS", "k1:%%%not-base64%%%"),
    ("IDENTITY_ENCRYPTION_KEYS", "k1:" + base64.b64encode(b"sixteen bytes!!!").decode()),
    ("IDENTITY_INDEX_KEY", "short"),
    ("AUDIT_SIGNING_KEY", base64.b64encode(b"too short").decode()),
    ("AUDIT_SIGNING_KEY", "-----BEGIN CERTIFICATE-----"),
]


@pytest.mark.parametrize(("name", "value"), MALFORMED)
def test_a_malformed_secret_stops_with_one_line_naming_it(production_env, name, value):
    production_env[name] = value
    result = manage(production_env, "check")
    assert_stops_with_one_line_naming(result, name)
    assert value not in result.stderr  # a secret's value is never echoed


def test_the_wsgi_application_stops_with_one_line_too(production_env):
    del production_env["AUDIT_SIGNING_KEY"]
    result = subprocess.run(
        [sys.executable, "-c", "import config.wsgi"],
        cwd=BASE_DIR,
        env=production_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert_stops_with_one_line_naming(result, "AUDIT_SIGNING_KEY")


def test_the_readme_production_recipe_passes_check_deploy():
    # The CI step: the README's recipe, followed literally, reports nothing.
    result = subprocess.run(
        ["bash", "scripts/check-deploy"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


@pytest.mark.parametrize("name", SECRETS)
def test_an_empty_secret_counts_as_missing(production_env, name):
    production_env[name] = ""
    result = manage(production_env, "check")
    assert result.returncode != 0
    assert name in result.stderr.splitlines()[-1], result.stderr


def test_production_never_falls_back_to_generated_development_secrets(production_env, tmp_path):
    # A development run left generated secrets in the var dir; production must not use them.
    development = {**production_env, "GATEWAY_ENV": "development"}
    for name in SECRETS:
        del development[name]
    assert manage(development, "check").returncode == 0
    assert (tmp_path / "var" / "dev-secrets" / "SECRET_KEY").exists()
    del production_env["SECRET_KEY"]
    assert_stops_with_one_line_naming(manage(production_env, "check"), "SECRET_KEY")


def test_secrets_can_come_from_files(production_env, tmp_path):
    values = {name: production_env.pop(name) for name in SECRETS}
    folder = tmp_path / "secrets"
    folder.mkdir()
    for name, value in values.items():
        path = folder / name.lower()
        path.write_text(value + "\n", encoding="utf-8")  # a trailing newline, as editors leave
        path.chmod(0o600)
        production_env[f"{name}_FILE"] = str(path)
    assert manage(production_env, "check", "--deploy").returncode == 0
    code = (
        "import json\n"
        "from django.conf import settings as s\n"
        f"print(json.dumps({{n: getattr(s, n) for n in {list(SECRETS)!r}}}))\n"
    )
    result = python_in(production_env, code)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == values


def test_a_secret_given_both_ways_is_refused(production_env, tmp_path):
    path = tmp_path / "secret_key"
    path.write_text(production_env["SECRET_KEY"], encoding="utf-8")
    production_env["SECRET_KEY_FILE"] = str(path)
    result = manage(production_env, "check")
    assert result.returncode != 0
    assert "either SECRET_KEY or SECRET_KEY_FILE" in result.stderr


@pytest.mark.parametrize("content", [None, ""])
def test_a_missing_or_empty_secret_file_is_refused(production_env, tmp_path, content):
    path = tmp_path / "identity_index_key"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    del production_env["IDENTITY_INDEX_KEY"]
    production_env["IDENTITY_INDEX_KEY_FILE"] = str(path)
    result = manage(production_env, "check")
    assert result.returncode != 0
    assert "IDENTITY_INDEX_KEY_FILE" in result.stderr.splitlines()[-1], result.stderr


# --- security headers --------------------------------------------------------------------

PAGES = ["/api/v1/rules", "/api/v1/me/score", "/portal/login/", "/admin/login/", "/nowhere"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", PAGES)
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


HEADERS_IN_PRODUCTION = """
import json
from django.test import Client
secure = Client(HTTP_HOST="{host}").get("/api/schema/", secure=True)
plain = Client(HTTP_HOST="{host}").get("/api/schema/")
login = Client(HTTP_HOST="{host}").get("/portal/login/", secure=True)
print(json.dumps({{
    "status": secure.status_code,
    "hsts": secure.get("Strict-Transport-Security"),
    "nosniff": secure.get("X-Content-Type-Options"),
    "referrer": secure.get("Referrer-Policy"),
    "frame": secure.get("X-Frame-Options"),
    "csp": {{page: Client(HTTP_HOST="{host}").get(page, secure=True).get("Content-Security-Policy")
            for page in ("/portal/login/", "/admin/login/", "/api/docs/")}},
    "plain": [plain.status_code, plain.get("Location")],
    "csrf_cookie_secure": bool(login.cookies["csrftoken"]["secure"]),
    "csrf_cookie_samesite": login.cookies["csrftoken"]["samesite"],
}}))
"""


def test_production_answers_https_with_hsts_and_sends_http_to_https(production_env):
    result = python_in(production_env, HEADERS_IN_PRODUCTION.format(host=HOST))
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    for page, policy in seen.pop("csp").items():
        assert policy is not None, page
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert directives["script-src"] == "'self'", page  # no inline script, no eval
        assert directives["style-src"] == "'self'", page
        assert directives["default-src"] == "'self'", page
        assert directives["object-src"] == "'none'", page
        assert directives["frame-ancestors"] == "'none'", page
        assert "unsafe" not in policy, page
    assert seen == {
        "status": 200,
        "hsts": "max-age=31536000; includeSubDomains; preload",
        "nosniff": "nosniff",
        "referrer": "same-origin",
        "frame": "DENY",
        "plain": [301, f"https://{HOST}/api/schema/"],
        "csrf_cookie_secure": True,
        "csrf_cookie_samesite": "Lax",
    }


# --- rate limits -------------------------------------------------------------------------


@pytest.fixture
def fresh_limits(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    yield
    cache.clear()


def assert_throttled(response) -> None:
    assert response.status_code == 429, response.content
    wait = int(response["Retry-After"])
    assert wait >= 1
    body = json.loads(response.content)
    assert body["error"] == "throttled"
    assert str(wait) in body["message"]
    assert set(body) == {"error", "message"}


@pytest.mark.django_db
def test_portal_logins_share_the_token_logins_count(fresh_limits, client):
    # Failed logins (django-axes, tests/gateway/test_login_limits.py): one count for a
    # username from an address, whichever login the failures went to.
    api = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = api.post(
            "/api/v1/auth/token", {"username": "alice", "password": "wrong"}, format="json"
        )
        assert response.status_code == 400
    response = client.post("/portal/login/", {"username": "alice", "password": "wrong"})
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert_throttled(
        api.post("/api/v1/auth/token", {"username": "alice", "password": "x"}, format="json")
    )


@pytest.mark.django_db
def test_submissions_are_limited_per_key(fresh_limits, world, monkeypatch):
    # The production rate (THROTTLE_SUBMISSION, 6000/min) would take too long to reach.
    monkeypatch.setattr(SubmissionThrottle, "rate", "3/min", raising=False)
    record = factories.deduction_record(factories.identity_number())
    for _ in range(3):
        assert world.submit(world.key_a, [record]).status_code == 201
    assert_throttled(world.submit(world.key_a, [record]))
    # Per key: another department's key is not held back.
    other = world.submit(world.key_b, [{**record, "rule": "volunteer.service_hours"}])
    assert other.status_code != 429


def test_the_rates_come_from_the_environment(production_env):
    production_env |= {
        "THROTTLE_SUBMISSION": "100/s",
        "LOGIN_FAILURE_LIMIT": "5",
        "LOGIN_COOLOFF_SECONDS": "60",
        "LOGIN_LOCKOUT_BY": "username,ip_address+user_agent",
        "LOGIN_RESET_ON_SUCCESS": "false",
    }
    code = (
        "from django.conf import settings\n"
        "print(settings.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES'])\n"
        "print(settings.AXES_FAILURE_LIMIT, settings.AXES_COOLOFF_TIME.total_seconds(),"
        " settings.AXES_LOCKOUT_PARAMETERS, settings.AXES_RESET_ON_SUCCESS)\n"
    )
    result = python_in(production_env, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-2:] == [
        "{'submission': '100/s', 'score_read': '6000/min'}",
        "5 60.0 ['username', ['ip_address', 'user_agent']] False",
    ]


def test_a_malformed_login_limit_stops_the_process_naming_it(production_env):
    production_env |= {"LOGIN_LOCKOUT_BY": "everyone"}
    result = manage(production_env, "check")
    assert result.returncode != 0
    assert "LOGIN_LOCKOUT_BY" in result.stderr


@pytest.mark.django_db
def test_the_admin_login_is_limited_and_the_right_password_waits_too(fresh_limits, client):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("root", "root@example.org", "the right one 42")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post("/admin/login/", {"username": "root", "password": "wrong"})
        assert response.status_code == 200  # the form again, with its error
    response = client.post("/admin/login/", {"username": "root", "password": "wrong"})
    assert response.status_code == 429
    response = client.post("/admin/login/", {"username": "root", "password": "the right one 42"})
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert "_auth_user_id" not in client.session
    # The admin's attempts count against the same username on the token API.
    api = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    assert_throttled(
        api.post("/api/v1/auth/token", {"username": "root", "password": "x"}, format="json")
    )


@pytest.mark.django_db
def test_score_reads_are_limited_per_key(fresh_limits, world, monkeypatch):
    monkeypatch.setattr(ScoreReadThrottle, "rate", "2/min", raising=False)
    body = {"citizen_id": factories.identity_number(), "purpose": "licensing_review"}
    for _ in range(2):
        response = world.client(world.key_a).post("/api/v1/score-queries", body, format="json")
        assert response.status_code == 200
    assert_throttled(world.client(world.key_a).post("/api/v1/score-queries", body, format="json"))
    path = f"/api/v1/citizens/{body['citizen_id']}/score?purpose=licensing_review"
    assert_throttled(world.client(world.key_a).get(path))  # both doors count together
    assert (
        world.client(world.key_b).post("/api/v1/score-queries", body, format="json").status_code
        != 429
    )


def test_limits_are_counted_in_the_shared_database_cache(settings):
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_STYLE = re.compile(r"<style\b|\sstyle=|\son[a-z]+=", re.I)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/portal/login/", "/admin/login/", "/catalogue/", "/api/docs/", "/admin/"]
)
def test_pages_need_nothing_the_policy_refuses(client, path):
    from django.contrib.auth import get_user_model

    if path == "/admin/":
        client.force_login(get_user_model().objects.create_superuser("csp", "c@example.org", "pw"))
    response = client.get(path)
    assert response.status_code == 200
    page = response.content.decode()
    assert INLINE_SCRIPT.findall(page) == []
    assert INLINE_STYLE.findall(page) == []
    assert "script-src 'self'" in response["Content-Security-Policy"]
