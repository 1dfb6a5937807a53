"""Regulators manage the catalogue, purposes and screening policy here; every save is audited."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.paginator import Paginator
from django.db.models import Count, Q, TextField
from django.db.models.functions import TruncMonth
from django.http import HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.actions import ActorKind
from audit.admin_filters import DeclaredFiltersOnly
from compliance import lifecycle, models
from compliance.dates import EARLIEST_YEAR, LATEST_YEAR, parse_calendar_date
from compliance.history import ReadOnlyHistoryAdmin
from compliance.selectors import workday_calendar
from compliance.services import catalogue_object_delete, catalogue_object_save


def _actor(request) -> dict[str, str]:
    kind = ActorKind.ADMIN if request.user.is_superuser else ActorKind.REGULATOR
    return {"actor_kind": kind, "actor_id": request.user.get_username()}


class AuditedAdmin(ReadOnlyHistoryAdmin):
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


class RuleForm(forms.ModelForm):
    """A new rule's code must be new: a change to an existing code is a new version."""

    class Meta:
        model = models.Rule
        fields = (
            "code",
            "title_zh",
            "title_en",
            "points",
            "severity",
            "legal_basis_law",
            "legal_basis_article",
            "effective_from",
            "retention_years",
        )

    def clean_code(self):
        code = self.cleaned_data["code"]
        if self.instance.pk is None and models.Rule.objects.filter(code=code).exists():
            raise forms.ValidationError(lifecycle.Refusal.CODE_EXISTS.format(code=code))
        return code


def _date_input(label):
    # Parsed by the action itself, so a malformed date gets its own message instead of
    # the admin's generic "no action selected".
    return forms.CharField(
        label=label, required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class RuleLifecycleForm(ActionForm):
    """Dates and reason for the lifecycle actions, entered beside the action menu."""

    opens_on = _date_input(_("comment opens"))
    closes_on = _date_input(_("closes"))
    effective_from = _date_input(_("effective from"))
    reason = forms.CharField(label=_("withdrawal reason"), required=False, max_length=500)


BAD_ACTION_DATE = _("%(label)s: enter a date as YYYY-MM-DD within the years %(first)d to %(last)d.")


def _action_value(request, name: str):
    """A cleaned value from the action bar, or None; a malformed value is reported.

    Dates are ISO 8601 calendar dates within the span every other door accepts
    (compliance.dates), so a far-off year is refused here, never reaching the lifecycle's
    date arithmetic or the database.
    """
    label = RuleLifecycleForm.base_fields[name].label
    raw = request.POST.get(name, "").strip()
    if not raw:
        return None
    if name != "reason":
        try:
            return parse_calendar_date(raw)
        except ValueError:
            messages.error(
                request,
                BAD_ACTION_DATE % {"label": label, "first": EARLIEST_YEAR, "last": LATEST_YEAR},
            )
            raise forms.ValidationError("date") from None
    try:
        return RuleLifecycleForm.base_fields[name].clean(raw)
    except forms.ValidationError as error:
        messages.error(request, f"{label}: {' '.join(error.messages)}")
        raise


@admin.register(models.Rule)
class RuleAdmin(AuditedAdmin):
    """Drafts are edited here; every change of status is an action calling compliance.lifecycle.

    Published, withdrawn and in-comment versions are read-only: a change to a
    published rule is a new version, which goes through comment and publication.
    """

    class CommentInline(admin.TabularInline):
        """The public's comments, read-only: nobody edits what the public said."""

        model = models.RuleComment
        fields = ("submitted_at", "body")
        readonly_fields = fields
        extra = 0
        can_delete = False

        def has_add_permission(self, request, obj=None):
            return False

    form = RuleForm
    action_form = RuleLifecycleForm
    inlines = (CommentInline,)
    actions = ("open_comment", "publish", "new_version", "withdraw")
    list_display = (
        "code",
        "version",
        "title_zh",
        "points",
        "severity",
        "status",
        "comment_opens_on",
        "comment_closes_on",
        "effective_from",
        "effective_to",
    )
    list_filter = ("status", "severity")
    search_fields = ("code", "title_zh", "title_en", "legal_basis_law")
    # Set only by the lifecycle actions.
    lifecycle_fields = (
        "version",
        "status",
        "comment_opens_on",
        "comment_closes_on",
        "published_at",
        "effective_to",
    )

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status != models.RuleStatus.DRAFT:
            return [f.name for f in models.Rule._meta.fields]
        if obj is not None:
            return ("code", *self.lifecycle_fields)
        return self.lifecycle_fields

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.status != models.RuleStatus.DRAFT:
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
        else:
            created = lifecycle.rule_draft_create(
                code=obj.code,
                title_zh=obj.title_zh,
                title_en=obj.title_en,
                points=obj.points,
                severity=obj.severity,
                legal_basis_law=obj.legal_basis_law,
                legal_basis_article=obj.legal_basis_article,
                effective_from=obj.effective_from,
                retention_years=obj.retention_years,
                **_actor(request),
            )
            obj.pk = created.pk
            obj.status = created.status
        if obj.effective_from < timezone.localdate():
            messages.warning(
                request,
                _(
                    "The proposed effective date %(date)s is in the past. The rule can only be "
                    "published with an effective date on or after its publication day "
                    "(SH 10: no retroactive rules)."
                )
                % {"date": obj.effective_from.isoformat()},
            )

    def _run(self, request, queryset, transition, done: str, **kwargs) -> None:
        for rule in queryset.order_by("code", "version"):
            try:
                transition(rule, **kwargs)
            except lifecycle.ComplianceError as error:
                messages.error(request, f"{rule}: {error}")
            else:
                messages.success(request, f"{rule}: {done}")

    @admin.action(description=_("Open for public comment"), permissions=["change"])
    def open_comment(self, request, queryset):
        try:
            opens_on = _action_value(request, "opens_on") or timezone.localdate()
            closes_on = _action_value(request, "closes_on")
        except forms.ValidationError:
            return

        def transition(rule, **kwargs):
            minimum = lifecycle.MIN_COMMENT_DAYS[models.RuleSeverity(rule.severity)]
            lifecycle.rule_open_comment(
                rule=rule,
                opens_on=opens_on,
                closes_on=closes_on or opens_on + dt.timedelta(days=minimum - 1),
                **_actor(request),
            )

        self._run(request, queryset, transition, _("opened for public comment"))

    @admin.action(description=_("Publish (effective from the date given)"), permissions=["change"])
    def publish(self, request, queryset):
        try:
            effective_from = _action_value(request, "effective_from")
        except forms.ValidationError:
            return
        if effective_from is None:
            messages.error(request, _("Enter the date the rule takes effect beside the action."))
            return
        self._run(
            request,
            queryset,
            lambda rule: lifecycle.rule_publish(
                rule=rule, effective_from=effective_from, **_actor(request)
            ),
            _("published"),
        )

    @admin.action(description=_("Make a new draft version"), permissions=["change"])
    def new_version(self, request, queryset):
        try:
            effective_from = _action_value(request, "effective_from")
        except forms.ValidationError:
            return
        proposed = effective_from or timezone.localdate() + dt.timedelta(days=1)
        self._run(
            request,
            queryset,
            lambda rule: lifecycle.rule_new_version(
                rule=rule, effective_from=proposed, **_actor(request)
            ),
            _("new draft version made: edit it, then open it for comment"),
        )

    @admin.action(description=_("Withdraw (reason required)"), permissions=["change"])
    def withdraw(self, request, queryset):
        try:
            reason = _action_value(request, "reason")
        except forms.ValidationError:
            return
        self._run(
            request,
            queryset,
            lambda rule: lifecycle.rule_withdraw(rule=rule, reason=reason or "", **_actor(request)),
            _("withdrawn"),
        )


@admin.register(models.EligibilityThreshold)
class EligibilityThresholdAdmin(AuditedAdmin):
    """Each change is audited (THRESHOLD_CHANGED) and kept in the history."""

    list_display = ("code", "title_zh", "title_en", "minimum_score")
    search_fields = ("code", "title_zh", "title_en")
    history_list_display = ("minimum_score",)


@admin.register(models.Purpose)
class PurposeAdmin(AuditedAdmin):
    list_display = ("code", "title_zh", "discloses", "is_active")
    list_filter = ("discloses", "is_active")


# A category holds hundreds of terms: its page shows them a page at a time, with a search.
INLINE_PAGE_SIZE = 15


class PagedInline(admin.TabularInline):
    """An inline that shows one page of its rows, filtered by its own search box.

    The search and page travel in the page's address (``<key>_q``, ``<key>_page``), and
    the change form posts to that same address, so a save edits the rows shown.
    """

    template = "admin/compliance/paged_tabular.html"
    key = ""
    searched_fields: tuple[str, ...] = ()

    def get_queryset(self, request):
        queryset = super().get_queryset(request).order_by("pk")
        query = request.GET.get(f"{self.key}_q", "").strip()[:100]
        if query:
            condition = Q()
            for name in self.searched_fields:
                condition |= Q(**{f"{name}__icontains": query})
            queryset = queryset.filter(condition)
        parent = request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
        if parent:
            queryset = queryset.filter(category_id=parent)
        ids = list(queryset.values_list("pk", flat=True))
        page = Paginator(ids, INLINE_PAGE_SIZE).get_page(request.GET.get(f"{self.key}_page"))
        pages = getattr(request, "inline_pages", {})
        pages[self.key] = {"page": page, "query": query, "total": len(ids)}
        request.inline_pages = pages
        return queryset.filter(pk__in=list(page.object_list))


class ScreeningTermInline(PagedInline):
    model = models.ScreeningTerm
    extra = 1
    key = "term"
    searched_fields = ("term", "source")


class ScreeningPatternInline(PagedInline):
    model = models.ScreeningPattern
    extra = 0
    key = "pattern"
    searched_fields = ("name", "pattern", "description", "source")
    formfield_overrides = {
        TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 60})},
    }


@admin.register(models.ScreeningCategory)
class ScreeningCategoryAdmin(AuditedAdmin):
    list_display = ("code", "title_zh", "title_en", "legal_source", "is_active")
    inlines = (ScreeningTermInline, ScreeningPatternInline)
    change_form_template = "admin/compliance/screeningcategory/change_form.html"

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            catalogue_object_delete(obj, **_actor(request))
        for obj in instances:
            catalogue_object_save(
                obj, changed_fields=["term", "pattern", "name"], **_actor(request)
            )


@admin.register(models.ScreeningTerm)
class ScreeningTermAdmin(AuditedAdmin):
    list_display = ("term", "category", "source")
    list_filter = ("category",)
    search_fields = ("term",)


@admin.register(models.ScreeningPattern)
class ScreeningPatternAdmin(AuditedAdmin):
    list_display = ("name", "category", "description", "source")
    list_filter = ("category",)


@admin.register(models.ScreeningDecoder)
class ScreeningDecoderAdmin(AuditedAdmin):
    list_display = ("code", "title", "is_enabled")
    list_editable = ("is_enabled",)
    readonly_fields = ("code", "title")

    def has_add_permission(self, request):  # the formats are the engine's, not data
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(models.WorkdayOverride)
class WorkdayOverrideAdmin(AuditedAdmin):
    list_display = ("date", "is_workday", "note")

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET":
            for message in workday_calendar_warnings(timezone.localdate()):
                messages.warning(request, message)
        return super().changelist_view(request, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return _refusable(super().changeform_view, request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        return _refusable(super().delete_view, request, object_id, extra_context)


@admin.register(models.PublishedSchedule)
class PublishedScheduleAdmin(AuditedAdmin):
    """Marks a year's State Council arrangement as entered: its deadlines stop being computed."""

    list_display = ("year", "document")

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return _refusable(super().changeform_view, request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        return _refusable(super().delete_view, request, object_id, extra_context)


def _refusable(view, request, *args):
    """A calendar change refused below (a deadline moved into the past) is rolled back
    whole and shown to the regulator, instead of a server error."""
    try:
        return view(request, *args)
    except lifecycle.ComplianceError as error:
        messages.error(request, str(error))
        return HttpResponseRedirect(request.get_full_path())


def workday_calendar_warnings(today) -> list[str]:
    """Warn about this year or next when the official holiday schedule is not published.

    The State Council publishes next year's schedule late in the year before; until
    the chinesecalendar package knows it or the regulator enters it, deadlines count
    the holidays computed from the national rules, and each says so.
    """
    calendar = workday_calendar()
    return [
        _(
            "The official holiday schedule for %(year)d is not known to this installation: "
            "deadlines in %(year)d count the statutory holidays computed from the national "
            "rules, without the State Council's joined days off and make-up working days, "
            "and say so. Enter that year's days off and make-up working days here and mark "
            "the year as published, or upgrade the chinesecalendar package."
        )
        % {"year": year}
        for year in calendar.unpublished_years(today, today.replace(year=today.year + 1, day=1))
    ]


@admin.register(models.ScreeningRefusal)
class ScreeningRefusalAdmin(DeclaredFiltersOnly, admin.ModelAdmin):
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
# The pages are laid out for a 1366 px screen: the index lists every model, so the
# sidebar's second copy of that list would only take a quarter of the width.
admin.site.enable_nav_sidebar = False
admin.site.site_title = _("Credit gateway")
