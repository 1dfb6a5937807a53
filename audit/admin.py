"""The regulator's view of the audit log: read-only for everyone, superusers included."""

from __future__ import annotations

import csv
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import HttpResponseBadRequest, HttpResponseRedirect, StreamingHttpResponse
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from audit import selectors
from audit.actions import ActorKind, AuditAction
from audit.admin_filters import DeclaredFiltersOnly
from audit.display import badge_html, hash_html
from audit.guard import guarded
from audit.models import AuditEntry, Checkpoint, Cosignature, VerificationRun
from audit.services import AuditRecord, audit_append, audit_record

COUNT_CAP = 10_000
RESIDENT_SEARCH_BY_POST = _(
    "An identity number typed into the search box travels in the URL: use the resident "
    "search above, which keeps it out of the address."
)
NOT_AN_IDENTITY_NUMBER = _("That is not a valid identity number (check digit included).")
HASH_FIELDS = ("leaf_hash", "previous_hash")
PROOF_PROBLEMS = {
    "pending": _("not yet in the log: queued for the integrator"),
    "no_checkpoint": _("no signed checkpoint yet"),
    "not_yet_covered": _("not yet covered by a signed checkpoint"),
    "leaf": _("failed: the entry's content does not give its leaf hash"),
    "signature": _("failed: the checkpoint's signature does not verify"),
    "proof": _("failed: the inclusion proof does not lead to the checkpoint's root"),
}


#: Page numbers reach this deep at most (10,000 entries at 50 a page): no page is an
#: OFFSET into millions of rows. "Older entries" (``?before=<entry id>``) goes on from
#: any row, as a keyset: an index range, however deep in the log.
MAX_PAGES = COUNT_CAP // 50
BEFORE_VAR = "before"


class CappedPaginator(Paginator):
    """Counts at most COUNT_CAP + 1 rows; page numbers stop at MAX_PAGES. For the tables
    that grow with the log (checkpoints: up to one a second)."""

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by()[: COUNT_CAP + 1].count()

    @cached_property
    def num_pages(self) -> int:
        return min(super().num_pages, MAX_PAGES)


class CappedCountPaginator(CappedPaginator):
    """Never runs a full COUNT over a large log: the head row knows the total, and a
    filtered view counts at most COUNT_CAP + 1 rows."""

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not queryset.query.where:
            return selectors.log_size()
        return super().count


class KeysetChangeList(ChangeList):
    """The change list with ``?before=<entry id>``: the entries older than that one.

    The list is always in the log's order (newest first, by id): no column sorts it, as
    a sort of the whole log by another column cannot be served from an index.
    """

    def get_filters_params(self, params=None):
        params = super().get_filters_params(params)
        params.pop(BEFORE_VAR, None)
        return params

    def get_ordering(self, request, queryset):
        return ["-pk"]

    def get_ordering_field_columns(self):
        return {}

    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        raw = request.GET.get(BEFORE_VAR)
        if raw is None:
            return queryset
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
            raise IncorrectLookupParameters(BEFORE_VAR)
        return queryset.filter(id__lt=int(raw))

    def older_query(self) -> str | None:
        """The query string of the entries older than this page's last (a full page's)."""
        rows = list(self.result_list)
        if len(rows) < self.list_per_page:
            return None
        return self.get_query_string({BEFORE_VAR: rows[-1].pk})

    def newest_query(self) -> str | None:
        """The same view from its newest entry, when this one starts further back."""
        if BEFORE_VAR not in self.filter_params:
            return None
        return self.get_query_string({BEFORE_VAR: None})


class ReadOnlyAdmin(DeclaredFiltersOnly, admin.ModelAdmin):
    class Media:
        css = {"all": ("audit/admin.css",)}
        js = ("audit/admin.js",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class DepartmentActorFilter(admin.SimpleListFilter):
    title = _("department")
    parameter_name = "department"

    def lookups(self, request, model_admin):
        # The choices come from the department catalogue, never from the log: a DISTINCT
        # over the log reads every entry on every page. The catalogue lives in another
        # app, which the log does not import: settings name the function that lists it.
        choices_path = getattr(settings, "AUDIT_DEPARTMENT_CHOICES", None)
        if not choices_path:
            return []
        return [(code, title) for code, title in import_string(choices_path)()]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(actor_kind=ActorKind.DEPARTMENT, actor_id=self.value())
        return queryset


class ResidentFilter(admin.SimpleListFilter):
    """One resident's entries, by blind index: where the resident search sends its result."""

    title = _("resident (blind index)")
    parameter_name = "subject"

    def lookups(self, request, model_admin):
        # Reached only from the resident search: shown (and applied) once it has a value.
        value = self.value()
        return [(value, _("the resident searched for"))] if value else []

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(subject=self.value()[:64])
        return queryset


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = (
        "sequence",
        "recorded_at",
        "action",
        "actor_kind",
        "actor_id",
        "purpose",
        "object_ref",
        "short_subject",
    )
    list_filter = (
        "action",
        "actor_kind",
        DepartmentActorFilter,
        ResidentFilter,
        ("recorded_at", admin.DateFieldListFilter),
    )
    search_fields = ("=actor_id", "=object_ref", "=purpose")
    search_help_text = _(
        "Search by actor, object or purpose. For one resident, use the resident search "
        "above: the identity number is posted and the address holds only its blind index."
    )
    paginator = CappedCountPaginator
    show_full_result_count = False
    list_per_page = 50
    ordering = ("-id",)
    sortable_by = ()
    date_hierarchy = None
    readonly_fields = [
        *(f.name for f in AuditEntry._meta.fields if f.name not in HASH_FIELDS),
        "leaf_hash_hex",
        "previous_hash_hex",
    ]
    exclude = HASH_FIELDS
    change_list_template = "admin/audit/auditentry/change_list.html"
    change_form_template = "admin/audit/auditentry/change_form.html"

    @admin.display(description=_("resident"))
    def short_subject(self, entry: AuditEntry) -> str:
        return f"{entry.subject[:12]}…" if entry.subject else ""

    @admin.display(description=_("leaf hash"))
    def leaf_hash_hex(self, entry: AuditEntry) -> str:
        return hash_html(entry.leaf_hash)

    @admin.display(description=_("previous leaf hash"))
    def previous_hash_hex(self, entry: AuditEntry) -> str:
        # Only entries of format 1 were chained; later ones have none.
        return hash_html(entry.previous_hash)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        entry = self.get_object(request, object_id)
        if entry is not None:
            proof = selectors.entry_proof(entry)
            extra_context = {
                **(extra_context or {}),
                "entry_proof": proof,
                "entry_proof_badge": badge_html(
                    proof.verified,
                    _("verified against the latest checkpoint")
                    if proof.verified
                    else PROOF_PROBLEMS.get(proof.problem, _("not verified")),
                ),
                "entry_proof_root": hash_html(proof.checkpoint.root_hash)
                if proof.checkpoint
                else "",
                "entry_proof_hashes": [hash_html(node) for node in proof.proof],
            }
        response = super().change_view(request, object_id, form_url, extra_context)
        # An entry about a resident is the resident's data (what was done, by whom, when):
        # each page that shows one is recorded, and the resident sees it in "who saw my data".
        self._record_entry_page(request, object_id, response, "change")
        return response

    def get_changelist(self, request, **kwargs):
        return KeysetChangeList

    def get_search_results(self, request, queryset, search_term):
        subject = _subject_for(search_term)
        if subject is not None:
            # Typed into the GET search box, the number is already in the URL: still
            # answered, but the page points to the resident search, which posts it.
            messages.warning(request, RESIDENT_SEARCH_BY_POST)
            return queryset.filter(subject=subject), False
        term = search_term.strip()
        if not term:
            return queryset, False
        # Exact matches, each served by its index (Django's "=" search is iexact, which
        # compares UPPER() of every row and reads the whole log).
        matches = Q()
        for name in self.search_fields:
            matches |= Q(**{name.lstrip("="): term[:200]})
        return queryset.filter(matches), False

    def get_urls(self):
        urls = super().get_urls()
        export = path(
            "export.csv",
            self.admin_site.admin_view(self.export_csv),
            name="audit_auditentry_export",
        )
        resident = path(
            "resident/",
            self.admin_site.admin_view(self.resident_search),
            name="audit_auditentry_resident",
        )
        return [export, resident, *urls]

    def resident_search(self, request):
        """The entries about one resident: the number is posted, the URL holds its blind index."""
        if not self.has_view_permission(request):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        changelist = reverse("admin:audit_auditentry_changelist")
        if request.method != "POST":
            return HttpResponseRedirect(changelist)
        subject = _subject_for(str(request.POST.get("identity_number", ""))[:64])
        if subject is None:
            messages.error(request, NOT_AN_IDENTITY_NUMBER)
            return HttpResponseRedirect(changelist)
        return HttpResponseRedirect(f"{changelist}?{urlencode({'subject': subject})}")

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "latest_checkpoint": selectors.latest_checkpoint(),
            "latest_verification": selectors.latest_verification(),
            "log_size": selectors.log_size(),
            "export_query": request.GET.urlencode(),
        }
        response = super().changelist_view(request, extra_context)
        if request.method == "GET" and getattr(response, "status_code", 200) == 200:
            changelist = (getattr(response, "context_data", None) or {}).get("cl")
            if changelist is not None:
                _record_shown(request, {e.subject for e in changelist.result_list}, "list")
        return response

    # An entry about a resident is the resident's data (what was done, by whom, when):
    # each page that shows one is recorded, and the resident sees it in "who saw my data".

    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        self._record_entry_page(request, object_id, response, "history")
        return response

    def delete_view(self, request, object_id, extra_context=None):
        response = super().delete_view(request, object_id, extra_context)
        self._record_entry_page(request, object_id, response, "delete")
        return response

    def _record_entry_page(self, request, object_id, response, page: str) -> None:
        if getattr(response, "status_code", 200) != 200:
            return
        entry = self.get_object(request, object_id)
        if entry is not None:
            _record_shown(request, {entry.subject}, page, object_ref=f"auditentry:{entry.pk}")

    def export_csv(self, request):
        """Stream the filtered view as CSV; the export itself is an audit entry."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
            queryset = changelist.get_queryset(request)
            # Run the filter once before streaming: a value the database cannot take
            # (a date before year 1 in UTC) must fail here, not halfway through a file.
            queryset.exists()
        except (IncorrectLookupParameters, OverflowError):
            # The change list itself answers these with its "?e=1" page; an export
            # has no page to fall back to, so it names the problem instead.
            # Not echoed: a parameter may hold what was typed into the search box.
            return HttpResponseBadRequest(
                _("A filter of the export is not valid; change it on the log's page."),
                content_type="text/plain; charset=utf-8",
            )
        # The file holds the log as it was asked for: not the entries its own reading adds.
        last = queryset.order_by("-id").values_list("id", flat=True).first() or 0
        queryset = queryset.filter(id__lte=last)
        with transaction.atomic():
            audit_record(
                action=AuditAction.AUDIT_EXPORTED,
                details={"format": "csv", "filters": _safe_filters(request)},
                **_actor(request),
            )
            # And each resident whose entries the file holds sees the read.
            subjects = queryset.exclude(subject="").order_by().values_list("subject", flat=True)
            _record_shown(request, set(subjects.distinct().iterator()), "export")
        columns = [
            "sequence",
            "recorded_at",
            "action",
            "actor_kind",
            "actor_id",
            "subject",
            "purpose",
            "legal_basis",
            "object_ref",
            "details",
        ]

        class Echo:
            def write(self, value):
                return value

        writer = csv.writer(Echo())

        def rows():
            yield writer.writerow([*columns, "leaf_hash"])
            for entry in queryset.iterator(chunk_size=2000):
                yield writer.writerow(
                    [getattr(entry, c) for c in columns] + [bytes(entry.leaf_hash).hex()]
                )

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
        return response


def _actor(request) -> dict[str, str]:
    kind = ActorKind.ADMIN if request.user.is_superuser else ActorKind.REGULATOR
    return {"actor_kind": kind, "actor_id": request.user.get_username()}


def _record_shown(request, subjects, page: str, object_ref: str = "auditentry:list") -> None:
    """One entry per resident whose entries a page or an export showed (closed values)."""
    records = [
        AuditRecord(
            action=AuditAction.DATA_READ_BY_ADMIN,
            subject=subject,
            object_ref=object_ref,
            details={"page": f"audit:{page}"},
            **_actor(request),
        )
        for subject in sorted(filter(None, subjects))
    ]
    if records:
        with transaction.atomic():
            audit_append(records)


def _safe_filters(request) -> dict[str, str]:
    # A search for an identity number is recorded as its blind index, never the number.
    filters = {}
    for key, value in request.GET.items():
        if key == "q":
            subject = _subject_for(value)
            value = f"subject:{subject}" if subject else value[:100]
        filters[key] = value[:100]
    # Filter names and values are whatever the URL holds (an identity number typed as
    # actor_id, say): the project's guard screens and masks them before they are stored.
    return guarded(filters) or {}


def _subject_for(search_term: str) -> str | None:
    resolver_path = getattr(settings, "AUDIT_SUBJECT_RESOLVER", None)
    if not resolver_path or not search_term:
        return None
    return import_string(resolver_path)(search_term.strip())


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    paginator = CappedPaginator
    show_full_result_count = False
    list_display = ("size", "root_hex", "created_at")
    readonly_fields = ("size", "root_hex", "signed_note", "created_at")
    exclude = ("root_hash", "note")

    @admin.display(description=_("root hash"))
    def root_hex(self, checkpoint: Checkpoint) -> str:
        return hash_html(checkpoint.root_hash)

    @admin.display(description=_("signed note"))
    def signed_note(self, checkpoint: Checkpoint) -> str:
        return format_html('<pre class="audit-note">{}</pre>', checkpoint.note)


@admin.register(Cosignature)
class CosignatureAdmin(ReadOnlyAdmin):
    paginator = CappedPaginator
    show_full_result_count = False
    list_display = ("checkpoint", "witness_name", "key_id", "timestamp", "received_at")
    list_filter = ("witness_name",)
    list_select_related = ("checkpoint",)
    readonly_fields = (
        "checkpoint",
        "witness_name",
        "key_id",
        "timestamp",
        "signature_line",
        "received_at",
    )


@admin.register(VerificationRun)
class VerificationRunAdmin(ReadOnlyAdmin):
    paginator = CappedPaginator
    show_full_result_count = False
    list_display = (
        "started_at",
        "outcome",
        "size",
        "checkpoints_checked",
        "first_bad_index",
        "message",
    )
    list_filter = ("ok",)

    @admin.display(description=_("verified"), ordering="ok")
    def outcome(self, run: VerificationRun) -> str:
        return badge_html(run.ok, _("verified") if run.ok else _("failed"))


def index_context() -> dict:
    """What the admin's index shows of the log: its size, checkpoint and last verification."""
    run = selectors.latest_verification()
    checkpoint = selectors.latest_checkpoint()
    return {
        "audit_log_size": selectors.log_size(),
        "audit_checkpoint": checkpoint,
        "audit_checkpoint_root": hash_html(checkpoint.root_hash) if checkpoint else "",
        "audit_verification": run,
        "audit_verification_badge": badge_html(run.ok, _("verified") if run.ok else _("failed"))
        if run
        else "",
    }


class AuditIndexSite:
    """The admin index carries the log's verification status (set on the default site)."""

    @staticmethod
    def install(site: admin.AdminSite) -> None:
        original = site.index

        def index(request, extra_context=None):
            return original(request, {**index_context(), **(extra_context or {})})

        site.index = index
        site.index_template = "admin/audit/index.html"


AuditIndexSite.install(admin.site)
