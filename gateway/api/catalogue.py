"""The public catalogue: published rules and read purposes, no authentication."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from compliance import selectors
from gateway.api import schemas


def _bilingual(obj, field: str) -> dict[str, str]:
    return {"zh": getattr(obj, f"{field}_zh"), "en": getattr(obj, f"{field}_en")}


def _legal_basis(obj) -> dict[str, str]:
    return {"law": obj.legal_basis_law, "article": obj.legal_basis_article}


class RuleListView(APIView):
    @extend_schema(responses={200: schemas.RuleOut(many=True)}, summary="The published catalogue")
    def get(self, request):
        rules = list(selectors.published_rules())
        departments = selectors.departments_by_rule([rule.pk for rule in rules])
        today = timezone.localdate()
        return Response(
            [
                {
                    "code": rule.code,
                    "version": rule.version,
                    "title": _bilingual(rule, "title"),
                    "points": rule.points,
                    "kind": "deduction" if rule.is_deduction else "reward",
                    "severity": rule.severity,
                    "legal_basis": _legal_basis(rule),
                    "effective_from": rule.effective_from,
                    "effective_to": rule.effective_to,
                    "in_force": rule.in_force_on(today),
                    "retention_years": rule.retention_years,
                    "published_at": rule.published_at,
                    "departments": departments.get(rule.pk, []),
                }
                for rule in rules
            ]
        )


class PurposeListView(APIView):
    @extend_schema(responses={200: schemas.PurposeOut(many=True)}, summary="Read purposes")
    def get(self, request):
        purposes = list(selectors.active_purposes())
        departments = selectors.departments_by_purpose([purpose.pk for purpose in purposes])
        return Response(
            [
                {
                    "code": purpose.code,
                    "title": _bilingual(purpose, "title"),
                    "description": _bilingual(purpose, "description"),
                    "legal_basis": _legal_basis(purpose),
                    "discloses": purpose.discloses,
                    "eligibility": [
                        {
                            "code": t.code,
                            "title": _bilingual(t, "title"),
                            "minimum_score": t.minimum_score,
                        }
                        for t in purpose.thresholds.all()
                    ],
                    "departments": departments.get(purpose.pk, []),
                }
                for purpose in purposes
            ]
        )
