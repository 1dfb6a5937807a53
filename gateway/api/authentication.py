"""DRF authentication for department systems: ``Authorization: Api-Key <key>``."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from rest_framework import authentication, exceptions

from gateway.models import DepartmentAPIKey
from gateway.principals import DepartmentPrincipal

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
        try:
            api_key = DepartmentAPIKey.objects.select_related("department").get_from_key(key)
        except (DepartmentAPIKey.DoesNotExist, ValidationError, ValueError):
            raise exceptions.AuthenticationFailed() from None
        if api_key.has_expired or not api_key.department.is_active:
            raise exceptions.AuthenticationFailed()
        return DepartmentPrincipal(department=api_key.department, key_id=api_key.prefix), api_key

    def authenticate_header(self, request) -> str:
        return KEYWORD
