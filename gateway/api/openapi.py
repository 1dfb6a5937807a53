"""OpenAPI descriptions (drf-spectacular): the authentication schemes and the error responses.

Every error leaves in one shape (gateway.errors), so each operation documents its error
statuses with the same few components; ``errors(...)`` builds that part of a
``responses`` mapping.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse


class DepartmentKeyScheme(OpenApiAuthenticationExtension):
    target_class = "gateway.api.authentication.DepartmentKeyAuthentication"
    name = "DepartmentApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A department key, sent as `Api-Key <key>` "
            "(`python manage.py create_department_key CODE`).",
        }


class AccountTokenScheme(OpenApiAuthenticationExtension):
    target_class = "gateway.api.authentication.AccountTokenAuthentication"
    name = "tokenAuth"
    match_subclasses = True

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A resident's, reviewer's or regulator's token from "
            "`POST /api/v1/auth/token`, sent as `Token <token>`.",
        }


class PortalSessionScheme(OpenApiAuthenticationExtension):
    target_class = "rest_framework.authentication.SessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        from django.conf import settings

        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": "The portal's login session. Requests other than GET must also "
            "send the CSRF token in the `X-CSRFToken` header (403 without it).",
        }


def _error_schemas():
    from gateway.api import schemas

    return {
        400: (
            schemas.InvalidError,
            "`invalid` (malformed JSON, a missing, ill-formed or unknown field; `problems` "
            "lists each with an RFC 6901 pointer) or another 400 code named in the "
            "operation's description",
        ),
        401: (schemas.Error, "`unauthenticated`: credentials missing, wrong, revoked or expired"),
        403: (schemas.Error, "`forbidden` or a more specific code: the caller may not do this"),
        404: (
            schemas.Error,
            "`not_found`: no such object, or one the caller may not know exists (the same "
            "answer either way)",
        ),
        409: (schemas.Error, "the object is not in a state that allows this"),
        413: (schemas.Error, "`too_large`: the body is over the byte limit"),
        415: (schemas.Error, "`unsupported_media_type`: the body is not `application/json`"),
        422: (schemas.ProhibitedError, "`prohibited_data`"),
        429: (schemas.Error, "`throttled`: over the rate limit; see `Retry-After`"),
        503: (schemas.Error, "`busy`: retry, with the same idempotency key"),
    }


def errors(*statuses: int, **descriptions: str) -> dict[int, OpenApiResponse]:
    """Responses for error statuses in the one error shape, e.g. ``errors(401, 403)``.

    A keyword ``s403="..."`` replaces the generic description of that status.
    """
    table = _error_schemas()
    responses = {}
    for status in statuses:
        serializer, description = table[status]
        responses[status] = OpenApiResponse(
            serializer, description=descriptions.get(f"s{status}", description)
        )
    return responses


# The errors any JSON body can meet before its handler runs (gateway.api.parsers).
BODY_ERRORS = (400, 413, 415)


def _page() -> list[OpenApiParameter]:
    from gateway.services.rights import DEFAULT_PAGE, MAX_PAGE

    return [
        OpenApiParameter(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": DEFAULT_PAGE},
            required=False,
            description=f"1 to {MAX_PAGE}, default {DEFAULT_PAGE}",
        ),
        OpenApiParameter("offset", {"type": "integer", "minimum": 0, "default": 0}),
    ]


PAGE = _page()

RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    int,
    OpenApiParameter.HEADER,
    response=[429],
    description="Seconds to wait before trying again.",
)
