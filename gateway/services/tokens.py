"""API tokens of people (residents, reviewers, regulators): the department keys' scheme.

Only a hash is stored (djangorestframework-api-key), the token is shown once at login,
it expires, logging out revokes every token of the account, and so does a change of
password: whoever learnt the old password or a token loses the account with it.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from gateway.models import AccountToken


@transaction.atomic
def account_token_issue(*, user, now: dt.datetime | None = None) -> tuple[AccountToken, str]:
    """A new token for USER; the plaintext is returned once and never stored."""
    now = now or timezone.now()
    expires_at = now + dt.timedelta(hours=settings.ACCOUNT_TOKEN_HOURS)
    return AccountToken.objects.create_key(user=user, name="login", expiry_date=expires_at)


def account_token_user(key: str):
    """The active user a valid, unexpired, unrevoked token belongs to, else None."""
    if not isinstance(key, str) or "." not in key or len(key) > 200:
        return None
    try:
        token = AccountToken.objects.get_from_key(key)
    except AccountToken.DoesNotExist:
        return None
    if token.has_expired or not token.user.is_active:
        return None
    return token.user


def account_tokens_revoke(*, user) -> int:
    """Revoke every token of USER (logout everywhere, a new password)."""
    return AccountToken.objects.filter(user=user, revoked=False).update(revoked=True)
