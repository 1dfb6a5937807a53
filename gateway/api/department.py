"""The department door: submissions and purpose-bound score reads."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from gateway.api import schemas
from gateway.api.authentication import DepartmentKeyAuthentication
from gateway.api.permissions import IsDepartment
from gateway.api.throttles import SubmissionThrottle
from gateway.errors import Msg, PayloadTooLarge
from gateway.services.reads import score_read_by_department
from gateway.services.submissions import submission_accept


class DepartmentView(APIView):
    authentication_classes = [DepartmentKeyAuthentication]
    permission_classes = [IsDepartment]


class SubmissionView(DepartmentView):
    throttle_classes = [SubmissionThrottle]

    @extend_schema(
        request=schemas.SubmissionRequest,
        responses={
            201: schemas.SubmissionAccepted,
            400: schemas.InvalidError,
            401: schemas.Error,
            403: schemas.InvalidError,
            409: schemas.Error,
            413: schemas.Error,
            415: schemas.Error,
            422: schemas.ProhibitedError,
            429: schemas.Error,
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
        outcome = submission_accept(principal=request.user, body=body)
        response = Response(outcome.payload, status=outcome.status)
        if outcome.replayed:
            response["Idempotent-Replayed"] = "true"
        return response


class CitizenScoreView(DepartmentView):
    @extend_schema(
        parameters=[OpenApiParameter("purpose", str, required=True)],
        responses={
            200: schemas.ScoreDisclosure,
            400: schemas.InvalidError,
            401: schemas.Error,
            403: schemas.Error,
        },
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
        responses={
            200: schemas.ScoreDisclosure,
            400: schemas.InvalidError,
            401: schemas.Error,
            403: schemas.Error,
        },
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
