"""The department reports a revoked decision behind one of its deductions (SH 37)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from compliance.law import REVOCATION_DELETION_WORKING_DAYS
from gateway.api.authentication import DepartmentKeyAuthentication
from gateway.api.openapi import BODY_ERRORS, errors
from gateway.api.permissions import IsDepartment
from gateway.services.revocations import event_revoke


class RevocationIn(serializers.Serializer):
    outcome = serializers.CharField(
        required=False, help_text="`revoked` (the default) or `changed`"
    )
    document = serializers.CharField(max_length=200, help_text="The revoking decision")
    issued_by = serializers.CharField(max_length=200)
    issued_on = serializers.DateField()


class RevocationOut(serializers.Serializer):
    id = serializers.IntegerField()
    event = serializers.IntegerField()
    outcome = serializers.CharField(help_text="`revoked` or `changed`")
    document = serializers.CharField()
    issued_on = serializers.DateField()
    reported_at = serializers.DateTimeField()
    removal_due = serializers.DateField(
        help_text=f"Report + {REVOCATION_DELETION_WORKING_DAYS} working days (SH 37)"
    )
    removal_due_computed = serializers.BooleanField(
        help_text="The due date counts holidays computed from the national rules"
    )


EVENT_ID = OpenApiParameter(
    "event_id",
    {"type": "integer", "minimum": 1},
    OpenApiParameter.PATH,
    description="A record the caller's department submitted",
)


class EventRevocationView(APIView):
    authentication_classes = [DepartmentKeyAuthentication]
    permission_classes = [IsDepartment]

    @extend_schema(
        parameters=[EVENT_ID],
        request=RevocationIn,
        examples=[
            OpenApiExample(
                "Revoked on review",
                value={
                    "document": "苏府复决字〔2026〕第12号",
                    "issued_by": "苏州市人民政府",
                    "issued_on": "2026-12-01",
                },
                request_only=True,
            )
        ],
        responses={
            201: RevocationOut,
            **errors(
                *BODY_ERRORS,
                401,
                403,
                404,
                409,
                s403="`not_your_event`: not a record of the caller's department (the same "
                "answer whether or not the record exists)",
                s404="`not_found`: the id is not a positive integer",
                s409="`not_revocable`: not a deduction, already revoked, or no longer counts",
            ),
        },
        summary="Report that the decision behind a deduction was revoked or changed (SH 37)",
    )
    def post(self, request, event_id: str):
        revocation = event_revoke(
            department=request.user.department,
            key_id=request.user.key_id,
            event_id=event_id,
            data=request.data,
        )
        return Response(
            {
                "id": revocation.pk,
                "event": revocation.event_id,
                "outcome": revocation.outcome,
                "document": revocation.document,
                "issued_on": revocation.issued_on.isoformat(),
                "reported_at": revocation.reported_at.isoformat(),
                "removal_due": revocation.removal_due.isoformat(),
                "removal_due_computed": revocation.removal_due_computed,
            },
            status=201,
        )
