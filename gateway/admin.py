"""Admin for the score store. Pages that show a resident's data leave an audit entry."""

from __future__ import annotations

import csv

from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.views.main import SEARCH_VAR
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import APIKey

from audit.actions import ActorKind, AuditAction
from audit.admin_filters import DeclaredFiltersOnly
from compliance.history import ReadOnlyHistoryAdmin
from gateway.charts import bar_chart_svg
from gateway.models import (
    Appeal,
    Citizen,
    DepartmentAPIKey,
    EligibilityReview,
    RepairApplication,
    Score,
    ScoreEvent,
    Submission,
)
from gateway.services.audit_boundary import AuditRecord, log_append
from gateway.services.findings import findings_report
from gateway.services.keys import department_key_create, department_key_revoke


class AdminLoginForm(AdminAuthenticationForm):
    """The admin's login; a refused login does not show the typed username again."""

    def clean(self):
        try:
            return super().clean()
        except ValidationError:
            # It may be an identity number or any text: the page does not repeat it.
            self.data = self.data.copy()
            self.data["username"] = ""
            raise


admin.site.login_form = AdminLoginForm


def _actor(request) -> dict[str, str]:
    kind = ActorKind.ADMIN if request.user.is_superuser else ActorKind.REGULATOR
    return {"actor_kind": kind, "actor_id": request.user.get_username()}


class PersonalDataPages:
    """A ModelAdmin mix-in: every page that shows residents' data is recorded (ZJ 20,
    SH 34), so each resident finds the read in "who saw my data".

    Change list, change page, history page, a history version's page and the delete
    confirmation: one entry per resident shown, about that resident.
    """

    def subject_of(self, obj) -> str:
        return ""

    def _record_views(self, request, objects, object_ref) -> None:
        records = [
            AuditRecord(
                action=AuditAction.DATA_READ_BY_ADMIN,
                subject=subject,
                object_ref=object_ref(obj),
                details={"page": request.path[:200]},
                **_actor(request),
            )
            for obj in objects
            if (subject := self.subject_of(obj))
        ] or [
            AuditRecord(
                action=AuditAction.DATA_READ_BY_ADMIN,
                object_ref=f"{self.model._meta.model_name}:list",
                details={"page": request.path[:200]},
                **_actor(request),
            )
        ]
        with transaction.atomic():
            log_append(records)

    def changelist_view(self, request, extra_context=None):
        if SEARCH_VAR in request.GET and not self.get_search_fields(request):
            # No search box here, yet the change list would repeat the text (an identity
            # number, say) in every link of the page: the page without it instead.
            query = request.GET.copy()
            del query[SEARCH_VAR]
            return HttpResponseRedirect(f"{request.path}?{query.urlencode()}")
        response = super().changelist_view(request, extra_context)
        if request.method == "GET" and getattr(response, "status_code", 200) == 200:
            changelist = (getattr(response, "context_data", None) or {}).get("cl")
            shown = list(changelist.result_list) if changelist is not None else []
            # One entry per resident on the page, so each sees the read in their log.
            self._record_views(
                request, shown, lambda obj: f"{self.model._meta.model_name}:list:{obj.pk}"
            )
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        self._record_object_page(request, object_id, response, "")
        return response

    # The history pages show every past version of the row (a score, an appeal with its
    # statement): reads of the resident's data like the change page.
    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        self._record_object_page(request, object_id, response, ":history")
        return response

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        response = super().history_form_view(request, object_id, version_id, extra_context)
        self._record_object_page(request, object_id, response, f":history:{version_id}")
        return response

    def delete_view(self, request, object_id, extra_context=None):
        response = super().delete_view(request, object_id, extra_context)
        self._record_object_page(request, object_id, response, ":delete")
        return response

    def _record_object_page(self, request, object_id, response, page: str) -> None:
        if getattr(response, "status_code", 200) != 200:
            return
        obj = self.get_object(request, object_id)
        if obj is not None:
            self._record_views(
                request, [obj], lambda obj: f"{self.model._meta.model_name}:{obj.pk}{page}"
            )


class ReadOnly:
    """Nobody adds, changes or deletes here, superusers included."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PersonalDataAdmin(PersonalDataPages, ReadOnly, ReadOnlyHistoryAdmin):
    """Read-only, with history pages; every page that shows residents' data is recorded."""

    history_list_per_page = 50
    list_per_page = 50


@admin.register(Citizen)
class CitizenAdmin(PersonalDataAdmin):
    list_display = ("id", "identity_masked", "registered_at")
    exclude = ("identity_ciphertext",)
    readonly_fields = ("identity_masked", "identity_index", "registered_at")

    def subject_of(self, obj):
        return obj.identity_index


@admin.register(Score)
class ScoreAdmin(PersonalDataAdmin):
    list_display = ("citizen", "score", "points_sum", "updated_at")
    list_select_related = ("citizen",)

    def subject_of(self, obj):
        return obj.citizen.identity_index


# Ledger events keep no history rows (a change is a new event): no simple-history pages.
@admin.register(ScoreEvent)
class ScoreEventAdmin(PersonalDataPages, ReadOnly, DeclaredFiltersOnly, admin.ModelAdmin):
    list_per_page = 50
    list_display = ("id", "citizen", "department", "rule", "points", "status", "occurred_at")
    list_filter = ("status", "kind", "department")
    list_select_related = ("citizen", "department", "rule")
    show_full_result_count = False

    def subject_of(self, obj):
        return obj.citizen.identity_index


@admin.register(Submission)
class SubmissionAdmin(DeclaredFiltersOnly, admin.ModelAdmin):
    list_display = ("id", "department", "idempotency_key", "record_count", "received_at")
    list_filter = ("department",)
    exclude = ("response",)
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DepartmentAPIKey)
class DepartmentAPIKeyAdmin(ReadOnlyHistoryAdmin):
    list_display = ("prefix", "department", "name", "created", "expiry_date", "revoked")
    list_filter = ("department", "revoked")
    fields = ("department", "name", "expiry_date", "revoked")
    actions = ["revoke_keys"]

    def get_readonly_fields(self, request, obj=None):
        return ("department", "name", "expiry_date") if obj else ("revoked",)

    # Issuing and revoking keys is the operator's (a superuser), whatever permissions a
    # group is given: the regulator reads keys and never changes one (README, "Roles").
    def has_add_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if not change:
            api_key, plaintext = department_key_create(
                department=obj.department,
                name=obj.name,
                expires_at=obj.expiry_date,
                **_actor(request),
            )
            obj.pk = api_key.pk
            self.message_user(
                request,
                _("The key is shown once; store it now: %(key)s") % {"key": plaintext},
                level=messages.WARNING,
            )
        elif obj.revoked:
            department_key_revoke(api_key=obj, reason="admin", **_actor(request))

    @admin.action(description=_("Revoke the selected keys"), permissions=["change"])
    def revoke_keys(self, request, queryset):
        for api_key in queryset:
            department_key_revoke(api_key=api_key, reason="admin", **_actor(request))


@admin.register(Appeal)
class AppealAdmin(PersonalDataAdmin):
    """Regulators follow every objection here, escalated and unassigned ones first."""

    list_display = ("id", "status", "decision_due", "event", "reviewer", "outcome", "filed_at")
    list_filter = ("status", "outcome")
    list_select_related = ("event", "reviewer", "citizen")
    ordering = ("status", "decision_due")
    show_full_result_count = False

    def subject_of(self, obj):
        return obj.citizen.identity_index


@admin.register(EligibilityReview)
class EligibilityReviewAdmin(PersonalDataAdmin):
    """Regulators follow every review of an automated eligibility answer (PIPL 24)."""

    list_display = ("id", "status", "decision_due", "threshold", "reviewer", "outcome", "filed_at")
    list_filter = ("status", "outcome")
    list_select_related = ("threshold", "reviewer", "citizen")
    ordering = ("status", "decision_due")
    show_full_result_count = False

    def subject_of(self, obj):
        return obj.citizen.identity_index


@admin.register(RepairApplication)
class RepairApplicationAdmin(PersonalDataAdmin):
    list_display = ("id", "status", "event", "applied_at", "decided_at", "removal_due")
    list_filter = ("status",)
    list_select_related = ("event", "citizen")

    def subject_of(self, obj):
        return obj.citizen.identity_index


# Logins are made and changed by commands, each audited (create_account, createsuperuser):
# in the admin they are read-only, for the operator too (README, "Roles"), so nobody
# sets a resident's password and reads as the resident, or grants a group a permission.
# A resident's login (username, e-mail address) is the resident's data: the operator's
# user pages are recorded like the pages above.
admin.site.unregister(User)
admin.site.unregister(Group)
# The key library's own model, unused (departments' keys are DepartmentAPIKey): no
# second door to issue a key.
admin.site.unregister(APIKey)


@admin.register(Group)
class ReadOnlyGroupAdmin(ReadOnly, GroupAdmin):
    pass


@admin.register(User)
class AccountUserAdmin(PersonalDataPages, ReadOnly, UserAdmin):
    list_select_related = ("account__citizen",)

    def subject_of(self, obj):
        account = getattr(obj, "account", None)
        citizen = account.citizen if account is not None else None
        return citizen.identity_index if citizen is not None else ""

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        self._record_object_page(request, id, response, ":password")
        return response


# --- the findings report ------------------------------------------------------------------

FINDINGS_PERMISSIONS = ("compliance.view_screeningrefusal", "gateway.view_appeal")


def _findings_allowed(request) -> None:
    if not request.user.has_perms(FINDINGS_PERMISSIONS):
        raise PermissionDenied


def findings_view(request):
    """Tables and charts of refusals, deductions and objections (counts only)."""
    _findings_allowed(request)
    report = findings_report()
    days = report.decision_working_days
    charts = {
        "refusals_by_department": bar_chart_svg(
            report.refusals_by_department, title=gettext("Refusals by department")
        ),
        "refusals_by_category": bar_chart_svg(
            report.refusals_by_category, title=gettext("Refusals by prohibited category")
        ),
        "refusals_by_month": bar_chart_svg(
            report.refusals_by_month, title=gettext("Refusals by month")
        ),
        "deductions_by_rule": bar_chart_svg(
            [(title, n) for title, n, _points in report.deductions_by_rule],
            title=gettext("Deductions by rule"),
        ),
        "appeal_outcomes": bar_chart_svg(
            report.appeal_outcomes, title=gettext("Objections by outcome")
        ),
        "decision_times": bar_chart_svg(
            [(f"#{d['appeal']}", d["working_days"]) for d in report.decisions],
            title=gettext("Working days to each decision"),
            marker=(days, gettext("deadline: %(days)d working days") % {"days": days}),
        ),
    }
    context = {
        **admin.site.each_context(request),
        "title": gettext("Findings report"),
        "report": report,
        "charts": {name: mark_safe(svg) for name, svg in charts.items()},  # noqa: S308
    }
    return TemplateResponse(request, "admin/gateway/findings.html", context)


def findings_csv(request):
    """The same figures as CSV: one row per table line, the table named in the first column."""
    _findings_allowed(request)
    report = findings_report()

    class Echo:
        def write(self, value):
            return value

    writer = csv.writer(Echo())

    def rows():
        yield writer.writerow(
            [gettext("table"), gettext("item"), gettext("count"), gettext("points")]
        )
        for table, items in (
            ("refusals_by_department", report.refusals_by_department),
            ("refusals_by_category", report.refusals_by_category),
            ("refusals_by_month", report.refusals_by_month),
            ("appeal_outcomes", report.appeal_outcomes),
        ):
            for label, count in items:
                yield writer.writerow([table, label, count, ""])
        for title, count, points in report.deductions_by_rule:
            yield writer.writerow(["deductions_by_rule", title, count, points])
        for d in report.decisions:
            yield writer.writerow(
                [
                    "decisions",
                    gettext("#%(appeal)d %(outcome)s (due %(due)s)")
                    % {"appeal": d["appeal"], "outcome": d["outcome"], "due": d["due"].isoformat()},
                    d["working_days"],
                    gettext("on time") if d["on_time"] else gettext("late"),
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="findings.csv"'
    return response


def _install_findings(site: admin.AdminSite) -> None:
    original_urls, original_index = site.get_urls, site.index

    def get_urls():
        return [
            path("findings/", site.admin_view(findings_view), name="findings"),
            path("findings.csv", site.admin_view(findings_csv), name="findings_csv"),
            *original_urls(),
        ]

    def index(request, extra_context=None):
        extra = dict(extra_context or {})
        if request.user.has_perms(FINDINGS_PERMISSIONS):
            extra["findings_url"] = reverse("admin:findings")
        return original_index(request, extra)

    site.get_urls = get_urls
    site.index = index


_install_findings(admin.site)
