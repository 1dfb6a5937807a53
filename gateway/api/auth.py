"""Token login for the residents' app: ``Authorization: Token <key>``; sessions for the portal.

Each login issues a new token, stored hashed and shown once, valid for
ACCOUNT_TOKEN_HOURS (gateway/services/tokens.py). Logging out revokes every token of
the account, and so does a new password. Failed logins lock a caller out for a while
(django-axes, gateway/login_limits.py): 429 with Retry-After.
"""

from __future__ import annotations

from django.contrib.auth import authenticate, logout
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response
from rest_framework.views import APIView

from gateway.api import rights_schemas as schemas
from gateway.api.account_permissions import HasAccount
from gateway.api.authentication import AccountTokenAuthentication
from gateway.api.openapi import BODY_ERRORS, RETRY_AFTER, errors
from gateway.errors import GatewayError, InvalidRequest, problem
from gateway.login_limits import login_succeeded
from gateway.services.accounts import account_of
from gateway.services.tokens import account_token_issue, account_tokens_revoke


class InvalidCredentials(GatewayError):
    status_code = 400
    code = "invalid_credentials"


INVALID_CREDENTIALS = _("The username or password is wrong.")
REQUIRED = _("this field is required")


class AccountView(APIView):
    # Base for every view a person (not a department system) calls. (A comment, not a
    # docstring: the schema would show it as every operation's description.)

    authentication_classes = [AccountTokenAuthentication, SessionAuthentication]
    permission_classes = [HasAccount]


def body_of(request) -> dict:
    return request.data if isinstance(request.data, dict) else {}


class TokenView(APIView):
    authentication_classes = [AccountTokenAuthentication, SessionAuthentication]

    def get_permissions(self):
        return [HasAccount()] if self.request.method == "DELETE" else []

    @extend_schema(
        request=schemas.TokenRequest,
        auth=[],
        examples=[
            OpenApiExample(
                "A resident",
                value={"username": "resident1", "password": "the account's passphrase"},
                request_only=True,
            )
        ],
        parameters=[RETRY_AFTER],
        responses={
            200: schemas.TokenOut,
            **errors(
                *BODY_ERRORS,
                403,
                429,
                s400="`invalid_credentials` (a wrong username or password, or a login "
                "without an account) or `invalid` (a field missing)",
                s403="`forbidden`: a browser session posting without its CSRF token",
                s429="`throttled`: too many failed logins for this username from this "
                "address; locked out for the time `Retry-After` gives",
            ),
        },
        summary="Log in: exchange a username and password for a token",
    )
    def post(self, request):
        data = body_of(request)
        username, password = data.get("username"), data.get("password")
        problems = [
            problem(f"/{name}", REQUIRED)
            for name, value in (("username", username), ("password", password))
            if not isinstance(value, str) or not value
        ]
        if problems:
            raise InvalidRequest(problems)
        user = authenticate(request._request, username=username[:150], password=password[:4096])
        if user is None or account_of(user) is None:
            raise InvalidCredentials(INVALID_CREDENTIALS)
        login_succeeded(request._request, user)
        token, plaintext = account_token_issue(user=user)
        return Response(
            {
                "token": plaintext,
                "role": user.account.role,
                "expires_at": token.expiry_date.isoformat(),
            }
        )

    @extend_schema(
        responses={
            204: OpenApiResponse(
                None,
                description="Logged out: every token of the account is revoked; a session ends",
            ),
            **errors(
                401,
                403,
                s403="`forbidden`: a login without an account, or a session without its CSRF token",
            ),
        },
        summary="Log out",
    )
    def delete(self, request):
        account_tokens_revoke(user=request.user)
        if isinstance(request.successful_authenticator, SessionAuthentication):
            logout(request._request)
        return Response(status=204)
