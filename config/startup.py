"""Load the settings at start-up and stop with one line when the configuration is wrong.

An operator who forgot a secret needs its name, not a 58-line traceback through Django's
settings loader; the message names the variable and never a secret's value.
"""

from __future__ import annotations

import os
import sys

from django.core.exceptions import ImproperlyConfigured


def load_settings_or_exit() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings

    try:
        settings.INSTALLED_APPS  # noqa: B018 - the first access reads the environment
    except ImproperlyConfigured as exc:
        sys.stderr.write(f"configuration error: {exc}\n")
        sys.stderr.flush()
        raise SystemExit(2) from None
