"""Regulators manage the catalogue, purposes and screening policy here; every save is audited."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from audit.actions import ActorKind
from compliance import models
from compliance.services import catalogue_object_delete, catalogue_object_save


def _actor(request) -> dict[str, str]:
    kind = ActorKind.ADMIN if request.user.is_superuser else ActorKind.REGULATOR
    return {"actor_kind": kind, "actor_id": request.user.get_username()}


class AuditedAdmin(SimpleHistoryAdmin):
    """Saves and deletes go through the compliance services, which write the audit entry."""

    history_list_per_page = 50

    def save_model(self, request, obj, form, change):
        catalogue_object_save(obj, changed_fields=list(form.changed_data), **_actor(request))

    def delete_model(self, request, obj):
        catalogue_object_delete(obj, **_actor(request))

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            catalogue_object_delete(obj, **_actor(request))



@admin.register(models.Department)
class DepartmentAdmin(AuditedAdmin):
    list_display = ("code", "title_zh", "title_en", "is_active")
    search_fields = ("code", "title_zh", "title_en")
    list_filter = ("is_active",)


@admin.register(models.Rule)
class RuleAdmin(AuditedAdmin):
    list_display = (
        "code", "version", "title_zh", "points", "severity", "status",
        "effective_from", "effective_to",
    )
    list_filter = ("status", "severity")
    search_fields = ("code", "title_zh", "title_en", "legal_basis_law")

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status != models.RuleStatus.DRAFT:
            return [f.name for f in models.Rule._meta.fields]
        return ("published_at",)


@admin.register(models.EligibilityThreshold)
class EligibilityThresholdAdmin(AuditedAdmin):
    list_display = ("code", "title_zh", "minimum_score")


@admin.register(models.Purpose)
class PurposeAdmin(AuditedAdmin):
    list_display = ("code", "title_zh", "discloses", "is_active")
    list_filter = ("discloses", "is_active")


class ScreeningTermInline(admin.TabularInline):
    model = models.ScreeningTerm
    extra = 1


class ScreeningPatternInline(admin.TabularInline):
    model = models.ScreeningPattern
    extra = 0


@admin.register(models.ScreeningCategory)
class ScreeningCategoryAdmin(AuditedAdmin):
    list_display = ("code", "title_zh", "title_en", "legal_source", "is_active")
    inlines = (ScreeningTermInline, ScreeningPatternInline)

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            catalogue_object_delete(obj, **_actor(request))
        for obj in instances:
            catalogue_object_save(obj, changed_fields=["term", "pattern", "name"], **_actor(request))


@admin.register(models.ScreeningTerm)
class ScreeningTermAdmin(AuditedAdmin):
    list_display = ("term", "category")
    list_filter = ("category",)
    search_fields = ("term",)


@admin.register(models.ScreeningPattern)
class ScreeningPatternAdmin(AuditedAdmin):
    list_display = ("name", "category", "description")
    list_filter = ("category",)


@admin.register(models.WorkdayOverride)
class WorkdayOverrideAdmin(AuditedAdmin):
    list_display = ("date", "is_workday", "note")


@admin.register(models.ScreeningRefusal)
class ScreeningRefusalAdmin(admin.ModelAdmin):
    """Refused submissions, and per department and month the categories refused."""

    list_display = ("refused_at", "department", "categories", "violation_count", "policy_version")
    list_filter = ("department", ("refused_at", admin.DateFieldListFilter))
    change_list_template = "admin/compliance/screeningrefusal/change_list.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            response.context_data["monthly_findings"] = monthly_refusal_summary(
                changelist.get_queryset(request)
            )
        return response


def monthly_refusal_summary(queryset) -> list[dict]:
    """Per department and month: refused submissions and how often each category appeared."""
    rows = (
        queryset.annotate(month=TruncMonth("refused_at"))
        .values("department__code", "month")
        .annotate(refusals=Count("id"))
        .order_by("-month", "department__code")
    )
    summary = []
    for row in rows:
        categories: dict[str, int] = {}
        for cats in queryset.filter(
            department__code=row["department__code"],
            refused_at__year=row["month"].year,
            refused_at__month=row["month"].month,
        ).values_list("categories", flat=True):
            for category in cats:
                categories[category] = categories.get(category, 0) + 1
        summary.append(
            {
                "department": row["department__code"],
                "month": row["month"].strftime("%Y-%m"),
                "refusals": row["refusals"],
                "categories": dict(sorted(categories.items())),
                "finding": row["refusals"] >= REPEAT_OFFENDER_THRESHOLD,
            }
        )
    return summary


# A department refused this many times in one month is a compliance finding.
REPEAT_OFFENDER_THRESHOLD = 3

admin.site.site_header = _("Credit gateway administration")
admin.site.site_title = _("Credit gateway")
