"""Filters for the portal's pages: the services' plain values as residents read them."""

from __future__ import annotations

import datetime as dt
import re

from django import template
from django.conf import settings
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from audit.actions import ActorKind
from compliance import citations
from compliance import law as statutes
from gateway.models import EventKind, EventStatus

register = template.Library()


@register.simple_tag
def law(name: str):
    """A statutory constant from ``compliance/law.py``: ``{% law "MAX_SCORE" as high %}``.

    Pages never write the law's numbers themselves; an unknown name fails the render.
    """
    if not name.isupper():
        raise template.TemplateSyntaxError(f"not a statutory constant: {name!r}")
    return getattr(statutes, name)


@register.filter
def localized(value) -> str:
    """The current language's text of a ``{"zh": ..., "en": ...}`` pair, else the other one."""
    if not isinstance(value, dict):
        return "" if value is None else str(value)
    english = (get_language() or settings.LANGUAGE_CODE).lower().startswith("en")
    first, second = ("en", "zh") if english else ("zh", "en")
    return value.get(first) or value.get(second) or ""


@register.filter
def moment(value):
    """An ISO 8601 time from a service as a datetime, for the ``date`` filter."""
    if isinstance(value, dt.datetime) or not value:
        return value
    try:
        return dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None


@register.filter
def signed(value) -> str:
    """Points with their sign: +2, -3, 0."""
    try:
        return f"{int(value):+d}" if int(value) else "0"
    except (TypeError, ValueError):
        return ""


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


@register.filter
def event_status(value) -> str:
    return _label(EventStatus, value)


@register.filter
def event_kind(value) -> str:
    return _label(EventKind, value)


@register.filter
def actor_kind(value) -> str:
    return _label(ActorKind, value)


@register.filter
def citation(value) -> str:
    """A legal basis in the page's language (compliance.citations)."""
    return citations.citation(value)


@register.filter
def bilingual(value) -> str:
    """The page's language's part of a "中文 (English)" text."""
    return citations.bilingual(str(value or ""))


_PORTAL_PATH = re.compile(r"/portal/[a-z0-9/_-]*/(?:#[a-z0-9-]+)?")


@register.filter
def portal_links(value) -> str:
    """A notice's text, escaped, with each portal page it names made a link."""
    text = conditional_escape("" if value is None else str(value))
    return mark_safe(  # noqa: S308 - escaped above; the links are the portal's own paths
        _PORTAL_PATH.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', text)
    )
