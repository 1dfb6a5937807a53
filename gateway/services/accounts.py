"""Accounts of residents, reviewers and regulators: created only here, each one audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.actions import ActorKind, AuditAction
from compliance.models import Department
from compliance.signals import REGULATOR_GROUP
from gateway.errors import Conflict, InvalidRequest, problem
from gateway.identity import InvalidIdentityNumber, normalize_identity_number
from gateway.models import Account, Citizen, Role
from gateway.services.audit_boundary import log_record
from gateway.services.binding import LedgerBinding
from gateway.services.ledger import citizens_resolve

# Regulators read everything in the admin and change nothing there but the catalogue
# pages, whose saves go through audited services (see compliance/admin.py).


class AccountMsg:
    BAD_ROLE = _("must be one of: citizen, reviewer, regulator")
    BAD_LANGUAGE = _("must be one of: %(languages)s")
    USERNAME_REQUIRED = _("a username is required")
    USERNAME_IS_IDENTITY = _(
        "a username must not be an identity number: it appears in logs and pages the "
        "number must never reach"
    )
    USERNAME_TAKEN = _("This username is already taken.")
    CITIZEN_ID_REQUIRED = _("a resident's account needs the resident's identity number")
    CITIZEN_ID_NOT_ALLOWED = _("only a resident's account is tied to an identity number")
    CITIZEN_HAS_ACCOUNT = _("This resident already has an account.")
    DEPARTMENT_REQUIRED = _("a reviewer's account needs the reviewer's own department")
    DEPARTMENT_NOT_ALLOWED = _("only a reviewer's account belongs to a department")
    DEPARTMENT_UNKNOWN = _("no active department has this code")
    PASSWORD_REQUIRED = _("a password is required")


class UsernameTaken(Conflict):
    code = "username_taken"


class CitizenHasAccount(Conflict):
    code = "citizen_has_account"


def regulator_group() -> Group:
    """The "regulators" group: view everything, manage the catalogue and policy."""
    from compliance.signals import ensure_regulator_group

    ensure_regulator_group(sender=None)
    return Group.objects.get(name=REGULATOR_GROUP)


@transaction.atomic
def account_create(
    *,
    role: str,
    username: str,
    password: str,
    citizen_id: str | None = None,
    department_code: str | None = None,
    email: str = "",
    language: str = "",
    actor_kind: str = ActorKind.SYSTEM,
    actor_id: str = "manage.py",
    now: dt.datetime | None = None,
) -> Account:
    """Create a login and its account; a resident's is tied to one resident, found or registered."""
    now = now or timezone.now()
    users = get_user_model()
    problems: list[dict[str, Any]] = []
    if role not in Role.values:
        raise InvalidRequest([problem("/role", AccountMsg.BAD_ROLE)])

    username = (username or "").strip()
    if not username:
        problems.append(problem("/username", AccountMsg.USERNAME_REQUIRED))
    else:
        try:
            users._meta.get_field("username").run_validators(username)
        except ValidationError as exc:
            problems.extend(problem("/username", message) for message in exc.messages)
        if _looks_like_identity_number(username):
            problems.append(problem("/username", AccountMsg.USERNAME_IS_IDENTITY))

    identity_number = None
    if role == Role.CITIZEN:
        if not citizen_id:
            problems.append(problem("/citizen_id", AccountMsg.CITIZEN_ID_REQUIRED))
        else:
            try:
                identity_number = normalize_identity_number(citizen_id, today=now.date())
            except InvalidIdentityNumber as exc:
                problems.append(problem("/citizen_id", exc))
    elif citizen_id:
        problems.append(problem("/citizen_id", AccountMsg.CITIZEN_ID_NOT_ALLOWED))

    department = None
    if role == Role.REVIEWER:
        if not department_code:
            problems.append(problem("/department", AccountMsg.DEPARTMENT_REQUIRED))
        else:
            department = Department.objects.filter(code=department_code, is_active=True).first()
            if department is None:
                problems.append(problem("/department", AccountMsg.DEPARTMENT_UNKNOWN))
    elif department_code:
        problems.append(problem("/department", AccountMsg.DEPARTMENT_NOT_ALLOWED))

    email = (email or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError as exc:
            problems.extend(problem("/email", message) for message in exc.messages)

    if language and language not in dict(settings.LANGUAGES):
        problems.append(
            problem(
                "/language",
                AccountMsg.BAD_LANGUAGE % {"languages": ", ".join(dict(settings.LANGUAGES))},
            )
        )

    user = users(username=username, email=email, is_staff=role == Role.REGULATOR)
    if not password:
        problems.append(problem("/password", AccountMsg.PASSWORD_REQUIRED))
    else:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            problems.extend(problem("/password", message) for message in exc.messages)
    if problems:
        raise InvalidRequest(problems)

    if users.objects.filter(username__iexact=username).exists():
        raise UsernameTaken(AccountMsg.USERNAME_TAKEN)
    citizen = None
    binding = LedgerBinding()
    if identity_number is not None:
        citizen_pk = citizens_resolve([identity_number], now=now, audit_entry=binding.entry_id)[
            identity_number
        ]
        citizen = Citizen.objects.select_for_update().get(pk=citizen_pk)
        if Account.objects.filter(citizen=citizen).exists():
            raise CitizenHasAccount(AccountMsg.CITIZEN_HAS_ACCOUNT)

    user.set_password(password)
    user.save()
    if role == Role.REGULATOR:
        user.groups.add(regulator_group())
    account = Account(
        user=user, role=role, citizen=citizen, department=department, language=language
    )
    account._change_reason = "created"
    account.save()
    details: dict[str, Any] = {"role": role}
    if role != Role.CITIZEN:
        # Staff act under their username in the log; a resident's is never written there.
        details["username"] = username
    if department is not None:
        details["department"] = department.code
    log_record(
        action=AuditAction.ACCOUNT_CREATED,
        actor_kind=actor_kind,
        actor_id=actor_id,
        subject=citizen.identity_index if citizen else "",
        object_ref=f"account:{user.pk}",
        details={**details, **binding.commitment()},
        entry_id=binding.entry_id,
    )
    return account


def _looks_like_identity_number(value: str) -> bool:
    try:
        normalize_identity_number(value)
    except InvalidIdentityNumber:
        return False
    return True


def account_of(user) -> Account | None:
    """The account of a logged-in user, or None (anonymous, a department key, a bare admin)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return getattr(user, "account", None)


def actor_of(user) -> dict[str, str]:
    """How an account's acts are named in the audit log.

    Reviewers and regulators act under their username, as admins do. A resident acts
    as ``account:<id>``: the log is kept ten years (ZJ 20) and exported, and a
    resident's username must not become a second identifier beside the blind index.
    """
    account = account_of(user)
    if account is None:
        return {"actor_kind": ActorKind.ANONYMOUS, "actor_id": ""}
    if account.role == Role.CITIZEN:
        return {"actor_kind": ActorKind.CITIZEN, "actor_id": f"account:{user.pk}"}
    kind = ActorKind.REVIEWER if account.role == Role.REVIEWER else ActorKind.REGULATOR
    return {"actor_kind": kind, "actor_id": user.get_username()}
