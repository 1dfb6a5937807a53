"""The residents' portal and the reviewers' pages: the JSON API's server-rendered twin.

Every page calls the services the API calls, so each read is recorded the same way
(SH 34, ZJ 20) and each act is refused for the same reasons. Views only turn form
input into service arguments and service answers into pages. Identity numbers never
appear in a URL: pages are found by the logged-in account, records and appeals by id.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from functools import cache, partial, wraps

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from compliance.law import MAX_SCORE, MIN_SCORE
from compliance.models import EligibilityThreshold
from gateway.charts import score_history_svg
from gateway.errors import GatewayError, NotFound
from gateway.models import (
    Appeal,
    AppealStatus,
    EventKind,
    RepairApplication,
    RepairStatus,
    Role,
)
from gateway.portal.forms import (
    DecisionForm,
    EligibilityDecisionForm,
    ExtensionForm,
    LoginForm,
    RepairForm,
    StatementForm,
    add_problems,
    as_int,
)
from gateway.selectors import deduction_notices, notifications_of_citizen, score_history
from gateway.services import appeals as appeal_services
from gateway.services import eligibility_reviews as eligibility_services
from gateway.services import repairs as repair_services
from gateway.services import rights
from gateway.services.accounts import account_of
from gateway.services.notices import notice_text
from gateway.services.notifications import notification_mark_read, notifications_unread_count
from gateway.services.reports import report_read_by_citizen

STAFF = (Role.REVIEWER, Role.REGULATOR)


# --- access ------------------------------------------------------------------------------


def _error_page(request: HttpRequest, status: int, message) -> HttpResponse:
    return render(request, "portal/error.html", {"message": message}, status=status)


def _for(*roles: str) -> Callable:
    """Pages for some roles: anonymous callers log in first, other roles get 403."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            account = account_of(request.user)
            if account is None or account.role not in roles:
                return _error_page(request, 403, _("This page is not for your account."))
            request.account = account
            if account.role == Role.CITIZEN:
                # For the navigation; counted only when a page shows it.
                request.unread_notifications = cache(
                    partial(notifications_unread_count, account.citizen)
                )
            try:
                return view(request, *args, **kwargs)
            except GatewayError as error:
                return _error_page(request, error.status_code, error.message)

        return wrapped

    return decorate


citizen_page = _for(Role.CITIZEN)
staff_page = _for(*STAFF)


class LoginView(auth_views.LoginView):
    template_name = "portal/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


logout = auth_views.LogoutView.as_view(next_page=reverse_lazy("portal:login"))


# --- the resident ------------------------------------------------------------------------


# The latest changes under the chart, each with its reasons one tap away.
HOME_CHANGES = 8


def _english() -> bool:
    return (get_language() or "").lower().startswith("en")


def _chart(history: list) -> str:
    """The history drawn on the server, its scale fitted to the scores so a change shows."""
    scores = [score for _, score in history]
    lo = max(MIN_SCORE, (min(scores) - 10) // 10 * 10)
    hi = min(MAX_SCORE, -(-(max(scores) + 10) // 10) * 10)
    svg = score_history_svg(history, title=_("Score history"), lo=lo, hi=hi)
    # score_history_svg escapes every text it draws, so its output can be embedded as is.
    return mark_safe(svg)  # noqa: S308


def _eligibility(score: dict) -> list[dict]:
    thresholds = EligibilityThreshold.objects.in_bulk(list(score["eligibility"]), field_name="code")
    rows = []
    for code, answer in sorted(score["eligibility"].items()):
        threshold = thresholds.get(code)
        rows.append(
            {
                "code": code,
                "title": threshold.title if threshold else code,
                "minimum": threshold.minimum_score if threshold else None,
                "answer": answer,
                "answer_without_disputed": score["eligibility_without_disputed"].get(code),
            }
        )
    return rows


def _repair_open(event: dict, applications: list[RepairApplication]) -> bool:
    """Whether ``repair_apply`` takes an application for a record shown by
    ``events_read_by_citizen``: a deduction that still counts, with none awaiting the department.

    For offering the way to apply; ``repair_apply`` still decides and gives its reasons.
    """
    return (
        event["kind"] == EventKind.RECORD
        and event["points"] < 0
        and event["status"] in repair_services.REPAIRABLE
        and not any(item.status == RepairStatus.PENDING for item in applications)
    )


def _with_notices(citizen, events: list[dict]) -> list[dict]:
    ids = [event["id"] for event in events]
    notices = deduction_notices(citizen, ids)
    applications: dict[int, list[RepairApplication]] = {}
    for item in repair_services.repairs_of(citizen).filter(event_id__in=ids):
        applications.setdefault(item.event_id, []).append(item)
    english = _english()
    for event in events:
        notice = notices.get(event["id"])
        event["notice"] = notice_text(notice, "en" if english else "zh-hans") if notice else None
        event["can_object"] = appeal_services.objection_open(event)
        event["repairs"] = applications.get(event["id"], [])
        event["can_repair"] = _repair_open(event, event["repairs"])
    return events


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        account = account_of(request.user)
        if account is not None and account.role in STAFF:
            return redirect("portal:queue")
    return _my_score(request)


@citizen_page
def _my_score(request: HttpRequest) -> HttpResponse:
    citizen = request.account.citizen
    now = timezone.now()
    score = rights.score_read_by_citizen(citizen=citizen, now=now)
    changes = rights.events_read_by_citizen(citizen=citizen, limit=HOME_CHANGES, now=now)
    context = {
        "score": score,
        "eligibility": _eligibility(score),
        "chart": _chart(score_history(citizen, now=now, by_act=True)),
        "changes": changes["results"],
        "more_changes": changes["count"] > HOME_CHANGES,
        "citizen": citizen,
    }
    return render(request, "portal/home.html", context)


def _pager(page: dict) -> dict:
    """Links as query strings. A page with a ``next`` cursor goes on by it (a keyset:
    as fast deep in a long list as at its start) and back to the newest; the
    position is known, and shown, only on offset pages."""
    offset, limit, count = page["offset"], page["limit"], page["count"]
    if page.get("before") is not None:
        previous = ""
    else:
        previous = f"offset={offset - limit if offset > limit else 0}" if offset > 0 else None
    if "next" in page:
        following = f"before={page['next']}" if page["next"] is not None else None
    else:
        following = f"offset={offset + limit}" if offset + limit < count else None
    positioned = page.get("before") is None
    return {
        "previous": previous,
        "next": following,
        "first": (offset + 1 if count else 0) if positioned else None,
        "last": min(offset + limit, count) if positioned else None,
        "count": count,
    }


@require_GET
@citizen_page
def events(request: HttpRequest) -> HttpResponse:
    citizen = request.account.citizen
    page = rights.events_read_by_citizen(
        citizen=citizen, offset=request.GET.get("offset"), before=request.GET.get("before")
    )
    context = {"events": _with_notices(citizen, page["results"]), "pager": _pager(page)}
    return render(request, "portal/events.html", context)


@require_GET
@citizen_page
def accesses(request: HttpRequest) -> HttpResponse:
    include_own = request.GET.get("include_own") == "1"
    page = rights.accesses_read_by_citizen(
        citizen=request.account.citizen,
        offset=request.GET.get("offset"),
        before=request.GET.get("before"),
        include_own=include_own,
    )
    summary = rights.accesses_summary_of_citizen(
        citizen=request.account.citizen, include_own=include_own
    )
    context = {
        "accesses": page["results"],
        "summary": summary,
        "pager": _pager(page),
        "include_own": include_own,
    }
    return render(request, "portal/accesses.html", context)


@require_http_methods(["GET", "POST"])
@citizen_page
def appeal_file(request: HttpRequest, event_id: int) -> HttpResponse:
    citizen = request.account.citizen
    event = appeal_services.citizen_event(citizen, event_id)
    form = StatementForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            appeal = appeal_services.appeal_file(
                citizen=citizen, event=event, statement=form.cleaned_data["statement"]
            )
        except GatewayError as error:
            add_problems(form, error)
            status = error.status_code
        else:
            messages.success(
                request,
                _("Your objection was filed. A decision is due by %(due)s.")
                % {"due": appeal.decision_due.isoformat()},
            )
            return redirect("portal:appeal", appeal_id=appeal.pk)
    rights.own_records_read_by_citizen(citizen=citizen, page="objection", shown=1)
    return render(request, "portal/appeal_file.html", {"event": event, "form": form}, status=status)


@require_http_methods(["GET", "POST"])
@citizen_page
def eligibility(request: HttpRequest, threshold: str) -> HttpResponse:
    """One eligibility answer explained, and the form to ask a person to review it (PIPL 24)."""
    citizen = request.account.citizen
    form = StatementForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            review = eligibility_services.eligibility_review_request(
                citizen=citizen, threshold_code=threshold, statement=form.cleaned_data["statement"]
            )
        except GatewayError as error:
            if error.status_code == 404:
                raise
            add_problems(form, error)
            status = error.status_code
        else:
            messages.success(
                request,
                _("Your request was sent. A person will decide it by %(due)s.")
                % {"due": review.decision_due.isoformat()},
            )
            return redirect("portal:eligibility", threshold=threshold)
    explanation = eligibility_services.eligibility_explain(
        citizen=citizen, threshold_code=threshold
    )
    context = {
        "explanation": explanation,
        "reviews": eligibility_services.eligibility_reviews_of_citizen(citizen).filter(
            threshold__code=threshold
        ),
        "form": form,
    }
    return render(request, "portal/eligibility.html", context, status=status)


@require_GET
@citizen_page
def appeals(request: HttpRequest) -> HttpResponse:
    citizen = request.account.citizen
    mine = list(appeal_services.appeals_of_citizen(citizen))
    rights.own_records_read_by_citizen(citizen=citizen, page="appeals", shown=len(mine))
    return render(request, "portal/appeals.html", {"appeals": mine})


@require_http_methods(["GET", "POST"])
@citizen_page
def appeal(request: HttpRequest, appeal_id: int) -> HttpResponse:
    found = appeal_services.appeal_read(user=request.user, appeal_id=appeal_id)
    form = StatementForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            appeal_services.appeal_request_review(
                appeal=found,
                citizen=request.account.citizen,
                statement=form.cleaned_data["statement"],
            )
        except GatewayError as error:
            add_problems(form, error)
            status = error.status_code
        else:
            messages.success(request, _("Your request for the regulator's review was sent."))
            return redirect("portal:appeal", appeal_id=found.pk)
    context = {
        "appeal": found,
        "form": form,
        "can_request_review": found.status == AppealStatus.DECIDED,
    }
    rights.own_records_read_by_citizen(citizen=request.account.citizen, page="appeal", shown=1)
    return render(request, "portal/appeal.html", context, status=status)


@require_http_methods(["GET", "POST"])
@citizen_page
def repair_apply(request: HttpRequest, event_id: int) -> HttpResponse:
    citizen = request.account.citizen
    event = appeal_services.citizen_event(citizen, event_id)
    form = RepairForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            repair = repair_services.repair_apply(
                citizen=citizen,
                event=event,
                statement=form.cleaned_data["statement"],
                reference=form.cleaned_data["reference"],
            )
        except GatewayError as error:
            add_problems(form, error)
            status = error.status_code
        else:
            messages.success(
                request,
                _("Your application for credit repair was sent to %(department)s.")
                % {"department": event.department.title},
            )
            return redirect(f"{reverse('portal:repairs')}#repair-{repair.pk}")
    context = {"event": event, "form": form}
    rights.own_records_read_by_citizen(citizen=citizen, page="repair", shown=1)
    return render(request, "portal/repair_apply.html", context, status=status)


@require_GET
@citizen_page
def repairs(request: HttpRequest) -> HttpResponse:
    citizen = request.account.citizen
    mine = list(repair_services.repairs_of(citizen))
    rights.own_records_read_by_citizen(citizen=citizen, page="repairs", shown=len(mine))
    return render(request, "portal/repairs.html", {"repairs": mine})


@require_GET
@citizen_page
def notifications(request: HttpRequest) -> HttpResponse:
    language = "en" if _english() else "zh-hans"
    rows = [
        {"notification": item, "text": notice_text(item, language)}
        for item in notifications_of_citizen(request.account.citizen)[:200]
    ]
    rights.own_records_read_by_citizen(
        citizen=request.account.citizen, page="notifications", shown=len(rows)
    )
    return render(request, "portal/notifications.html", {"notifications": rows})


@require_POST
@citizen_page
def notification_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    notification_mark_read(citizen=request.account.citizen, notification_id=notification_id)
    return redirect(f"{reverse('portal:notifications')}#notification-{notification_id}")


@require_GET
@citizen_page
def report(request: HttpRequest) -> HttpResponse:
    citizen = request.account.citizen
    data = report_read_by_citizen(citizen=citizen)
    context = {
        "report": data,
        "citizen": citizen,
        "eligibility": _eligibility(data["score"]),
        "events": _with_notices(citizen, data["events"]),
        "chart": _chart(data["history"]),
        "repairs": list(repair_services.repairs_of(citizen)),
    }
    return render(request, "portal/report.html", context)


# --- reviewers ---------------------------------------------------------------------------

# A reviewer's visit (one login session) records each appellant's data as read once.
VISIT_KEY = "appeals_read"
VISIT_MAX = 500


@require_GET
@staff_page
def queue(request: HttpRequest) -> HttpResponse:
    limit, offset = rights.page_bounds(None, request.GET.get("offset"))
    assigned = appeal_services.appeals_queue(request.user)
    page = list(assigned[offset : offset + limit])
    with _visit(request) as visit:
        appeal_services.appeals_read_by_staff(user=request.user, appeals=page, visit=visit)
    pager = _pager({"offset": offset, "limit": limit, "count": assigned.count()})
    reviews = list(eligibility_services.eligibility_reviews_queue(request.user)[:limit])
    eligibility_services.eligibility_reviews_read_by_staff(user=request.user, reviews=reviews)
    context = {"appeals": page, "pager": pager, "eligibility_reviews": reviews}
    return render(request, "portal/queue.html", context)


@require_http_methods(["GET", "POST"])
@staff_page
def eligibility_review(request: HttpRequest, review_id: int) -> HttpResponse:
    """A review of an automated eligibility answer, and its decision form (PIPL 24)."""
    found = eligibility_services.eligibility_review_read(user=request.user, review_id=review_id)
    form = EligibilityDecisionForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        form.is_valid()
        try:
            eligibility_services.eligibility_review_decide(
                review=found,
                reviewer=request.user,
                outcome=form.cleaned_data.get("outcome") or None,
                reason=form.cleaned_data.get("reason", ""),
            )
        except GatewayError as error:
            if error.status_code not in (400, 409, 422):
                raise
            add_problems(form, error)
            status = error.status_code
        else:
            messages.success(request, _("The decision was recorded and the resident told."))
            return redirect("portal:queue")
    context = {
        "review": found,
        "form": form,
        "can_decide": found.status in eligibility_services.OPEN_STATUSES,
    }
    return render(request, "portal/eligibility_review.html", context, status=status)


@contextmanager
def _visit(request):
    """The appeals whose reading this session (one visit) has already recorded."""
    visit = set(request.session.get(VISIT_KEY, []))
    yield visit
    request.session[VISIT_KEY] = sorted(visit)[-VISIT_MAX:]


def _review_page(request, appeal_id: int, *, decision=None, extension=None, status=200):
    with _visit(request) as visit:
        found = appeal_services.appeal_read(user=request.user, appeal_id=appeal_id, visit=visit)
    regulator = request.account.role == Role.REGULATOR
    # Which forms to offer; the services decide whether the act is allowed.
    if regulator:
        decidable = found.status in (AppealStatus.ESCALATED, AppealStatus.UNDER_REVIEW)
    else:
        decidable = found.status in appeal_services.DECIDABLE_STATUSES
    context = {
        "appeal": found,
        "event": found.event,
        "evidence": {
            key: found.event.evidence[key]
            for key in rights.EVIDENCE_FIELDS
            if key in found.event.evidence
        },
        "decision_form": decision or DecisionForm(),
        "extension_form": extension or ExtensionForm(),
        "can_decide": decidable,
        "can_extend": not regulator
        and found.status == AppealStatus.PENDING
        and found.extended_at is None,
    }
    return render(request, "portal/review.html", context, status=status)


@require_GET
@staff_page
def review(request: HttpRequest, appeal_id: int) -> HttpResponse:
    return _review_page(request, appeal_id)


def _appeal_for_act(appeal_id: int) -> Appeal:
    """The appeal named in the path; the service then decides who may act on it."""
    found = Appeal.objects.filter(pk=appeal_id).first()
    if found is None:
        raise NotFound(appeal_services.AppealMsg.NOT_FOUND)
    return found


@require_POST
@staff_page
def decide(request: HttpRequest, appeal_id: int) -> HttpResponse:
    form = DecisionForm(request.POST)
    form.is_valid()
    found = _appeal_for_act(appeal_id)
    data = form.cleaned_data
    arguments = {
        "appeal": found,
        "outcome": data.get("outcome") or None,
        "reason": data.get("reason", ""),
        "points": as_int(data.get("points", "")),
    }
    try:
        if found.status == AppealStatus.UNDER_REVIEW:
            appeal_services.appeal_review_decide(regulator=request.user, **arguments)
        else:
            appeal_services.appeal_decide(reviewer=request.user, **arguments)
    except GatewayError as error:
        if error.status_code not in (400, 409, 422):
            raise
        add_problems(form, error)
        return _review_page(request, appeal_id, decision=form, status=error.status_code)
    messages.success(request, _("The decision was recorded and the resident told."))
    return redirect("portal:queue")


@require_POST
@staff_page
def extend(request: HttpRequest, appeal_id: int) -> HttpResponse:
    form = ExtensionForm(request.POST)
    form.is_valid()
    found = _appeal_for_act(appeal_id)
    try:
        appeal_services.appeal_extend(
            appeal=found,
            reviewer=request.user,
            reason=form.cleaned_data.get("reason", ""),
            working_days=as_int(
                form.cleaned_data.get("working_days", ""), appeal_services.MAX_WORKING_DAYS
            ),
        )
    except GatewayError as error:
        if error.status_code not in (400, 409, 422):
            raise
        add_problems(form, error)
        return _review_page(request, appeal_id, extension=form, status=error.status_code)
    messages.success(request, _("The deadline was extended and the resident told."))
    return redirect("portal:review", appeal_id=found.pk)
