"""Change lists filter by their declared filters only, whatever the URL asks for."""

from __future__ import annotations

from django.contrib.admin.filters import SimpleListFilter
from django.db.models.constants import LOOKUP_SEP


class DeclaredFiltersOnly:
    """A ModelAdmin mix-in: a query parameter names a declared filter, or is refused.

    Django's admin lets the URL filter on any field of the model (?leaf_hash=...,
    ?identity_ciphertext__startswith=...). Such lookups were never offered, some reach
    the database with a value it cannot compare (a string against a binary column is a
    500 on PostgreSQL) and they would let a reader probe columns the pages hide. Refused
    lookups answer 400 (Django's DisallowedModelAdminLookup).
    """

    def lookup_allowed(self, lookup, value, request=None):
        declared = {self.date_hierarchy} if self.date_hierarchy else set()
        filters = self.get_list_filter(request) if request is not None else self.list_filter
        for item in filters:
            if isinstance(item, type) and issubclass(item, SimpleListFilter):
                declared.add(item.parameter_name)
            elif isinstance(item, list | tuple):
                declared.add(item[0])
            else:
                declared.add(item)
        if not any(lookup == name or lookup.startswith(name + LOOKUP_SEP) for name in declared):
            return False
        return super().lookup_allowed(lookup, value, request)
