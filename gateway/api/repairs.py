"""Credit repair over the API: residents apply, the submitting department decides (SH 38, GB22)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from compliance.law import REPAIR_REMOVAL_WORKING_DAYS
from gateway.api.authentication import AccountTokenAuthentication, DepartmentKeyAuthentication
from gateway.api.openapi import BODY_ERRORS, errors
from gateway.api.permissions import IsDepartment
from gateway.errors import InvalidRequest, NotFound, problem
from gateway.models import EventStatus, RepairApplication, RepairStatus, Role
from gateway.services.repairs import Why as RepairWhy
from gateway.services.repairs import (
    repair_apply,
    repair_decide,
    repairs_of,
    repairs_pending_read_by_department,
)
from gateway.services.rights import own_records_read_by_citizen

UNKNOWN_FIELD = "unknown field"
NOT_OBJECT = "must be a JSON object"


class IsResident(BasePermission):
    """The caller is logged in with a resident's account."""

    def has_permission(self, request, view) -> bool:
        account = getattr(request.user, "account", None) if request.user else None
        return account is not None and account.role == Role.CITIZEN


def _body(request, allowed: frozenset[str]) -> dict[str, Any]:
    data = request.data
    if not isinstance(data, dict):
        raise InvalidRequest([problem("", NOT_OBJECT)])
    unknown = [problem(f"/{name}", UNKNOWN_FIELD) for name in data if name not in allowed]
    if unknown:
        raise InvalidRequest(unknown)
    return data


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def repair_dict(repair: RepairApplication) -> dict[str, Any]:
    event = repair.event
    return {
        "id": repair.pk,
        "status": repair.status,
        "event": {
            "id": event.pk,
            "rule": event.rule.code,
            "rule_version": event.rule.version,
            "points": event.points,
            "occurred_at": _iso(event.occurred_at),
            "status": event.status,
            "document": (event.evidence or {}).get("document", ""),
        },
        "statement": repair.statement,
        "reference": repair.reference,
        "applied_at": _iso(repair.applied_at),
        "decided_at": _iso(repair.decided_at),
        "decision_reason": repair.decision_reason,
        "removal_due": _iso(repair.removal_due),
        "removed_at": _iso(repair.removed_at),
        "compensation": repair.compensation_id,
    }


class RepairEventOut(serializers.Serializer):
    id = serializers.IntegerField()
    rule = serializers.CharField()
    rule_version = serializers.IntegerField()
    points = serializers.IntegerField()
    occurred_at = serializers.DateTimeField()
    status = serializers.ChoiceField(EventStatus.values)
    document = serializers.CharField()


class RepairOut(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(RepairStatus.values)
    event = RepairEventOut()
    statement = serializers.CharField()
    reference = serializers.CharField()
    applied_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_reason = serializers.CharField()
    removal_due = serializers.DateField(
        allow_null=True,
        help_text=f"Confirmation + {REPAIR_REMOVAL_WORKING_DAYS} working days (SH 38)",
    )
    removed_at = serializers.DateTimeField(allow_null=True)
    compensation = serializers.IntegerField(
        allow_null=True, help_text="The compensating ledger row"
    )


class PendingRepairOut(RepairOut):
    citizen = serializers.CharField(help_text="Masked identity number, e.g. 3205**********4519")


class PendingRepairsOut(serializers.Serializer):
    count = serializers.IntegerField()
    results = PendingRepairOut(many=True)


class RepairIn(serializers.Serializer):
    event = serializers.IntegerField()
    statement = serializers.CharField(max_length=2000)
    reference = serializers.CharField(max_length=200, required=False)


class DecisionIn(serializers.Serializer):
    decision = serializers.ChoiceField([RepairStatus.CONFIRMED, RepairStatus.REFUSED])
    reason = serializers.CharField(
        max_length=2000, required=False, help_text="Required for a refusal (GB22)"
    )


REPAIR_ID = OpenApiParameter(
    "repair_id",
    {"type": "integer", "minimum": 1},
    OpenApiParameter.PATH,
    description="An application awaiting the caller's department; anything else is 404",
)
_RESIDENT = {"s403": "`forbidden`: not a resident's login (or a session without its CSRF token)"}


class DepartmentRepairListView(APIView):
    authentication_classes = [DepartmentKeyAuthentication]
    permission_classes = [IsDepartment]

    @extend_schema(
        responses={200: PendingRepairsOut, **errors(401)},
        summary="Repair applications awaiting the department (oldest first, at most 200)",
    )
    def get(self, request):
        count, repairs = repairs_pending_read_by_department(
            department=request.user.department, key_id=request.user.key_id
        )
        return Response(
            {
                "count": count,
                "results": [
                    {**repair_dict(repair), "citizen": repair.citizen.identity_masked}
                    for repair in repairs
                ],
            }
        )


class DepartmentRepairDecisionView(APIView):
    authentication_classes = [DepartmentKeyAuthentication]
    permission_classes = [IsDepartment]

    @extend_schema(
        request=DecisionIn,
        examples=[
            OpenApiExample("Confirmed", value={"decision": "confirmed"}, request_only=True),
            OpenApiExample(
                "Refused",
                value={"decision": "refused", "reason": "The fine is still unpaid."},
                request_only=True,
            ),
        ],
        parameters=[REPAIR_ID],
        responses={
            200: RepairOut,
            **errors(
                *BODY_ERRORS,
                401,
                404,
                409,
                s404="`not_found`: no application with this id awaits the department",
                s409="`conflict`: already decided, or the record no longer counts",
            ),
        },
        summary="Confirm (the deduction leaves the score at once) or refuse, with reasons",
    )
    def post(self, request, repair_id: str):
        if not repair_id.isdigit() or len(repair_id) > 18:
            raise NotFound(RepairWhy.REPAIR_NOT_FOUND)
        data = _body(request, frozenset({"decision", "reason"}))
        repair = repair_decide(
            department=request.user.department,
            repair_id=int(repair_id),
            decision=data.get("decision"),
            reason=data.get("reason", ""),
            actor_id=request.user.department.code,
        )
        return Response(repair_dict(repair))


class CitizenRepairView(APIView):
    authentication_classes = [AccountTokenAuthentication, SessionAuthentication]
    permission_classes = [IsResident]

    @extend_schema(
        responses={200: RepairOut(many=True), **errors(401, 403, **_RESIDENT)},
        summary="My credit repair applications, newest first",
    )
    def get(self, request):
        citizen = request.user.account.citizen
        shown = [repair_dict(r) for r in repairs_of(citizen)]
        own_records_read_by_citizen(citizen=citizen, page="repairs", shown=len(shown))
        return Response(shown)

    @extend_schema(
        request=RepairIn,
        examples=[
            OpenApiExample(
                "Paid",
                value={
                    "event": 1234,
                    "statement": "The fine was paid on 25 November.",
                    "reference": "PAY-2026-1125-001",
                },
                request_only=True,
            )
        ],
        responses={
            201: RepairOut,
            **errors(
                *BODY_ERRORS,
                401,
                403,
                404,
                409,
                s404="`not_found`: no record of mine has this id",
                s409="`conflict`: the record no longer counts, or an application is pending",
                **_RESIDENT,
            ),
        },
        summary="Apply to repair one of my deductions once the act is rectified",
    )
    def post(self, request):
        data = _body(request, frozenset({"event", "statement", "reference"}))
        repair = repair_apply(
            citizen=request.user.account.citizen,
            event=data.get("event"),
            statement=data.get("statement"),
            reference=data.get("reference", ""),
        )
        return Response(repair_dict(repair), status=201)
