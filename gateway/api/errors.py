"""The DRF exception handler: every error leaves in the one shape of gateway.errors."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.response import Response

from gateway.errors import GatewayError, Msg

_DRF_CODES = {
    exceptions.NotAuthenticated: ("unauthenticated", Msg.UNAUTHENTICATED),
    exceptions.AuthenticationFailed: ("unauthenticated", Msg.UNAUTHENTICATED),
    exceptions.PermissionDenied: ("forbidden", Msg.FORBIDDEN),
    exceptions.NotFound: ("not_found", Msg.NOT_FOUND),
    exceptions.MethodNotAllowed: ("method_not_allowed", Msg.METHOD_NOT_ALLOWED),
    exceptions.UnsupportedMediaType: ("unsupported_media_type", Msg.UNSUPPORTED_MEDIA_TYPE),
    exceptions.NotAcceptable: ("not_acceptable", None),
}


def exception_handler(exc, context):
    if isinstance(exc, GatewayError):
        return Response(exc.payload(), status=exc.status_code)
    if isinstance(exc, exceptions.Throttled):
        wait = int(exc.wait or 1)
        response = Response(
            {"error": "throttled", "message": str(Msg.THROTTLED % {"wait": wait})},
            status=429,
        )
        response["Retry-After"] = str(wait)
        return response
    if isinstance(exc, exceptions.ValidationError):
        return Response(
            {"error": "invalid", "message": str(Msg.INVALID), "problems": _flatten(exc.detail)},
            status=400,
        )
    if isinstance(exc, exceptions.ParseError):
        return Response({"error": "invalid", "message": str(exc.detail), "problems": []}, 400)
    for exc_type, (code, message) in _DRF_CODES.items():
        if isinstance(exc, exc_type):
            response = Response(
                {"error": code, "message": str(message or exc.detail)}, status=exc.status_code
            )
            if getattr(exc, "auth_header", None):
                response["WWW-Authenticate"] = exc.auth_header
            return response
    if isinstance(exc, exceptions.APIException):
        return Response(
            {"error": exc.default_code, "message": str(exc.detail)}, status=exc.status_code
        )
    return None


def _flatten(detail, prefix: str = "") -> list[dict[str, str]]:
    if isinstance(detail, dict):
        problems = []
        for key, value in detail.items():
            path = prefix if key == "non_field_errors" else f"{prefix}/{key}"
            problems.extend(_flatten(value, path))
        return problems
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return [{"path": prefix or "/", "message": str(item)} for item in detail]
        problems = []
        for index, item in enumerate(detail):
            problems.extend(_flatten(item, f"{prefix}/{index}"))
        return problems
    return [{"path": prefix or "/", "message": str(detail)}]
