"""The resident's door: my score, my records, who read my data, my appeals (SH 34, PIPL 45)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.response import Response

from gateway.api import rights_schemas as schemas
from gateway.api.account_permissions import IsCitizen
from gateway.api.appeals import appeal_payload
from gateway.api.auth import AccountView, body_of
from gateway.api.openapi import BODY_ERRORS, PAGE, errors
from gateway.services import appeals as appeal_services
from gateway.services import rights
from gateway.services.rights import page_bounds

_PAGE = PAGE
BEFORE = OpenApiParameter(
    "before",
    {"type": "integer", "minimum": 1},
    required=False,
    description="The `next` of the page before: the page after it, as fast however deep",
)
# 401 without credentials; 403 for a login that is not a resident's (or a session
# writing without its CSRF token).
_RESIDENT = {"s403": "`forbidden`: not a resident's login (or a session without its CSRF token)"}
_READ_ERRORS = errors(400, 401, 403, s400="`invalid` paging", **_RESIDENT)


class CitizenView(AccountView):
    permission_classes = [IsCitizen]

    @property
    def citizen(self):
        return self.request.user.account.citizen


class MyScoreView(CitizenView):
    @extend_schema(
        responses={200: schemas.MyScore, **errors(401, 403, **_RESIDENT)},
        summary="My score and eligibility, with and without disputed deductions",
    )
    def get(self, request):
        return Response(rights.score_read_by_citizen(citizen=self.citizen))


class MyEventsView(CitizenView):
    @extend_schema(
        parameters=[*_PAGE, BEFORE],
        responses={200: schemas.MyEvents, **_READ_ERRORS},
        summary="My records, newest first, with their sources",
    )
    def get(self, request):
        return Response(
            rights.events_read_by_citizen(
                citizen=self.citizen,
                limit=request.query_params.get("limit"),
                offset=request.query_params.get("offset"),
                before=request.query_params.get("before"),
            )
        )


class MyAccessesView(CitizenView):
    @extend_schema(
        parameters=[
            *_PAGE,
            BEFORE,
            OpenApiParameter(
                "include_own",
                bool,
                required=False,
                description="Add my own reads too (`true`, `1` or `yes`; anything else is false)",
            ),
        ],
        responses={200: schemas.MyAccesses, **_READ_ERRORS},
        summary="Who read my data, when, and why",
    )
    def get(self, request):
        include_own = request.query_params.get("include_own", "").lower() in {"1", "true", "yes"}
        return Response(
            rights.accesses_read_by_citizen(
                citizen=self.citizen,
                limit=request.query_params.get("limit"),
                offset=request.query_params.get("offset"),
                before=request.query_params.get("before"),
                include_own=include_own,
            )
        )


class MyAppealsView(CitizenView):
    @extend_schema(
        parameters=_PAGE,
        responses={200: schemas.AppealPage, **_READ_ERRORS},
        summary="My appeals, newest first",
    )
    def get(self, request):
        limit, offset = page_bounds(
            request.query_params.get("limit"), request.query_params.get("offset")
        )
        queryset = appeal_services.appeals_of_citizen(self.citizen)
        shown = list(queryset[offset : offset + limit])
        rights.own_records_read_by_citizen(citizen=self.citizen, page="appeals", shown=len(shown))
        return Response(
            {
                "count": queryset.count(),
                "limit": limit,
                "offset": offset,
                "results": [appeal_payload(appeal, for_staff=False) for appeal in shown],
            }
        )

    @extend_schema(
        request=schemas.AppealRequest,
        examples=[
            OpenApiExample(
                "An objection",
                value={"event": 1234, "statement": "The car was sold a month before."},
                request_only=True,
            )
        ],
        responses={
            201: schemas.AppealCreated,
            **errors(
                *BODY_ERRORS,
                401,
                403,
                404,
                409,
                s404="`not_found`: no record of mine has this id",
                s409="`appeal_exists` (one objection per record) or `not_appealable` (not a "
                "deduction, reversed or expired)",
                **_RESIDENT,
            ),
        },
        summary="Object to one of my records (SH 36, ZJ 30)",
    )
    def post(self, request):
        data = body_of(request)
        event = appeal_services.citizen_event(self.citizen, data.get("event"))
        appeal = appeal_services.appeal_file(
            citizen=self.citizen, event=event, statement=data.get("statement")
        )
        return Response(
            {
                "id": appeal.pk,
                "status": appeal.status,
                "decision_due": appeal.decision_due.isoformat(),
                "decision_due_computed": appeal.decision_due_computed,
            },
            status=201,
        )
