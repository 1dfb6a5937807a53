"""The department door: submissions and purpose-bound score reads."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from gateway.api import schemas
from gateway.api.authentication import DepartmentKeyAuthentication
from gateway.api.openapi import BODY_ERRORS, RETRY_AFTER, errors
from gateway.api.permissions import IsDepartment
from gateway.api.throttles import SubmissionThrottle
from gateway.errors import Msg, PayloadTooLarge
from gateway.services.reads import score_read_by_department
from gateway.services.submissions import submission_accept

SUBMISSION_EXAMPLE = OpenApiExample(
    "One deduction",
    value={
        "idempotency_key": "try-1",
        "records": [
            {
                "citizen_id": "320505199003074510",
                "rule": "traffic.failure_to_yield",
                "occurred_at": "2026-11-20T08:30:00+08:00",
                "evidence": {
                    "document": "苏公交决字〔2026〕第123号",
                    "issued_by": "苏州市公安局交通警察支队",
                    "issued_on": "2026-11-21",
                    "procedure": "general",
                },
                "data": {"location": "干将路"},
            }
        ],
    },
    request_only=True,
)
IDEMPOTENT_REPLAYED = OpenApiParameter(
    "Idempotent-Replayed",
    str,
    OpenApiParameter.HEADER,
    response=[201],
    enum=["true"],
    description="Present on a replay: the first response, and no second effect.",
)
SCORE_READ_RESPONSES = {
    200: OpenApiResponse(
        schemas.ScoreDisclosure,
        description="What the purpose discloses; a resident never seen reads as the start score",
    ),
    **errors(
        400,
        401,
        s400="`invalid` identity number, or `purpose_required` (without `problems`)",
    ),
    403: OpenApiResponse(
        schemas.PurposeError,
        description="`purpose_not_granted`: the purpose is not granted to the department "
        "(the refusal is recorded)",
    ),
}


class DepartmentView(APIView):
    authentication_classes = [DepartmentKeyAuthentication]
    permission_classes = [IsDepartment]


class SubmissionView(DepartmentView):
    throttle_classes = [SubmissionThrottle]

    @extend_schema(
        request=schemas.SubmissionRequest,
        examples=[SUBMISSION_EXAMPLE],
        parameters=[IDEMPOTENT_REPLAYED, RETRY_AFTER],
        responses={
            201: OpenApiResponse(
                schemas.SubmissionAccepted,
                description="Accepted; a replay of the same key and body answers the first "
                "response again, with `Idempotent-Replayed: true`",
            ),
            **errors(400, 401, 409, 413, 415, 422, 429, 503),
            403: OpenApiResponse(
                schemas.InvalidError,
                description="`rule_not_authorized`: a rule outside the department's authority "
                "(`problems` names each record)",
            ),
            401: OpenApiResponse(
                schemas.Error,
                description="`unauthenticated` (API key), or `signature_required` / "
                "`signature_invalid` with a `reason`: the RFC 9421 signature is missing where "
                "the department's policy requires it, or does not verify; nothing is stored",
            ),
            409: OpenApiResponse(
                schemas.Error,
                description="`idempotency_conflict`: the key was used for a different body",
            ),
        },
        summary="Submit a batch of 1 to 1,000 records (all or nothing, idempotent)",
    )
    def post(self, request):
        length = request.META.get("CONTENT_LENGTH") or "0"
        limit = settings.GATEWAY_MAX_BODY_BYTES
        if length.isdigit() and int(length) > limit:
            raise PayloadTooLarge(Msg.BODY_TOO_LARGE % {"limit": limit}, limit=limit)
        content_type = request.content_type.split(";")[0].strip().lower()
        if content_type != "application/json":
            from rest_framework.exceptions import UnsupportedMediaType

            raise UnsupportedMediaType(content_type)
        try:
            body = request.body
        except RequestDataTooBig:
            raise PayloadTooLarge(Msg.BODY_TOO_LARGE % {"limit": limit}, limit=limit) from None
        outcome = submission_accept(
            principal=request.user, body=body, headers=request.headers, path=request.path
        )
        response = Response(outcome.payload, status=outcome.status)
        if outcome.replayed:
            response["Idempotent-Replayed"] = "true"
        return response


class CitizenScoreView(DepartmentView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "citizen_id",
                {"type": "string", "pattern": schemas.IDENTITY_NUMBER},
                OpenApiParameter.PATH,
                description="The identity number (POST /api/v1/score-queries keeps it out "
                "of URLs and access logs)",
                examples=[OpenApiExample("A resident", value="320505199003074510")],
            ),
            OpenApiParameter(
                "purpose",
                str,
                required=True,
                description="A purpose granted to the department",
                examples=[OpenApiExample("A loan check", value="loan_eligibility")],
            ),
        ],
        responses=SCORE_READ_RESPONSES,
        summary="Read a resident's score for a granted purpose",
    )
    def get(self, request, citizen_id: str):
        payload = score_read_by_department(
            principal=request.user,
            citizen_id=citizen_id,
            purpose_code=request.query_params.get("purpose"),
        )
        return Response(payload)


class ScoreQueryView(DepartmentView):
    """The same read with the identity number in the body, so it never enters a URL or log."""

    @extend_schema(
        request=schemas.ScoreQuery,
        examples=[
            OpenApiExample(
                "A loan check",
                value={"citizen_id": "320505199003074510", "purpose": "loan_eligibility"},
                request_only=True,
            )
        ],
        responses={**SCORE_READ_RESPONSES, **errors(*BODY_ERRORS)},
        summary="Read a resident's score for a granted purpose (identity number in the body)",
    )
    def post(self, request):
        data = request.data if isinstance(request.data, dict) else {}
        citizen_id = data.get("citizen_id")
        purpose = data.get("purpose")
        payload = score_read_by_department(
            principal=request.user,
            citizen_id=citizen_id if isinstance(citizen_id, str) else "",
            purpose_code=purpose if isinstance(purpose, str) else None,
        )
        return Response(payload)
