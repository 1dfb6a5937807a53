"""Logins to the admin are audit entries."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db import transaction
from django.dispatch import receiver

from audit.actions import ActorKind, AuditAction
from audit.guard import guarded
from audit.services import audit_record


def _from_admin(request) -> bool:
    return request is not None and request.path.startswith("/admin/")


@receiver(user_logged_in, dispatch_uid="audit_admin_login")
def record_admin_login(sender, request, user, **kwargs):
    if not (_from_admin(request) or user.is_staff):
        return
    with transaction.atomic():
        audit_record(
            action=AuditAction.ADMIN_LOGIN,
            actor_kind=ActorKind.ADMIN if user.is_superuser else ActorKind.REGULATOR,
            actor_id=user.get_username(),
            details={"via": "admin" if _from_admin(request) else "site"},
        )


@receiver(user_login_failed, dispatch_uid="audit_admin_login_failed")
def record_admin_login_failure(sender, credentials, request=None, **kwargs):
    if not _from_admin(request):
        return
    with transaction.atomic():
        audit_record(
            action=AuditAction.ADMIN_LOGIN_FAILED,
            actor_kind=ActorKind.ANONYMOUS,
            # What was typed as a username may be an identity number or any text.
            actor_id=(guarded(str(credentials.get("username", ""))[:150]) or "")[:150],
        )


def ensure_log_head(sender, using="default", **kwargs):
    """The sequencer row must exist: after migrate, and after a test flush emptied it."""
    from audit.models import LogHead

    LogHead.objects.using(using).get_or_create(pk=1)
