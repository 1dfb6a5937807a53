"""Objections through the API: one appeal, its decision, extension and the regulator's review."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.response import Response

from gateway.api import rights_schemas as schemas
from gateway.api.account_permissions import IsCitizen, IsRegulator, IsReviewerOrRegulator
from gateway.api.auth import AccountView, body_of
from gateway.api.openapi import BODY_ERRORS, PAGE, errors
from gateway.errors import InvalidRequest, NotFound, problem
from gateway.models import Appeal, AppealStatus, Role
from gateway.services import appeals as services
from gateway.services.accounts import account_of
from gateway.services.rights import EVIDENCE_FIELDS, page_bounds, shown_status

APPEAL_ID = OpenApiParameter(
    "appeal_id",
    {"type": "integer", "minimum": 1},
    OpenApiParameter.PATH,
    description="Anything that is not an appeal the caller may see is 404",
)
UPHELD = OpenApiExample(
    "Upheld",
    value={"outcome": "upheld", "reason": "The decision of 21 November stands."},
    request_only=True,
)
CORRECTED = OpenApiExample(
    "Corrected",
    value={"outcome": "corrected", "reason": "A first offence.", "points": -1},
    request_only=True,
)
_ERRORS = errors(
    *BODY_ERRORS,
    401,
    403,
    404,
    409,
    s403="`forbidden` (the caller may see the appeal but not do this; or a session without "
    "its CSRF token) or `separation_of_duties` (a reviewer of the record's own department)",
    s404="`not_found`: no such appeal, or one the caller may not see (the same answer)",
    s409="`appeal_not_open` or `extension_refused`: the appeal is not in a state for this",
)


def appeal_payload(appeal: Appeal, *, for_staff: bool, now=None) -> dict[str, Any]:
    """An appeal as the appellant, its reviewer or a regulator sees it."""
    now = now or timezone.now()
    event = appeal.event
    decision = None
    if appeal.outcome:
        decision = {
            "outcome": appeal.outcome,
            "reason": appeal.decision_reason,
            "points": appeal.corrected_points,
            "at": appeal.decided_at.isoformat() if appeal.decided_at else None,
        }
    review = None
    if appeal.review_outcome:
        review = {
            "outcome": appeal.review_outcome,
            "reason": appeal.review_reason,
            "points": appeal.review_corrected_points,
            "at": appeal.reviewed_at.isoformat() if appeal.reviewed_at else None,
        }
    payload = {
        "id": appeal.pk,
        "status": appeal.status,
        "event": {
            "id": event.pk,
            "rule": event.rule.code,
            "rule_version": event.rule.version,
            "title": {"zh": event.rule.title_zh, "en": event.rule.title_en},
            "points": event.points,
            "department": event.department.code,
            "status": shown_status(event, now),
            "occurred_at": event.occurred_at.isoformat(),
            "evidence": {k: event.evidence[k] for k in EVIDENCE_FIELDS if k in event.evidence},
        },
        "statement": appeal.statement,
        "filed_at": appeal.filed_at.isoformat(),
        "decision_due": appeal.decision_due.isoformat(),
        "decision_due_computed": appeal.decision_due_computed,
        "extended_at": appeal.extended_at.isoformat() if appeal.extended_at else None,
        "extension_reason": appeal.extension_reason,
        "assigned": appeal.reviewer_id is not None,
        "decision": decision,
        "escalated_at": appeal.escalated_at.isoformat() if appeal.escalated_at else None,
        "review_requested_at": (
            appeal.review_requested_at.isoformat() if appeal.review_requested_at else None
        ),
        "review_statement": appeal.review_statement,
        "review": review,
    }
    if for_staff:
        payload["reviewer"] = appeal.reviewer.get_username() if appeal.reviewer else None
    return payload


def appeal_id_of(raw: str) -> int:
    """A path id; anything that is not a plausible id is simply not found."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise NotFound(services.AppealMsg.NOT_FOUND)
    return int(raw)


def _appeal_or_404(raw_id: str) -> Appeal:
    appeal = Appeal.objects.filter(pk=appeal_id_of(raw_id)).first()
    if appeal is None:
        raise NotFound(services.AppealMsg.NOT_FOUND)
    return appeal


def _is_staff(request) -> bool:
    account = account_of(request.user)
    return account is not None and account.role != Role.CITIZEN


class AppealDetailView(AccountView):
    @extend_schema(
        parameters=[APPEAL_ID],
        responses={
            200: schemas.AppealOut,
            **errors(
                401,
                403,
                404,
                s403="`forbidden`: a login without an account (e.g. an administrator's)",
                s404="`not_found`: no such appeal, or one the caller may not see",
            ),
        },
        summary="One appeal: for its appellant, its reviewer or a regulator",
    )
    def get(self, request, appeal_id: str):
        appeal = services.appeal_read(user=request.user, appeal_id=appeal_id_of(appeal_id))
        return Response(appeal_payload(appeal, for_staff=_is_staff(request)))


class AppealDecisionView(AccountView):
    permission_classes = [IsReviewerOrRegulator]

    @extend_schema(
        request=schemas.DecisionRequest,
        parameters=[APPEAL_ID],
        examples=[UPHELD, CORRECTED],
        responses={200: schemas.AppealOut, **_ERRORS},
        summary="Decide an appeal (its reviewer; a regulator once escalated)",
    )
    def post(self, request, appeal_id: str):
        data = body_of(request)
        appeal = services.appeal_decide(
            appeal=_appeal_or_404(appeal_id),
            reviewer=request.user,
            outcome=data.get("outcome"),
            reason=data.get("reason"),
            points=data.get("points"),
        )
        return Response(appeal_payload(appeal, for_staff=True))


class AppealExtensionView(AccountView):
    permission_classes = [IsReviewerOrRegulator]

    @extend_schema(
        request=schemas.ExtensionRequest,
        parameters=[APPEAL_ID],
        examples=[
            OpenApiExample(
                "Ten working days",
                value={"reason": "The department's file is on its way.", "working_days": 10},
                request_only=True,
            )
        ],
        responses={200: schemas.AppealOut, **_ERRORS},
        summary=f"Extend the deadline once, to at most {services.MAX_WORKING_DAYS} working days "
        "from filing (ZJ 31)",
    )
    def post(self, request, appeal_id: str):
        data = body_of(request)
        appeal = services.appeal_extend(
            appeal=_appeal_or_404(appeal_id),
            reviewer=request.user,
            reason=data.get("reason"),
            working_days=data.get("working_days", services.MAX_WORKING_DAYS),
        )
        return Response(appeal_payload(appeal, for_staff=True))


class AppealReviewRequestView(AccountView):
    permission_classes = [IsCitizen]

    @extend_schema(
        request=schemas.ReviewRequest,
        parameters=[APPEAL_ID],
        examples=[
            OpenApiExample(
                "A review",
                value={"statement": "The reviewer did not read my receipt."},
                request_only=True,
            )
        ],
        responses={200: schemas.AppealOut, **_ERRORS},
        summary="Ask the regulator to review the decision (ZJ 30)",
    )
    def post(self, request, appeal_id: str):
        appeal = services.appeal_request_review(
            appeal=_appeal_or_404(appeal_id),
            citizen=request.user.account.citizen,
            statement=body_of(request).get("statement"),
        )
        return Response(appeal_payload(appeal, for_staff=False))


class AppealReviewView(AccountView):
    permission_classes = [IsRegulator]

    @extend_schema(
        request=schemas.DecisionRequest,
        parameters=[APPEAL_ID],
        examples=[UPHELD],
        responses={200: schemas.AppealOut, **_ERRORS},
        summary="The regulator's review of a decision",
    )
    def post(self, request, appeal_id: str):
        data = body_of(request)
        appeal = services.appeal_review_decide(
            appeal=_appeal_or_404(appeal_id),
            regulator=request.user,
            outcome=data.get("outcome"),
            reason=data.get("reason"),
            points=data.get("points"),
        )
        return Response(appeal_payload(appeal, for_staff=True))


class ReviewerAppealListView(AccountView):
    permission_classes = [IsReviewerOrRegulator]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "status",
                {"type": "string", "enum": AppealStatus.values},
                required=False,
                description="Only appeals in this state",
            ),
            *PAGE,
        ],
        responses={
            200: schemas.AppealPage,
            **errors(
                400,
                401,
                403,
                s400="`invalid` paging or status",
                s403="`forbidden`: not a reviewer's or a regulator's login",
            ),
        },
        summary="A reviewer's assigned appeals (a regulator's queue), oldest deadline first",
    )
    def get(self, request):
        limit, offset = page_bounds(
            request.query_params.get("limit"), request.query_params.get("offset")
        )
        queryset = services.appeals_queue(request.user)
        status = request.query_params.get("status")
        if status:
            if status not in AppealStatus.values:
                # Not an empty page: a typo would read as "nothing to do".
                raise InvalidRequest(
                    [problem("/status", "must be one of: " + ", ".join(AppealStatus.values))]
                )
            queryset = queryset.filter(status=status)
        page = list(queryset[offset : offset + limit])
        services.appeals_read_by_staff(user=request.user, appeals=page)
        return Response(
            {
                "count": queryset.count(),
                "limit": limit,
                "offset": offset,
                "results": [appeal_payload(appeal, for_staff=True) for appeal in page],
            }
        )
