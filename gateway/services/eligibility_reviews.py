"""Automated eligibility answers explained, and a person's review of one (PIPL 24).

An eligibility answer ("may this resident have a civilization loan?") is a decision made
by automated means: the score compared with a threshold. The resident may ask how it
was reached and ask for a person to review it (PIPL 24, GDPR 22).

- The explanation names the threshold, the score compared, the answer, as of when, and
  every ledger row that counted, with its rule, points and legal basis. It gives both
  answers the resident's view shows: counting disputed deductions, and without them,
  which is what departments are told while an objection is pending (SH 36).
- A review request goes to the reviewers' queue with a deadline like an objection's:
  5 working days (SH 36, ZJ 31), counted on the working-day calendar, recomputed when it
  changes, escalated to the regulator when overdue. One open request per threshold.
- A reviewer (or, once escalated, a regulator) decides with reasons: the answer stands
  (``upheld``) or a person gives the other answer (``changed``). The resident is told.

One function per change of state; each writes its audit entry, history row and the
resident's notice in one transaction.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from audit.actions import ActorKind, AuditAction
from compliance import law
from compliance.models import CODE_VALIDATOR, EligibilityThreshold
from compliance.selectors import deadline
from compliance.workdays import to_local_date
from gateway.errors import Conflict, Forbidden, InvalidRequest, NotFound, problem
from gateway.models import (
    Citizen,
    EligibilityReview,
    EligibilityReviewOutcome,
    EligibilityReviewStatus,
    EventStatus,
    NotificationKind,
    Role,
    ScoreEvent,
)
from gateway.selectors import DepartmentView, department_snapshot, department_views, score_snapshot
from gateway.services.accounts import account_of, actor_of
from gateway.services.audit_boundary import AuditRecord, log_append, log_record
from gateway.services.free_text import free_text_screen
from gateway.services.notices import SEPARATOR
from gateway.services.notifications import notification_send
from gateway.validation import is_pending

LEGAL_BASIS = "PIPL 24"
REVIEW_LEGAL_BASIS = "PIPL 24; SH 36; ZJ 31"
OPEN_STATUSES = (EligibilityReviewStatus.PENDING, EligibilityReviewStatus.ESCALATED)
MAX_TEXT_CHARS = 5000
HANDLING_PURPOSE = "eligibility_review_handling"
_CODE = re.compile(CODE_VALIDATOR.regex.pattern)


class ReviewMsg:
    NOT_FOUND = _("Not found.")
    THRESHOLD_NOT_FOUND = _("No eligibility answer has this code.")
    STATEMENT_REQUIRED = _("a statement is required: say why the answer should be reviewed")
    REASON_REQUIRED = _("reasons are required: the resident is told them (PIPL 24)")
    TEXT_TOO_LONG = _("at most %(limit)d characters")
    NOT_A_STRING = _("must be a string")
    BAD_OUTCOME = _("must be one of: upheld, changed")
    ALREADY_OPEN = _("A review of this answer is already pending; one request at a time (PIPL 24).")
    NOT_DECIDABLE = _("This review was already decided.")
    NOT_ALLOWED = _("You may not decide this review.")
    REGULATOR_DECIDES_ESCALATED = _(
        "A regulator decides a review only once it is overdue and escalated, or when no "
        "reviewer was assigned."
    )


class ReviewExists(Conflict):
    code = "review_exists"


class ReviewNotOpen(Conflict):
    code = "review_not_open"


# --- the explanation ---------------------------------------------------------------------


def threshold_of(code: Any) -> EligibilityThreshold:
    """The threshold with this code, else 404; text that is no code is never queried."""
    threshold = None
    if isinstance(code, str) and len(code) <= 64 and _CODE.fullmatch(code):
        threshold = EligibilityThreshold.objects.filter(code=code).first()
    if threshold is None:
        raise NotFound(ReviewMsg.THRESHOLD_NOT_FOUND)
    return threshold


def _counted_events(citizen: Citizen, now: dt.datetime) -> list[ScoreEvent]:
    """The ledger rows the score counts as of ``now``: every row not past its period."""
    return list(
        ScoreEvent.objects.filter(citizen=citizen)
        .exclude(status=EventStatus.EXPIRED)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .select_related("rule", "department", "compensates")
        .order_by("occurred_at", "pk")
    )


def explanation_build(
    citizen: Citizen, threshold: EligibilityThreshold, now: dt.datetime
) -> dict[str, Any]:
    """How the answer for ``threshold`` was reached as of ``now`` (no audit entry)."""
    snapshot = score_snapshot(citizen.pk, now=now)
    # What departments are told (gateway.selectors.department_views): final, told first,
    # within the publication period, disputed deductions left out; the same rows and the
    # same sums as the department's own read, so the explanation cannot drift from it.
    told = department_snapshot(citizen.pk, now=now)
    views = department_views(citizen.pk, now=now)
    events = []
    for event in _counted_events(citizen, now):
        view = views.get(event.pk, DepartmentView(False))
        decided_by = event.compensates if event.compensates_id else event
        pending = event.rule.is_deduction and is_pending(decided_by.evidence)
        events.append(
            {
                "id": event.pk,
                "kind": event.kind,
                "rule": event.rule.code,
                "rule_version": event.rule.version,
                "title": {"zh": event.rule.title_zh, "en": event.rule.title_en},
                "department": event.department.code,
                "points": event.points,
                "legal_basis": {
                    "law": event.rule.legal_basis_law,
                    "article": event.rule.legal_basis_article,
                },
                "occurred_at": event.occurred_at.isoformat(),
                "stops_counting_at": event.expires_at.isoformat() if event.expires_at else None,
                "status": event.status,
                # A deduction whose decision is not yet final counts nowhere (ZJ 11).
                "counted_in_score": not pending,
                "counted_for_departments": view.counts
                and not (event.status == EventStatus.DISPUTED and event.points < 0),
                "not_for_departments": view.reason,
            }
        )
    minimum = threshold.minimum_score
    return {
        "threshold": {
            "code": threshold.code,
            "title": {"zh": threshold.title_zh, "en": threshold.title_en},
            "minimum_score": minimum,
        },
        "as_of": now.isoformat(),
        "starting_score": law.STARTING_SCORE,
        "score_range": [law.MIN_SCORE, law.MAX_SCORE],
        "score": snapshot.score,
        "answer": snapshot.score >= minimum,
        # What departments are told, and so what they decide on (as /me/score says).
        "score_without_disputed": told.eligibility_score,
        "answer_without_disputed": told.eligibility_score >= minimum,
        "disputed_points": snapshot.disputed_points,
        "events": events,
        "legal_basis": LEGAL_BASIS,
    }


def eligibility_explain(
    *, citizen: Citizen, threshold_code: Any, now: dt.datetime | None = None
) -> dict[str, Any]:
    """The explanation of one answer, for the resident; the read is recorded (ZJ 20)."""
    threshold = threshold_of(threshold_code)
    with transaction.atomic():
        now = now or timezone.now()
        payload = explanation_build(citizen, threshold, now)
        open_review = (
            EligibilityReview.objects.filter(
                citizen=citizen, threshold=threshold, status__in=OPEN_STATUSES
            )
            .values_list("pk", flat=True)
            .first()
        )
        payload["open_review"] = open_review
        log_record(
            action=AuditAction.SCORE_READ_BY_CITIZEN,
            subject=citizen.identity_index,
            legal_basis=LEGAL_BASIS,
            details={"explained": threshold.code, "events": len(payload["events"])},
            **_citizen_actor(citizen),
        )
    return payload


# --- the request -------------------------------------------------------------------------


def _citizen_actor(citizen: Citizen) -> dict[str, str]:
    account = getattr(citizen, "account", None)
    actor_id = f"account:{account.user_id}" if account is not None else f"citizen:{citizen.pk}"
    return {"actor_kind": ActorKind.CITIZEN, "actor_id": actor_id}


def _text(value: Any, path: str, required_message) -> str:
    problems: list[dict[str, Any]] = []
    if value is not None and not isinstance(value, str):
        raise InvalidRequest([problem(path, ReviewMsg.NOT_A_STRING)])
    text = (value or "").strip()
    if not text:
        problems.append(problem(path, required_message))
    elif len(text) > MAX_TEXT_CHARS:
        problems.append(problem(path, ReviewMsg.TEXT_TOO_LONG % {"limit": MAX_TEXT_CHARS}))
    else:
        free_text_screen(text, path, problems)
    if problems:
        raise InvalidRequest(problems)
    return text


def _assign_reviewer():
    """The active reviewer with the fewest open reviews of eligibility answers."""
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            account__role=Role.REVIEWER,
            account__department__isnull=False,
            account__department__is_active=True,
        )
        .annotate(
            open_reviews=Count(
                "assigned_eligibility_reviews",
                filter=Q(assigned_eligibility_reviews__status__in=OPEN_STATUSES),
            )
        )
        .order_by("open_reviews", "pk")
        .first()
    )


def _save(review: EligibilityReview, user, reason: str, fields: list[str] | None = None) -> None:
    review._history_user = user if getattr(user, "pk", None) else None
    review._change_reason = reason
    review.save(update_fields=fields)


def _record(review: EligibilityReview, action: int, actor: dict, **details: Any) -> AuditRecord:
    return AuditRecord(
        action=action,
        subject=review.citizen.identity_index,
        object_ref=f"eligibility_review:{review.pk}",
        legal_basis=REVIEW_LEGAL_BASIS,
        details={"threshold": review.threshold.code, **details},
        **actor,
    )


def notify(
    review: EligibilityReview,
    compose: Callable[[], tuple[str, str]],
    *,
    kind: str = NotificationKind.ELIGIBILITY_REVIEW,
    **payload: Any,
) -> None:
    """Tell the resident in both languages: ``compose`` is called once per language."""
    with translation.override("zh-hans"):
        zh_title, zh_body = compose()
    with translation.override("en"):
        en_title, en_body = compose()
    notification_send(
        citizen=review.citizen,
        kind=kind,
        title=f"{zh_title} | {en_title}",
        body=f"{zh_title}\n\n{zh_body}{SEPARATOR}{en_title}\n\n{en_body}",
        payload={"eligibility_review": review.pk, "status": review.status, **payload},
        eligibility_review=review,
    )


def computed_note(computed: bool) -> str:
    if not computed:
        return ""
    return " " + gettext(
        "This date was computed from the national holiday rules because the State "
        "Council has not yet published the year's holiday schedule; if the published "
        "schedule moves it, you will be told the new date."
    )


@transaction.atomic
def eligibility_review_request(
    *,
    citizen: Citizen,
    threshold_code: Any,
    statement: Any,
    now: dt.datetime | None = None,
) -> EligibilityReview:
    """The resident asks for a person to review an automated answer (PIPL 24)."""
    now = now or timezone.now()
    threshold = threshold_of(threshold_code)
    text = _text(statement, "/statement", ReviewMsg.STATEMENT_REQUIRED)
    # One open request per answer: the resident's row serialises concurrent requests.
    Citizen.objects.select_for_update().filter(pk=citizen.pk).first()
    if EligibilityReview.objects.filter(
        citizen=citizen, threshold=threshold, status__in=OPEN_STATUSES
    ).exists():
        raise ReviewExists(ReviewMsg.ALREADY_OPEN)
    explanation = explanation_build(citizen, threshold, now)
    days = law.AUTOMATED_DECISION_REVIEW_WORKING_DAYS
    due = deadline(now, days)
    reviewer = _assign_reviewer()
    review = EligibilityReview(
        citizen=citizen,
        threshold=threshold,
        minimum_score=threshold.minimum_score,
        score=explanation["score"],
        answer=explanation["answer"],
        as_of=now,
        explanation={
            "score_without_disputed": explanation["score_without_disputed"],
            "answer_without_disputed": explanation["answer_without_disputed"],
            "events": [
                {"id": e["id"], "rule": e["rule"], "points": e["points"], "status": e["status"]}
                for e in explanation["events"]
            ],
        },
        statement=text,
        status=EligibilityReviewStatus.PENDING,
        filed_at=now,
        decision_due=due.due,
        decision_working_days=days,
        decision_due_computed=due.computed,
        reviewer=reviewer,
    )
    account = getattr(citizen, "account", None)
    _save(review, account.user if account else None, "requested")
    log_append(
        [
            _record(
                review,
                AuditAction.ELIGIBILITY_REVIEW_REQUESTED,
                _citizen_actor(citizen),
                score=review.score,
                minimum_score=review.minimum_score,
                answer=review.answer,
                as_of=now.isoformat(),
                decision_due=review.decision_due.isoformat(),
                decision_due_computed=review.decision_due_computed,
                reviewer=reviewer.get_username() if reviewer else None,
            )
        ]
    )
    notify(
        review,
        lambda: (
            gettext("Your request for a review of an eligibility answer was received"),
            gettext(
                "A person will review the automated answer for %(benefit)s (your score "
                "%(score)d, needed %(minimum)d, as of %(as_of)s) and tell you the result "
                "with reasons by %(due)s (%(days)d working days, PIPL 24)."
            )
            % {
                "benefit": review.threshold.title,
                "score": review.score,
                "minimum": review.minimum_score,
                "as_of": to_local_date(now).isoformat(),
                "due": review.decision_due.isoformat(),
                "days": days,
            }
            + computed_note(review.decision_due_computed),
        ),
        decision_due=review.decision_due.isoformat(),
        decision_due_computed=review.decision_due_computed,
    )
    return review


# --- the decision ------------------------------------------------------------------------


def _role(user) -> str | None:
    account = account_of(user)
    return account.role if account is not None else None


def review_visible_to(user, review: EligibilityReview) -> bool:
    """The resident, the assigned reviewer and regulators see a review."""
    account = account_of(user)
    if account is None or not user.is_active:
        return False
    if account.role == Role.CITIZEN:
        return account.citizen_id == review.citizen_id
    if account.role == Role.REGULATOR:
        return True
    return review.reviewer_id == user.pk


@transaction.atomic
def eligibility_review_decide(
    *,
    review: EligibilityReview,
    reviewer,
    outcome: Any,
    reason: Any,
    now: dt.datetime | None = None,
) -> EligibilityReview:
    """A person decides: the assigned reviewer, or a regulator once escalated or unassigned."""
    now = now or timezone.now()
    review = (
        EligibilityReview.objects.select_for_update()
        .select_related("citizen", "threshold")
        .get(pk=review.pk)
    )
    role = _role(reviewer)
    if not review_visible_to(reviewer, review):
        raise NotFound(ReviewMsg.NOT_FOUND)
    if role == Role.CITIZEN:
        raise Forbidden(ReviewMsg.NOT_ALLOWED)
    if review.status not in OPEN_STATUSES:
        raise ReviewNotOpen(ReviewMsg.NOT_DECIDABLE)
    if (
        role == Role.REGULATOR
        and review.status == EligibilityReviewStatus.PENDING
        and review.reviewer_id is not None
    ):
        raise Forbidden(ReviewMsg.REGULATOR_DECIDES_ESCALATED)
    problems: list[dict[str, Any]] = []
    if outcome not in EligibilityReviewOutcome.values:
        problems.append(problem("/outcome", ReviewMsg.BAD_OUTCOME))
    try:
        text = _text(reason, "/reason", ReviewMsg.REASON_REQUIRED)
    except InvalidRequest as error:
        problems.extend(error.details["problems"])
    if problems:
        raise InvalidRequest(problems)

    review.status = EligibilityReviewStatus.DECIDED
    review.outcome = outcome
    review.reviewed_answer = (
        review.answer if outcome == EligibilityReviewOutcome.UPHELD else not review.answer
    )
    review.decision_reason = text
    review.decided_at = now
    review.decided_by = reviewer
    _save(
        review,
        reviewer,
        f"decided: {outcome}",
        ["status", "outcome", "reviewed_answer", "decision_reason", "decided_at", "decided_by"],
    )
    log_append(
        [
            _record(
                review,
                AuditAction.ELIGIBILITY_REVIEW_DECIDED,
                actor_of(reviewer),
                outcome=outcome,
                answer=review.answer,
                reviewed_answer=review.reviewed_answer,
                on_time=to_local_date(now) <= review.decision_due,
            )
        ]
    )

    def compose() -> tuple[str, str]:
        answer = gettext("yes") if review.reviewed_answer else gettext("no")
        if outcome == EligibilityReviewOutcome.UPHELD:
            result = gettext(
                "A person reviewed the automated answer for %(benefit)s and it stands: %(answer)s."
            )
        else:
            result = gettext(
                "A person reviewed the automated answer for %(benefit)s and changed it: "
                "the answer is now %(answer)s."
            )
        return (
            gettext("The review of your eligibility answer was decided"),
            "\n\n".join(
                [
                    result % {"benefit": review.threshold.title, "answer": answer},
                    gettext("Reasons: %(reason)s") % {"reason": text},
                    gettext(
                        "If you disagree, you may complain to the regulator or go to court "
                        "(PIPL 50)."
                    ),
                ]
            ),
        )

    notify(review, compose, outcome=outcome, reviewed_answer=review.reviewed_answer)
    return review


# --- escalation --------------------------------------------------------------------------


def eligibility_reviews_escalate_overdue(*, today: dt.date | None = None) -> list[int]:
    """Escalate every pending review whose decision was due before ``today``, each alone."""
    today = today or to_local_date(timezone.now())
    overdue = list(
        EligibilityReview.objects.filter(
            status=EligibilityReviewStatus.PENDING, decision_due__lt=today
        )
        .order_by("decision_due", "pk")
        .values_list("pk", flat=True)
    )
    return [pk for pk in overdue if eligibility_review_escalate(review_id=pk, today=today)]


@transaction.atomic
def eligibility_review_escalate(*, review_id: int, today: dt.date) -> bool:
    """Pass one overdue review to the regulator; False if it was decided meanwhile."""
    review = (
        EligibilityReview.objects.select_for_update()
        .select_related("citizen", "threshold")
        .filter(pk=review_id)
        .first()
    )
    if (
        review is None
        or review.status != EligibilityReviewStatus.PENDING
        or review.decision_due >= today
    ):
        return False
    review.status = EligibilityReviewStatus.ESCALATED
    review.escalated_at = timezone.now()
    _save(review, None, "escalated: overdue", ["status", "escalated_at"])
    log_append(
        [
            _record(
                review,
                AuditAction.ELIGIBILITY_REVIEW_ESCALATED,
                {"actor_kind": ActorKind.SYSTEM, "actor_id": "escalate_overdue_appeals"},
                decision_due=review.decision_due.isoformat(),
            )
        ]
    )
    notify(
        review,
        lambda: (
            gettext("Your request for a review was passed to the regulator"),
            gettext(
                "The review of your eligibility answer was due by %(due)s and has not been "
                "decided. It was passed to the regulator, who will decide it."
            )
            % {"due": review.decision_due.isoformat()},
        ),
    )
    return True


# --- reads -------------------------------------------------------------------------------


def eligibility_reviews_of_citizen(citizen: Citizen):
    """The resident's own requests, newest first."""
    return (
        EligibilityReview.objects.filter(citizen=citizen)
        .select_related("threshold")
        .order_by("-filed_at", "-pk")
    )


def eligibility_review_read(*, user, review_id: int) -> EligibilityReview:
    """One review for whoever may see it, else 404. Staff reads are recorded (ZJ 20)."""
    review = (
        EligibilityReview.objects.select_related("threshold", "citizen", "reviewer")
        .filter(pk=review_id)
        .first()
    )
    if review is None or not review_visible_to(user, review):
        raise NotFound(ReviewMsg.NOT_FOUND)
    if _role(user) != Role.CITIZEN:
        eligibility_reviews_read_by_staff(user=user, reviews=[review])
    return review


def eligibility_review_of(review_id: int) -> EligibilityReview:
    review = EligibilityReview.objects.filter(pk=review_id).first()
    if review is None:
        raise NotFound(ReviewMsg.NOT_FOUND)
    return review


def eligibility_reviews_queue(user):
    """A reviewer's assigned reviews; a regulator's: escalated and unassigned ones."""
    base = EligibilityReview.objects.select_related("threshold", "citizen", "reviewer").order_by(
        "decision_due", "pk"
    )
    role = _role(user)
    if role == Role.REVIEWER:
        return base.filter(reviewer=user)
    if role == Role.REGULATOR:
        return base.filter(
            Q(status=EligibilityReviewStatus.ESCALATED)
            | Q(status=EligibilityReviewStatus.PENDING, reviewer__isnull=True)
        )
    return base.none()


def eligibility_reviews_read_by_staff(*, user, reviews: list[EligibilityReview]) -> None:
    """Record that a reviewer or regulator was shown these residents' answers (ZJ 20)."""
    if not reviews:
        return
    actor = actor_of(user)
    with transaction.atomic():
        log_append(
            [
                AuditRecord(
                    action=AuditAction.DATA_READ_BY_REVIEWER,
                    subject=review.citizen.identity_index,
                    purpose=HANDLING_PURPOSE,
                    legal_basis=REVIEW_LEGAL_BASIS,
                    object_ref=f"eligibility_review:{review.pk}",
                    details={"threshold": review.threshold.code},
                    **actor,
                )
                for review in reviews
            ]
        )


def review_payload(review: EligibilityReview, *, for_staff: bool) -> dict[str, Any]:
    """A review as the resident, its reviewer or a regulator sees it."""
    payload = {
        "id": review.pk,
        "status": review.status,
        "threshold": review.threshold.code,
        "title": {"zh": review.threshold.title_zh, "en": review.threshold.title_en},
        "minimum_score": review.minimum_score,
        "score": review.score,
        "answer": review.answer,
        "as_of": review.as_of.isoformat(),
        "explanation": review.explanation,
        "statement": review.statement,
        "filed_at": review.filed_at.isoformat(),
        "decision_due": review.decision_due.isoformat(),
        "decision_due_computed": review.decision_due_computed,
        "decision": None,
    }
    if review.outcome:
        payload["decision"] = {
            "outcome": review.outcome,
            "answer": review.reviewed_answer,
            "reason": review.decision_reason,
            "at": review.decided_at.isoformat() if review.decided_at else None,
        }
    if for_staff:
        payload["reviewer"] = review.reviewer.get_username() if review.reviewer else None
    return payload
