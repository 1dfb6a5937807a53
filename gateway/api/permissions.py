"""DRF permissions: one class per rule."""

from rest_framework.permissions import BasePermission

from gateway.principals import DepartmentPrincipal


class IsDepartment(BasePermission):
    """The caller is a department system authenticated by an API key."""

    def has_permission(self, request, view) -> bool:
        return isinstance(request.user, DepartmentPrincipal)
