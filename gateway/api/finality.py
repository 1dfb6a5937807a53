"""The department reports that a pending deduction's decision became final (ZJ 11)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from gateway.api import schemas
from gateway.api.authentication import DepartmentKeyAuthentication
from gateway.api.openapi import BODY_ERRORS, errors
from gateway.api.permissions import IsDepartment
from gateway.api.revocations import EVENT_ID
from gateway.services.finality import event_finality_report


class FinalityIn(serializers.Serializer):
    final_on = serializers.DateField(
        help_text="The day the decision became final: not before it was issued, not later "
        "than today (Asia/Shanghai)"
    )
    ground = serializers.ChoiceField(
        ["periods_passed", "upheld_on_review", "upheld_on_appeal"],
        required=False,
        help_text="Why it is final; `periods_passed` by default",
    )


class FinalityOut(serializers.Serializer):
    event = serializers.IntegerField()
    finality = serializers.DictField(
        help_text='`{"state": "final", "final_on", "ground", "review_period_ends", '
        '"became_final_at", "how": "reported"}`'
    )


class EventFinalityView(APIView):
    authentication_classes = [DepartmentKeyAuthentication]
    permission_classes = [IsDepartment]

    @extend_schema(
        parameters=[EVENT_ID],
        request=FinalityIn,
        examples=[
            OpenApiExample(
                "Upheld on review",
                value={"final_on": "2026-12-01", "ground": "upheld_on_review"},
                request_only=True,
            )
        ],
        responses={
            200: FinalityOut,
            **errors(
                *BODY_ERRORS,
                401,
                403,
                404,
                409,
                s403="`not_your_event`: not a record of the caller's department (the same "
                "answer whether or not the record exists)",
                s404="`not_found`: the id is not a positive integer",
                s409="`not_pending`: not a deduction sent as pending, already final, revoked, "
                "or no longer counts",
            ),
            422: OpenApiResponse(
                schemas.InvalidError,
                description="`finality_date_invalid`: `final_on` in the future or before "
                "the decision was issued; `problems` names it",
            ),
        },
        summary="Report that a pending deduction's decision became final (ZJ 11)",
    )
    def post(self, request, event_id: str):
        event = event_finality_report(
            department=request.user.department,
            key_id=request.user.key_id,
            event_id=event_id,
            data=request.data,
        )
        return Response({"event": event.pk, "finality": event.evidence["finality"]})
