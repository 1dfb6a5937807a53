"""The public catalogue: published rules and read purposes, no authentication."""

from __future__ import annotations

from collections import defaultdict

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from compliance import selectors
from compliance.models import Rule, RuleStatus
from gateway.api import schemas


def _bilingual(obj, field: str) -> dict[str, str]:
    return {"zh": getattr(obj, f"{field}_zh"), "en": getattr(obj, f"{field}_en")}


def _legal_basis(obj) -> dict[str, str]:
    return {"law": obj.legal_basis_law, "article": obj.legal_basis_article}


class RuleVersionOut(serializers.Serializer):
    version = serializers.IntegerField()
    status = serializers.ChoiceField([RuleStatus.PUBLISHED, RuleStatus.WITHDRAWN])
    title = schemas.Bilingual()
    points = serializers.IntegerField()
    severity = serializers.CharField()
    legal_basis = schemas.LegalBasis()
    effective_from = serializers.DateField()
    effective_to = serializers.DateField(allow_null=True)
    published_at = serializers.DateTimeField(allow_null=True)


class CommentPeriodOut(serializers.Serializer):
    opens_on = serializers.DateField()
    closes_on = serializers.DateField()


class RuleWithHistoryOut(schemas.RuleOut):
    comment_period = CommentPeriodOut(allow_null=True)
    history = RuleVersionOut(many=True, help_text="Earlier published versions, newest first")


def _comment_period(rule) -> dict | None:
    if rule.comment_opens_on is None or rule.comment_closes_on is None:
        return None
    return {"opens_on": rule.comment_opens_on, "closes_on": rule.comment_closes_on}


def _version(rule) -> dict:
    return {
        "version": rule.version,
        "status": rule.status,
        "title": _bilingual(rule, "title"),
        "points": rule.points,
        "severity": rule.severity,
        "legal_basis": _legal_basis(rule),
        "effective_from": rule.effective_from,
        "effective_to": rule.effective_to,
        "published_at": rule.published_at,
    }


def _published_versions_by_code(codes) -> dict[str, list]:
    """Every version that was ever published (withdrawn ones too), newest first; never drafts."""
    versions = defaultdict(list)
    for rule in (
        Rule.objects.filter(code__in=codes, published_at__isnull=False)
        .filter(status__in=[RuleStatus.PUBLISHED, RuleStatus.WITHDRAWN])
        .order_by("code", "-version")
    ):
        versions[rule.code].append(rule)
    return versions


class RuleListView(APIView):
    @extend_schema(
        responses={200: RuleWithHistoryOut(many=True)},
        summary="The published catalogue, each version with its legal basis, dates and history",
    )
    def get(self, request):
        rules = list(selectors.published_rules())
        departments = selectors.departments_by_rule([rule.pk for rule in rules])
        versions = _published_versions_by_code({rule.code for rule in rules})
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
                    "comment_period": _comment_period(rule),
                    "departments": departments.get(rule.pk, []),
                    "history": [
                        _version(earlier)
                        for earlier in versions[rule.code]
                        if earlier.version < rule.version
                    ],
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
