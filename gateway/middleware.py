"""Refusals made before any view runs, for the pages (portal, catalogue, admin)."""

from __future__ import annotations

from django.http import HttpResponseBadRequest
from django.utils.translation import gettext as _

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
