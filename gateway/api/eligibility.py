"""Automated eligibility answers through the API: explanation and a person's review (PIPL 24)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.response import Response

from gateway.api.account_permissions import IsCitizen, IsReviewerOrRegulator
from gateway.api.auth import AccountView, body_of
from gateway.api.openapi import BODY_ERRORS, PAGE, errors
from gateway.errors import NotFound
from gateway.models import Role
from gateway.services import eligibility_reviews as services
from gateway.services.accounts import account_of
from gateway.services.rights import page_bounds

THRESHOLD = OpenApiParameter(
    "threshold",
    str,
    OpenApiParameter.PATH,
    description="The eligibility answer's code, as in `GET /api/v1/me/score`",
)
REVIEW_ID = OpenApiParameter(
    "review_id",
    {"type": "integer", "minimum": 1},
    OpenApiParameter.PATH,
    description="Anything that is not a review the caller may see is 404",
)
_RESIDENT = {"s403": "`forbidden`: not a resident's login (or a session without its CSRF token)"}


def review_id_of(raw: str) -> int:
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise NotFound(services.ReviewMsg.NOT_FOUND)
    return int(raw)


def _page(request, queryset, *, for_staff: bool) -> tuple[dict, list]:
    limit, offset = page_bounds(
        request.query_params.get("limit"), request.query_params.get("offset")
    )
    items = list(queryset[offset : offset + limit])
    return {
        "count": queryset.count(),
        "limit": limit,
        "offset": offset,
        "results": [services.review_payload(r, for_staff=for_staff) for r in items],
    }, items


class MyEligibilityExplanationView(AccountView):
    permission_classes = [IsCitizen]

    @extend_schema(
        parameters=[THRESHOLD],
        responses={
            200: OpenApiTypes.OBJECT,
            **errors(
                401, 403, 404, s404="`not_found`: no eligibility answer has this code", **_RESIDENT
            ),
        },
        summary="How an eligibility answer was reached (PIPL 24)",
    )
    def get(self, request, threshold: str):
        return Response(
            services.eligibility_explain(
                citizen=request.user.account.citizen, threshold_code=threshold
            )
        )


class MyEligibilityReviewView(AccountView):
    permission_classes = [IsCitizen]

    @extend_schema(
        parameters=[THRESHOLD],
        request=OpenApiTypes.OBJECT,
        examples=[
            OpenApiExample(
                "A review",
                value={"statement": "My repaired record still seems to count."},
                request_only=True,
            )
        ],
        responses={
            201: OpenApiTypes.OBJECT,
            **errors(
                *BODY_ERRORS,
                401,
                403,
                404,
                409,
                s404="`not_found`: no eligibility answer has this code",
                s409="`review_exists`: a review of this answer is already pending",
                **_RESIDENT,
            ),
        },
        summary="Ask for a person to review an automated eligibility answer (PIPL 24)",
    )
    def post(self, request, threshold: str):
        review = services.eligibility_review_request(
            citizen=request.user.account.citizen,
            threshold_code=threshold,
            statement=body_of(request).get("statement"),
        )
        return Response(services.review_payload(review, for_staff=False), status=201)


class MyEligibilityReviewListView(AccountView):
    permission_classes = [IsCitizen]

    @extend_schema(
        parameters=PAGE,
        responses={200: OpenApiTypes.OBJECT, **errors(400, 401, 403, **_RESIDENT)},
        summary="My requests for a review of an eligibility answer, newest first",
    )
    def get(self, request):
        queryset = services.eligibility_reviews_of_citizen(request.user.account.citizen)
        return Response(_page(request, queryset, for_staff=False)[0])


class EligibilityReviewDetailView(AccountView):
    @extend_schema(
        parameters=[REVIEW_ID],
        responses={
            200: OpenApiTypes.OBJECT,
            **errors(401, 403, 404, s404="`not_found`: no such review, or not the caller's"),
        },
        summary="One review of an eligibility answer: for its resident, reviewer or a regulator",
    )
    def get(self, request, review_id: str):
        review = services.eligibility_review_read(
            user=request.user, review_id=review_id_of(review_id)
        )
        account = account_of(request.user)
        return Response(services.review_payload(review, for_staff=account.role != Role.CITIZEN))


class EligibilityReviewDecisionView(AccountView):
    permission_classes = [IsReviewerOrRegulator]

    @extend_schema(
        parameters=[REVIEW_ID],
        request=OpenApiTypes.OBJECT,
        examples=[
            OpenApiExample(
                "Upheld",
                value={"outcome": "upheld", "reason": "The score counts every record correctly."},
                request_only=True,
            )
        ],
        responses={
            200: OpenApiTypes.OBJECT,
            **errors(
                *BODY_ERRORS,
                401,
                403,
                404,
                409,
                s403="`forbidden`: a regulator before the review is escalated, or a resident",
                s404="`not_found`: no such review, or one the caller may not see",
                s409="`review_not_open`: the review was already decided",
            ),
        },
        summary="Decide a review of an eligibility answer, with reasons (PIPL 24)",
    )
    def post(self, request, review_id: str):
        data = body_of(request)
        review = services.eligibility_review_decide(
            review=services.eligibility_review_of(review_id_of(review_id)),
            reviewer=request.user,
            outcome=data.get("outcome"),
            reason=data.get("reason"),
        )
        return Response(services.review_payload(review, for_staff=True))


class ReviewerEligibilityReviewListView(AccountView):
    permission_classes = [IsReviewerOrRegulator]

    @extend_schema(
        parameters=PAGE,
        responses={
            200: OpenApiTypes.OBJECT,
            **errors(400, 401, 403, s403="`forbidden`: not a reviewer's or a regulator's login"),
        },
        summary="Reviews of eligibility answers waiting for me, oldest deadline first",
    )
    def get(self, request):
        payload, items = _page(
            request, services.eligibility_reviews_queue(request.user), for_staff=True
        )
        services.eligibility_reviews_read_by_staff(user=request.user, reviews=items)
        return Response(payload)
