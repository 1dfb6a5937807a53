"""Settings for the credit gateway, read from the environment (see README, "Configuration")."""

from __future__ import annotations

import base64
import datetime as dt
import os
import secrets
import tempfile
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from compliance import law as _law
from compliance.law import DISPLAY_ZONE
from config.env import (
    check_key_ring,
    check_secret_key,
    check_signing_key,
    decode_base64_key,
    env_bool,
    env_int,
    env_list,
    env_secret,
    env_str,
    lockout_parameters,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("GATEWAY_VAR_DIR", str(BASE_DIR / "var")))

GATEWAY_ENV = env_str("GATEWAY_ENV", "development")
if GATEWAY_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("GATEWAY_ENV must be 'development' or 'production'")
PRODUCTION = GATEWAY_ENV == "production"
DEV_SECRETS_DIR = VAR_DIR / "dev-secrets"


def _secret(name: str, generate=None) -> str:
    return env_secret(name, production=PRODUCTION, dev_dir=DEV_SECRETS_DIR, generate=generate)


def _random_key_b64() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


DEBUG = env_bool("DEBUG", not PRODUCTION)
SECRET_KEY = check_secret_key(_secret("SECRET_KEY", generate=lambda: secrets.token_urlsafe(50)))
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set in production")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# Resident identity numbers: AES-256-GCM under a key ring ("id:base64key,..."),
# the first key encrypts, every key decrypts, so a rotation keeps old rows readable.
IDENTITY_ENCRYPTION_KEYS = check_key_ring(
    "IDENTITY_ENCRYPTION_KEYS",
    _secret("IDENTITY_ENCRYPTION_KEYS", generate=lambda: "k1:" + _random_key_b64()),
)
# Keyed HMAC-SHA256 for the blind index used to find a resident without decrypting.
IDENTITY_INDEX_KEY = _secret("IDENTITY_INDEX_KEY", generate=_random_key_b64)
decode_base64_key("IDENTITY_INDEX_KEY", IDENTITY_INDEX_KEY, sizes=tuple(range(16, 65)))
# Ed25519 private key (base64 32-byte seed or PEM) that signs audit checkpoints.
AUDIT_SIGNING_KEY = check_signing_key(
    "AUDIT_SIGNING_KEY", _secret("AUDIT_SIGNING_KEY", generate=_random_key_b64)
)
AUDIT_LOG_ORIGIN = env_str("AUDIT_LOG_ORIGIN", "credit-gateway.example/audit-log")
# The signer name equals the origin line by default, as C2SP tlog-checkpoint advises.
AUDIT_KEY_NAME = env_str("AUDIT_KEY_NAME", AUDIT_LOG_ORIGIN)
# Seconds within which a receipted entry is sequenced into the log (the receipt's promise).
AUDIT_MAX_MERGE_DELAY = env_int("AUDIT_MAX_MERGE_DELAY", 1)
# Benchmarks only: audited acts compute their entries but do not store them, to measure
# what the log costs. Refused in production.
AUDIT_BENCHMARK_SKIP_WRITES = env_bool("AUDIT_BENCHMARK_SKIP_WRITES", False)
if AUDIT_BENCHMARK_SKIP_WRITES and PRODUCTION:
    raise ImproperlyConfigured("AUDIT_BENCHMARK_SKIP_WRITES is for benchmarks, never production")
# After a rotation of the signing key: the old verifier keys (public), comma-separated,
# so checkpoints signed before the rotation still verify.
AUDIT_RETIRED_VERIFIER_KEYS = env_list("AUDIT_RETIRED_VERIFIER_KEYS", [])
# Witnesses whose cosignatures of checkpoints the gateway accepts and stores (public
# cosignature/v1 verifier keys, comma-separated): `python -m audit.witness keygen` prints one.
AUDIT_WITNESS_KEYS = env_list("AUDIT_WITNESS_KEYS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "simple_history",
    "csp",
    "axes",
    "audit",
    "compliance",
    "gateway",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "gateway.middleware.RefuseNulCharacters",
    "gateway.middleware.UnstorableValueIsBadRequest",
    "gateway.middleware.StrictAdminDateFilters",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its 429.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'gateway.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE takes the write lock at BEGIN: writers queue on the busy
        # timeout instead of failing when a read lock cannot be upgraded.
        "transaction_mode": "IMMEDIATE",
        "timeout": env_int("SQLITE_BUSY_TIMEOUT", 30, minimum=1),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not :memory:, so tests of concurrent writers see real locking and the
    # busy timeout (shared-cache memory databases fail fast instead of waiting).
    # One file per test process, so parallel runs never share one.
    DATABASES["default"]["TEST"] = {
        "NAME": os.path.join(tempfile.gettempdir(), f"gateway-test-{os.getpid()}.sqlite3")
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out login before any password is checked (django-axes).
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
GUARDIAN_RAISE_403 = False
# History pages show past versions; restoring one would bypass the audited services.
SIMPLE_HISTORY_REVERT_DISABLED = True
ANONYMOUS_USER_NAME = None

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = DISPLAY_ZONE.key  # compliance/law.py: the one place it is written
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"

LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:home"
# The portal's language switcher (django.views.i18n.set_language) keeps the choice in
# this cookie: out of reach of scripts, and sent only over HTTPS in production.
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = PRODUCTION

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's JSONParser with the submission path's limits (depth, sizes, storable text).
    "DEFAULT_PARSER_CLASSES": ["gateway.api.parsers.BoundedJSONParser"],
    "EXCEPTION_HANDLER": "gateway.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    # Proxies in front of the app (0: trust only REMOTE_ADDR for rate limits).
    "NUM_PROXIES": env_int("NUM_PROXIES", 0, minimum=0),
    "DEFAULT_THROTTLE_RATES": {
        "submission": env_str("THROTTLE_SUBMISSION", "6000/min"),
        "score_read": env_str("THROTTLE_SCORE_READ", "6000/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Credit gateway API",
    "DESCRIPTION": "Department submissions, score reads, the public rule catalogue, "
    "resident rights and the audit log's proofs.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Operation ids and tags are named after the path below /api, whatever other routes
    # (the tlog-tiles resources at /checkpoint and /tile/) the site also serves.
    "SCHEMA_PATH_PREFIX": "/api",
    # Swagger UI assets are served from the installed package: no external CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name per set of choices, so fields named alike ("status", "kind") but meaning
    # different things never collide (drf_spectacular.W001 in `check --deploy`). The
    # serializers list the values (gateway.models and audit.actions hold the choices).
    "ENUM_NAME_OVERRIDES": {
        "AppealStatusEnum": ["pending", "escalated", "decided", "under_review", "reviewed"],
        "AppealOutcomeEnum": ["upheld", "corrected", "overturned"],
        "EventStatusEnum": ["active", "disputed", "reversed", "expired"],
        "EventKindEnum": ["record", "reversal", "correction", "repair"],
        "FinalityStateEnum": ["final", "pending"],
        "FinalityGroundEnum": ["periods_passed", "upheld_on_review", "upheld_on_appeal"],
        "RepairStatusEnum": ["pending", "confirmed", "refused"],
        "RepairDecisionEnum": ["confirmed", "refused"],
        "AccountRoleEnum": ["citizen", "reviewer", "regulator"],
        "ActorKindEnum": [
            "department",
            "citizen",
            "reviewer",
            "regulator",
            "admin",
            "system",
            "anonymous",
        ],
        "RuleKindEnum": ["reward", "deduction"],
        "RuleVersionStatusEnum": ["published", "withdrawn"],
        "DisclosureEnum": ["score", "eligibility"],
        "ProcedureEnum": ["general", "judicial"],
    },
}

# Rate limits are counted in the database every worker and host already shares, so a
# limit holds for the whole pool; nothing else uses the cache. The table comes with
# `migrate` (gateway migration 0005).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "gateway_rate_limits",
        "OPTIONS": {"MAX_ENTRIES": env_int("RATE_LIMIT_MAX_ENTRIES", 100_000, minimum=1000)},
    }
}

# Failed logins (portal, token API and admin, one count) by django-axes, in the database
# every worker and host shares: after LOGIN_FAILURE_LIMIT failures a caller is locked
# out for LOGIN_COOLOFF_SECONDS (429 with Retry-After, each refused try starting the
# wait again); a successful login first clears its own failures. See README "Limits".
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = dt.timedelta(seconds=env_int("LOGIN_COOLOFF_SECONDS", 900, minimum=1))
AXES_LOCKOUT_PARAMETERS = lockout_parameters(
    "LOGIN_LOCKOUT_BY", env_str("LOGIN_LOCKOUT_BY", "username+ip_address")
)
AXES_RESET_ON_SUCCESS = env_bool("LOGIN_RESET_ON_SUCCESS", True)
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = True
# A typed username that may be an identity number is kept as a keyed hash; the address
# is the one the other rate limits use (NUM_PROXIES); the 429 is the API's or a page.
AXES_USERNAME_CALLABLE = "gateway.login_limits.attempt_username"
AXES_CLIENT_IP_CALLABLE = "gateway.login_limits.client_address"
AXES_LOCKOUT_CALLABLE = "gateway.login_limits.lockout_response"
AXES_SENSITIVE_PARAMETERS = ["username", "password", "ip_address", "csrfmiddlewaretoken"]
# Failures only: a table of successful logins would be a second record of who logged in
# when, beside the audit log's.
AXES_DISABLE_ACCESS_LOG = True
# No start-up banner in every worker's and command's output; log lines name the count's
# parameters only, masked (AXES_SENSITIVE_PARAMETERS).
AXES_VERBOSE = False
# Locked-out callers are let in again by time, or by `manage.py axes_reset_username` /
# `axes_reset_ip`; the attempts are not an admin page (typed text, addresses).
AXES_ENABLE_ADMIN = False

# Request limits: see README "Limits". Bodies over the cap get 413 before parsing.
GATEWAY_MAX_BODY_BYTES = env_int("GATEWAY_MAX_BODY_BYTES", 8 * 1024 * 1024, minimum=1024)
GATEWAY_MAX_BATCH_RECORDS = env_int("GATEWAY_MAX_BATCH_RECORDS", 1000, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = GATEWAY_MAX_BODY_BYTES
# A signed submission's `created` may be this old, or this far ahead of the gateway's
# clock: long enough for a retry with backoff, short enough to bound a replay.
GATEWAY_SIGNATURE_MAX_AGE_SECONDS = env_int("GATEWAY_SIGNATURE_MAX_AGE_SECONDS", 300, minimum=1)
GATEWAY_SIGNATURE_MAX_SKEW_SECONDS = env_int("GATEWAY_SIGNATURE_MAX_SKEW_SECONDS", 60, minimum=0)
# A deduction counts in what departments are told only this many days after its notice
# was delivered to the resident (CRR 15: told before it is passed on); never 0.
GATEWAY_NOTICE_BEFORE_DISCLOSURE_DAYS = env_int(
    "GATEWAY_NOTICE_BEFORE_DISCLOSURE_DAYS", _law.NOTICE_BEFORE_DISCLOSURE_DAYS, minimum=1
)

# In development, e-mails to residents are written as files under var/mail/.
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = VAR_DIR / "mail"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "credit-gateway@localhost")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp), in every mode so development shows what production
# refuses: scripts and styles only from our own files, never inline; nothing framed,
# no plugins, forms posting only to us. data: images are Swagger UI's icons.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_identity": {"()": "gateway.logging.RedactIdentityNumbers"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["redact_identity"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # Django's own handlers would print request paths unfiltered (a score read by path
    # carries an identity number): route everything through the redacting handler.
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# Hours a person's API token (POST /api/v1/auth/token) stays valid.
ACCOUNT_TOKEN_HOURS = env_int("ACCOUNT_TOKEN_HOURS", 12, minimum=1)

# The audit app resolves an identity number typed into its admin search through this
# hook, so it never depends on the gateway app.
AUDIT_SUBJECT_RESOLVER = "gateway.identity.subject_for_search"
# ...and makes text typed into its admin or login form safe to store through this one.
AUDIT_TEXT_GUARD = "gateway.services.audit_boundary.safe_value"
# The audit admin's department filter offers the catalogue's departments (code, label),
# listed by this hook: never a DISTINCT over the log.
AUDIT_DEPARTMENT_CHOICES = "compliance.selectors.department_choices"
