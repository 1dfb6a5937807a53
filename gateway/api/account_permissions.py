"""DRF permissions for people's accounts: one class per rule."""

from rest_framework.permissions import BasePermission

from gateway.models import Role
from gateway.services.accounts import account_of


def _role(request) -> str | None:
    account = account_of(request.user)
    return account.role if account is not None else None


class HasAccount(BasePermission):
    """The caller is logged in with a resident's, reviewer's or regulator's account."""

    def has_permission(self, request, view) -> bool:
        return _role(request) is not None


class IsCitizen(BasePermission):
    """The caller is a resident, acting on their own record."""

    def has_permission(self, request, view) -> bool:
        return _role(request) == Role.CITIZEN


class IsReviewerOrRegulator(BasePermission):
    """The caller handles objections: a reviewer or a regulator."""

    def has_permission(self, request, view) -> bool:
        return _role(request) in (Role.REVIEWER, Role.REGULATOR)


class IsRegulator(BasePermission):
    """The caller is a regulator."""

    def has_permission(self, request, view) -> bool:
        return _role(request) == Role.REGULATOR
