"""Reads of the catalogue and policy."""

from __future__ import annotations

import datetime as dt
import threading
from collections import defaultdict
from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.db.models import Prefetch

from compliance.models import (
    Department,
    PublishedSchedule,
    Purpose,
    PurposeGroupObjectPermission,
    Rule,
    RuleGroupObjectPermission,
    RuleStatus,
    ScreeningCategory,
    ScreeningDecoder,
    ScreeningPattern,
    ScreeningPolicyRevision,
    WorkdayOverride,
)
from compliance.workdays import WorkdayCalendar


def department_choices() -> list[tuple[str, str]]:
    """Every department's code, as the audit log's department filter offers them."""
    codes = Department.objects.order_by("code").values_list("code", flat=True)
    return [(code, code) for code in codes]


def department_by_code(code: str) -> Department | None:
    return Department.objects.filter(code=code).first()


def rules_applicable_by(department: Department) -> dict[str, list[Rule]]:
    """Published rule versions the department may apply, by code, oldest version first."""
    rule_ids = RuleGroupObjectPermission.objects.filter(
        group_id=department.group_id, permission__codename="apply_rule"
    ).values("content_object_id")
    by_code: dict[str, list[Rule]] = defaultdict(list)
    for rule in Rule.objects.filter(pk__in=rule_ids, status=RuleStatus.PUBLISHED).order_by(
        "code", "version"
    ):
        by_code[rule.code].append(rule)
    return by_code


def published_rule_codes() -> set[str]:
    return set(Rule.objects.published().values_list("code", flat=True))


def published_rules():
    """The public catalogue: published versions with the departments allowed to apply them."""
    return Rule.objects.published().order_by("code", "version")


def departments_by_rule(rule_ids) -> dict[int, list[str]]:
    return _departments_by_object(RuleGroupObjectPermission, "apply_rule", rule_ids)


def departments_by_purpose(purpose_ids) -> dict[int, list[str]]:
    return _departments_by_object(PurposeGroupObjectPermission, "use_purpose", purpose_ids)


def _departments_by_object(model, codename: str, object_ids) -> dict[int, list[str]]:
    rows = (
        model.objects.filter(content_object_id__in=object_ids, permission__codename=codename)
        .select_related("group__department")
        .order_by("group__department__code")
    )
    result: dict[int, list[str]] = defaultdict(list)
    for row in rows:
        department = getattr(row.group, "department", None)
        if department is not None:
            result[row.content_object_id].append(department.code)
    return result


def active_purposes():
    return Purpose.objects.filter(is_active=True).prefetch_related("thresholds").order_by("code")


def purpose_code_known(code: str) -> bool:
    """Whether the catalogue has a purpose of this code (active or not)."""
    return Purpose.objects.filter(code=code).exists()


def purpose_for_department(department: Department, code: str) -> Purpose | None:
    """The active purpose if the department was granted it, else None."""
    purpose = Purpose.objects.filter(code=code, is_active=True).first()
    if purpose is None:
        return None
    granted = PurposeGroupObjectPermission.objects.filter(
        group_id=department.group_id,
        permission__codename="use_purpose",
        content_object=purpose,
    ).exists()
    return purpose if granted else None


def department_groups() -> list[Group]:
    return list(Group.objects.filter(department__isnull=False))


# --- screening policy -----------------------------------------------------------------

_screener_cache: dict[str, object] = {}
_screener_lock = threading.Lock()


def policy_revision() -> int:
    revision = ScreeningPolicyRevision.objects.filter(pk=1).values_list("number", flat=True)
    return revision.first() or 0


def policy_spec(version: int):
    from compliance import screening
    from compliance.decoders import DECODERS

    categories = ScreeningCategory.objects.filter(is_active=True).prefetch_related(
        "terms", Prefetch("patterns", queryset=ScreeningPattern.objects.order_by("name"))
    )
    # A decoder is on unless a regulator switched it off: a format added to the engine
    # later is read before anyone has had to enable it.
    disabled = set(ScreeningDecoder.objects.filter(is_enabled=False).values_list("code", flat=True))
    return screening.PolicySpec(
        version=version,
        decoders=frozenset(DECODERS) - disabled,
        categories=tuple(
            screening.CategorySpec(
                code=category.code,
                key_terms=tuple(term.term for term in category.terms.all()),
                value_patterns=tuple(
                    (pattern.name, pattern.pattern) for pattern in category.patterns.all()
                ),
            )
            for category in categories
        ),
    )


def consent_category_codes() -> frozenset[str]:
    """Categories collected only with written consent (CRR 14 ¶2, ZJ 14 ¶2, SH 14 ¶2)."""
    return frozenset(
        ScreeningCategory.objects.filter(is_active=True, needs_consent=True).values_list(
            "code", flat=True
        )
    )


def current_screener():
    """(version, Screener) for the policy in force, rebuilt when a regulator changes it."""
    from compliance import screening

    version = policy_revision()
    cached = _screener_cache.get("current")
    if cached is not None and cached[0] == version:
        return cached
    with _screener_lock:
        cached = _screener_cache.get("current")
        if cached is None or cached[0] != version:
            cached = (version, screening.compile_policy(policy_spec(version)))
            _screener_cache["current"] = cached
    return cached


def screen_free_text(text: str):
    """Every violation in one text value (an appeal statement, a note) under the policy in
    force: Violation(path="", category, term, via), the term or pattern named, never the
    text.  An empty list means the text may be stored."""
    _version, screener = current_screener()
    return screener.screen_value(text)


# --- working days -----------------------------------------------------------------------


def workday_calendar() -> WorkdayCalendar:
    overrides = dict(WorkdayOverride.objects.values_list("date", "is_workday"))
    published = set(PublishedSchedule.objects.values_list("year", flat=True))
    return WorkdayCalendar(overrides=overrides, published_years=published)


def add_working_days(start: dt.date | dt.datetime, days: int) -> dt.date:
    return workday_calendar().add_working_days(start, days)


@dataclass(frozen=True)
class Deadline:
    """A due date, and whether a year it spans has only a computed holiday schedule."""

    due: dt.date
    computed: bool


def deadline(
    start: dt.date | dt.datetime, days: int, calendar: WorkdayCalendar | None = None
) -> Deadline:
    calendar = calendar or workday_calendar()
    due = calendar.add_working_days(start, days)
    return Deadline(due=due, computed=bool(calendar.unpublished_years(start, due)))
