"""DRF authentication: department systems (``Api-Key <key>``) and people (``Token <token>``)."""

from __future__ import annotations

from rest_framework import authentication, exceptions

from gateway.models import DepartmentAPIKey
from gateway.principals import DepartmentPrincipal
from gateway.services.tokens import account_token_user

KEYWORD = "Api-Key"


class DepartmentKeyAuthentication(authentication.BaseAuthentication):
    """A hashed, revocable, expiring key of an active department."""

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, key = header.partition(" ")
        if scheme != KEYWORD:
            return None
        key = key.strip()
        if not key or len(key) > 200 or "." not in key:
            raise exceptions.AuthenticationFailed()
        prefix = key.partition(".")[0]
        api_key = (
            DepartmentAPIKey.objects.select_related("department")
            .filter(prefix=prefix, revoked=False)
            .first()
        )
        # is_valid compares the key's hash in constant time.
        if api_key is None or not api_key.is_valid(key):
            raise exceptions.AuthenticationFailed()
        if api_key.has_expired or not api_key.department.is_active:
            raise exceptions.AuthenticationFailed()
        return DepartmentPrincipal(department=api_key.department, key_id=api_key.prefix), api_key

    def authenticate_header(self, request) -> str:
        return KEYWORD


class AccountTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Token <token>``: a person's hashed, expiring API token."""

    keyword = "Token"

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed()
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed() from None
        user = account_token_user(key)
        if user is None:
            raise exceptions.AuthenticationFailed()
        return user, None

    def authenticate_header(self, request) -> str:
        return self.keyword
