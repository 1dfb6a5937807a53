"""django-simple-history set-up shared by the apps that keep history rows."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from simple_history.models import HistoricalRecords


def history_user(request=None, **kwargs):
    """The logged-in person behind a change; None for department systems and commands."""
    user = getattr(request, "user", None)
    if isinstance(user, AbstractBaseUser) and user.is_authenticated:
        return user
    return None


def history(**kwargs) -> HistoricalRecords:
    return HistoricalRecords(get_user=history_user, **kwargs)
