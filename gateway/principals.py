"""Who is acting: the object DRF puts in request.user for each kind of caller."""

from __future__ import annotations

from dataclasses import dataclass

from compliance.models import Department


@dataclass(frozen=True)
class DepartmentPrincipal:
    """A department's system, authenticated by one of its API keys."""

    department: Department
    key_id: str
    is_authenticated: bool = True
    is_active: bool = True

    @property
    def actor_id(self) -> str:
        return self.department.code
