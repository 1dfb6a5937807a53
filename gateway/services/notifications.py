"""Telling residents: a portal notification always, an e-mail where an address is known.

The e-mail is sent after commit, so a rolled-back act never reaches anyone; its
delivery is then recorded on the notification and in the audit log.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.actions import ActorKind, AuditAction
from gateway.errors import NotFound
from gateway.models import Citizen, Notification
from gateway.services.audit_boundary import log_record

NOTIFICATION_NOT_FOUND = _("You have no notification with this id.")

logger = logging.getLogger(__name__)


def notification_send(
    *,
    citizen: Citizen,
    kind: str,
    title: str,
    body: str,
    payload: dict[str, Any] | None = None,
    event=None,
    appeal=None,
    repair=None,
    eligibility_review=None,
) -> Notification:
    """Create the notification inside the caller's transaction; e-mail it after commit."""
    notification = Notification.objects.create(
        citizen=citizen,
        kind=kind,
        title=title[:200],
        body=body,
        payload=payload or {},
        created_at=timezone.now(),
        event=event,
        appeal=appeal,
        repair=repair,
        eligibility_review=eligibility_review,
    )
    transaction.on_commit(lambda: notification_email(notification.pk))
    return notification


def _address_for(citizen: Citizen) -> str:
    account = getattr(citizen, "account", None)
    return account.user.email if account is not None and account.user.email else ""


def notification_email(notification_id: int) -> bool:
    """Send one notification by e-mail if the resident has an address; record delivery."""
    notification = Notification.objects.select_related("citizen").get(pk=notification_id)
    address = _address_for(notification.citizen)
    if not address or notification.emailed_at is not None:
        return False
    try:
        send_mail(notification.title, notification.body, None, [address])
    except Exception:  # the portal copy stands; a failed e-mail is logged
        logger.exception("e-mail delivery of notification %s failed", notification.pk)
        return False
    with transaction.atomic():
        Notification.objects.filter(pk=notification.pk).update(emailed_at=timezone.now())
        log_record(
            action=AuditAction.NOTICE_DELIVERED,
            actor_kind=ActorKind.SYSTEM,
            actor_id="mailer",
            subject=notification.citizen.identity_index,
            object_ref=f"notification:{notification.pk}",
            details={"kind": notification.kind, "channel": "email"},
        )
    return True


def notifications_unread_count(citizen: Citizen) -> int:
    """How many of the resident's notifications they have not marked as read."""
    return Notification.objects.filter(citizen=citizen, read_at__isnull=True).count()


def notification_mark_read(
    *, citizen: Citizen, notification_id: int, now: dt.datetime | None = None
) -> Notification:
    """The resident marks one of their own notifications as read; another's is never revealed.

    Marking it again keeps the time it was first read.
    """
    if (
        isinstance(notification_id, bool)
        or not isinstance(notification_id, int)
        or not 0 < notification_id < 2**62
    ):
        raise NotFound(NOTIFICATION_NOT_FOUND)
    mine = Notification.objects.filter(pk=notification_id, citizen=citizen)
    mine.filter(read_at__isnull=True).update(read_at=now or timezone.now())
    notification = mine.first()
    if notification is None:
        raise NotFound(NOTIFICATION_NOT_FOUND)
    return notification
