"""Refusals made before any view runs, for the pages (portal, catalogue, admin)."""

from __future__ import annotations

from django.http import HttpResponseBadRequest
from django.utils.translation import gettext as _

from gateway.validation import EARLIEST_YEAR, LATEST_YEAR, parse_calendar_date, parse_instant

NUL = "\x00"


class RefuseNulCharacters:
    """A U+0000 in a page's path, query or form is refused with 400.

    PostgreSQL's text types cannot hold the character, so a filter, search or form
    value carrying one would fail in the database (a 500) instead of being refused;
    SQLite would accept it, and the two databases must answer alike. The JSON API
    refuses it itself, naming the field, in its own error shape.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/api/") and self._carries_nul(request):
            return HttpResponseBadRequest(
                _("The request contains a NUL character (U+0000), which no field accepts."),
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)

    @staticmethod
    def _carries_nul(request) -> bool:
        if NUL in request.path:
            return True
        forms = [request.GET]
        if request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            forms.append(request.POST)
        return any(
            NUL in key or any(NUL in value for value in form.getlist(key))
            for form in forms
            for key in form
        )


class UnstorableValueIsBadRequest:
    """A page's filter value no database column can hold is a 400, not a 500.

    The admin passes URL filters to the database as typed: an integer past 64 bits, or
    a date whose UTC time falls before year 1 (0001-01-01 at +14:00), raise
    OverflowError when the driver converts them, in the admin's own change lists and
    in those of the libraries it shows (users, tokens, keys) alike.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if request.path.startswith("/api/") or not isinstance(exception, OverflowError):
            return None
        return HttpResponseBadRequest(
            _("A value in the request is out of the range this field can hold."),
            content_type="text/plain; charset=utf-8",
        )


class StrictAdminDateFilters:
    """An admin list's date filter is a calendar date or an RFC 3339 instant, 1949 to 2100.

    The admin hands a filter value to the field, whose parser is Python's own: it takes
    week dates (2026-W47-5), ordinal dates and basic formats, and any year. A change list
    or the log's CSV export whose filter on a date or date-time field is anything else is
    a 400 naming the rule, as every other door of the gateway refuses such a date. The
    admin's own date filters send "YYYY-MM-DD HH:MM:SS+HH:MM" (RFC 3339 allows the space).
    """

    # Lookups whose value is the field's own kind of value.
    _SAME_KIND = {"exact", "gt", "gte", "lt", "lte"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "GET" and request.path.startswith("/admin/") and request.GET:
            model = self._listed_model(request)
            if model is not None and not all(
                self._acceptable(model, name, value)
                for name in request.GET
                for value in request.GET.getlist(name)
            ):
                return HttpResponseBadRequest(
                    _(
                        "A date filter must be a calendar date (YYYY-MM-DD) or an RFC 3339 "
                        "date-time with its offset, within the years %(first)d to %(last)d."
                    )
                    % {"first": EARLIEST_YEAR, "last": LATEST_YEAR},
                    content_type="text/plain; charset=utf-8",
                )
        return self.get_response(request)

    @staticmethod
    def _listed_model(request):
        from django.apps import apps
        from django.urls import Resolver404, resolve

        try:
            match = resolve(request.path_info)
        except Resolver404:
            return None
        name = match.url_name or ""
        if match.namespace != "admin" or not name.endswith(("_changelist", "_export")):
            return None
        for model in apps.get_models():
            if name.startswith(f"{model._meta.app_label}_{model._meta.model_name}_"):
                return model
        return None

    @classmethod
    def _acceptable(cls, model, name: str, value: str) -> bool:
        from django.core.exceptions import FieldDoesNotExist
        from django.db import models

        field, opts, rest = None, model._meta, name.split("__")
        while rest:
            try:
                field = opts.get_field(rest[0])
            except FieldDoesNotExist:
                return True  # not a field: the admin itself refuses it
            rest = rest[1:]
            if not (field.is_relation and field.related_model is not None and rest):
                break
            opts = field.related_model._meta
        lookups = rest
        if not isinstance(field, models.DateField):
            return True
        if lookups[:1] == ["date"] and len(lookups) == 2:
            lookups = ["date"] if lookups[1] in cls._SAME_KIND else lookups
        if len(lookups) > 1:
            return True  # a lookup the admin itself refuses or handles
        lookup = lookups[0] if lookups else "exact"
        if isinstance(field, models.DateTimeField) and lookup in cls._SAME_KIND:
            return _instant_or_day(value)
        if lookup in cls._SAME_KIND or lookup == "date":
            return _day(value)
        return True


def _day(value: str) -> bool:
    try:
        parse_calendar_date(value)
    except ValueError:
        return False
    return True


def _instant_or_day(value: str) -> bool:
    if len(value) == 10:
        return _day(value)
    if len(value) > 10 and value[10] == " ":
        value = f"{value[:10]}T{value[11:]}"
    try:
        parse_instant(value)
    except ValueError:
        return False
    return True
