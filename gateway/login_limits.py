"""Failed logins, counted by django-axes in the database every worker and host shares.

The portal, the token API and the admin all log in through ``authenticate()``, where
axes's backend refuses a locked-out caller; these are the callables its settings name
(config/settings.py, README "Limits"): what a typed username is recorded as, which
address a request comes from, and the 429 a locked-out caller gets.
"""

from __future__ import annotations

import ipaddress

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from rest_framework.throttling import BaseThrottle

from gateway.errors import Msg
from gateway.identity import InvalidIdentityNumber, normalize_identity_number, vault
from gateway.logging import has_identity_shape

# Django's own limit on a username: longer text cannot be anyone's, and axes's column
# holds 255 characters.
USERNAME_MAX = 150


def _identity_like(text: str) -> bool:
    if has_identity_shape(text):
        return True
    try:
        normalize_identity_number(text.replace(" ", ""))
    except InvalidIdentityNumber:
        return False
    return True


def attempt_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """The username an attempt is counted and recorded under (AXES_USERNAME_CALLABLE).

    Case and surrounding blanks do not make another username. No account's username is
    an identity number (accounts refuse one), but a resident may type theirs: such text
    is recorded as a keyed hash, never as it was typed, in axes's table and its log lines.
    """
    source = credentials if credentials is not None else request.POST
    value = source.get("username")
    if not isinstance(value, str):
        return None
    text = value.strip().lower()[:USERNAME_MAX]
    if not text:
        return None
    # Text a database column can hold, whatever was typed (NUL, unpaired surrogates).
    text = text.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")
    if _identity_like(text):
        digest = vault().keyed_digest(b"login-username", text.upper().encode("utf-8"))
        return "id-hash:" + digest[:32]
    return text


def login_succeeded(request: HttpRequest, user) -> None:
    """Axes's part of a login that opens no session (the token API): a success clears the
    caller's failures as a session login does (AXES_RESET_ON_SUCCESS)."""
    AxesProxyHandler.user_logged_in(sender=None, request=request, user=user)


def client_address(request: HttpRequest) -> str | None:
    """The caller's address as the other rate limits see it (NUM_PROXIES), if it is one."""
    for candidate in (BaseThrottle().get_ident(request), request.META.get("REMOTE_ADDR")):
        try:
            return str(ipaddress.ip_address(str(candidate or "").strip()))
        except ValueError:
            continue
    return None


def retry_after(request: HttpRequest) -> int:
    """Seconds until a locked-out caller may try again: each refused attempt restarts
    the cool-off (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT), so it is the whole of it."""
    cool_off = get_cool_off(request)
    return max(1, int(cool_off.total_seconds())) if cool_off else 1


def lockout_response(
    request: HttpRequest, original_response=None, credentials: dict | None = None
) -> HttpResponse:
    """429 with Retry-After: the API's one error shape, or a translated page."""
    wait = retry_after(request)
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {"error": "throttled", "message": str(Msg.THROTTLED % {"wait": wait})}, status=429
        )
    elif request.path.startswith("/admin/"):
        from django.contrib import admin

        context = {**admin.site.each_context(request), "wait": wait}
        response = render(request, "admin/locked_out.html", context, status=429)
    else:
        from gateway.portal.forms import LoginForm

        context = {"form": LoginForm(request), "wait": wait}
        response = render(request, "portal/login.html", context, status=429)
    response["Retry-After"] = str(wait)
    return response
