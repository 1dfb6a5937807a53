"""Test data, created through the same services the product uses."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from typing import Any

from audit.actions import ActorKind
from compliance.models import (
    Department,
    Disclosure,
    EligibilityThreshold,
    Purpose,
    Rule,
    RuleStatus,
)
from compliance.services import catalogue_object_save, department_create, grant_set
from compliance.workdays import SHANGHAI
from gateway.identity import check_character
from gateway.services.keys import department_key_create

_serial = itertools.count(1)
ACTOR = {"actor_kind": ActorKind.SYSTEM, "actor_id": "tests"}


def identity_number(
    district: str = "320505", born: str = "19900307", serial: int | None = None
) -> str:
    body = f"{district}{born}{(serial if serial is not None else next(_serial)) % 1000:03d}"
    return body + check_character(body)


def department(code: str = "traffic_police", **kwargs: Any) -> Department:
    existing = Department.objects.filter(code=code).first()
    if existing:
        return existing
    return department_create(
        code=code,
        title_zh=kwargs.get("title_zh", f"{code} 部门"),
        title_en=kwargs.get("title_en", f"{code} department"),
        **ACTOR,
    )


def rule(
    code: str = "traffic.failure_to_yield",
    *,
    points: int = -3,
    departments: list[Department] | None = None,
    version: int = 1,
    status: str = RuleStatus.PUBLISHED,
    effective_from: dt.date = dt.date(2026, 1, 1),
    effective_to: dt.date | None = None,
    retention_years: int = 5,
    severity: str = "ordinary",
    publication_months: int | None = None,
) -> Rule:
    # A published rule went through 30 days of comment and was published by 1 December
    # 2025, or at midnight in Shanghai on its first day if that is earlier.
    published_on = min(dt.date(2025, 12, 1), effective_from)
    closes_on = published_on - dt.timedelta(days=1)
    obj = Rule(
        code=code,
        version=version,
        title_zh=f"{code} 规则",
        title_en=f"{code} rule",
        points=points,
        severity=severity,
        legal_basis_law="《中华人民共和国道路交通安全法》",
        legal_basis_article="第四十七条",
        status=status,
        comment_opens_on=closes_on - dt.timedelta(days=29) if status == "published" else None,
        comment_closes_on=closes_on if status == "published" else None,
        published_at=dt.datetime.combine(published_on, dt.time(), SHANGHAI)
        if status == "published"
        else None,
        effective_from=effective_from,
        effective_to=effective_to,
        retention_years=retention_years,
        publication_months=publication_months,
    )
    catalogue_object_save(obj, **ACTOR)
    grant_set(obj, departments or [], **ACTOR)
    return obj


def threshold(code: str = "civilization_loan", minimum: int = 100) -> EligibilityThreshold:
    existing = EligibilityThreshold.objects.filter(code=code).first()
    if existing:
        return existing
    obj = EligibilityThreshold(
        code=code, title_zh="文明贷", title_en="Civilization loan", minimum_score=minimum
    )
    return catalogue_object_save(obj, **ACTOR)


def purpose(
    code: str = "loan_eligibility",
    *,
    discloses: str = Disclosure.ELIGIBILITY,
    departments: list[Department] | None = None,
    thresholds: list[EligibilityThreshold] | None = None,
) -> Purpose:
    obj = Purpose(
        code=code,
        title_zh="贷款资格",
        title_en="Loan eligibility",
        legal_basis_law="《浙江省公共信用信息管理条例》",
        legal_basis_article="第十九条",
        discloses=discloses,
    )
    catalogue_object_save(obj, **ACTOR)
    obj.thresholds.set(thresholds if thresholds is not None else [threshold()])
    grant_set(obj, departments or [], **ACTOR)
    return obj


def api_key(dept: Department, *, expires_at: dt.datetime | None = None) -> str:
    return department_key_create(department=dept, name="test", expires_at=expires_at)[1]


def deduction_record(citizen_id: str, **overrides: Any) -> dict[str, Any]:
    record = {
        "citizen_id": citizen_id,
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
    record.update(overrides)
    return record


def body(records: list[dict[str, Any]], key: str | None = None) -> bytes:
    return json.dumps(
        {"idempotency_key": key or f"test-{next(_serial)}", "records": records},
        ensure_ascii=False,
    ).encode()
