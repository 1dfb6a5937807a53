"""The hook through which the log's admin and signals make outside text safe.

The audit app knows nothing of the apps that use it, yet its admin and its login
receivers record text a person typed (a filter, a username). The project names, in
``AUDIT_TEXT_GUARD``, the function that screens such text and masks identity numbers
before it is stored; without one, the text is dropped.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string


def guarded(value: Any) -> Any:
    """VALUE made safe to store by the project's guard, or None if there is no guard."""
    path = getattr(settings, "AUDIT_TEXT_GUARD", None)
    if not path:
        return None
    return import_string(path)(value)
