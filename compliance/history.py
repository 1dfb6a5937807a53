"""django-simple-history set-up shared by the apps that keep history rows."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import HistoricalRecords

from audit.admin_filters import DeclaredFiltersOnly


def history_user(request=None, **kwargs):
    """The logged-in person behind a change; None for department systems and commands."""
    user = getattr(request, "user", None)
    if isinstance(user, AbstractBaseUser) and user.is_authenticated:
        return user
    return None


def history(**kwargs) -> HistoricalRecords:
    return HistoricalRecords(get_user=history_user, **kwargs)


class ReadOnlyHistoryAdmin(DeclaredFiltersOnly, SimpleHistoryAdmin):
    """History pages that show past versions and never restore one.

    A revert would save an old version behind the services' back: no audit entry, no
    lifecycle (a withdrawn rule back in force). SIMPLE_HISTORY_REVERT_DISABLED hides the
    button; this refuses the POST the button would have sent, for every role.
    """

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method != "GET":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)
