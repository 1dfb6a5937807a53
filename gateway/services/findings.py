"""The regulator's findings report: what the gateway refused, deducted and decided.

Counts only, never a resident: refusals of prohibited data by department, category and
month; deductions by rule; objections by outcome and the working days each decision
took against its statutory deadline (SH 36, ZJ 31). Names come in the reader's language
(``title_zh`` or ``title_en``), from the catalogue.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth
from django.utils.translation import get_language

from compliance.models import Department, Rule, ScreeningCategory, ScreeningRefusal
from compliance.selectors import workday_calendar
from compliance.workdays import to_local_date
from gateway.models import Appeal, AppealOutcome, AppealStatus, EventKind, ScoreEvent
from gateway.services.appeals import DECISION_WORKING_DAYS

DECIDED = (AppealStatus.DECIDED, AppealStatus.REVIEWED)


@dataclass
class Findings:
    refusals_by_department: list[tuple[str, int]] = field(default_factory=list)
    refusals_by_category: list[tuple[str, int]] = field(default_factory=list)
    refusals_by_month: list[tuple[str, int]] = field(default_factory=list)
    deductions_by_rule: list[tuple[str, int, int]] = field(default_factory=list)
    appeal_outcomes: list[tuple[str, int]] = field(default_factory=list)
    appeals_open: int = 0
    decisions: list[dict] = field(default_factory=list)
    decision_working_days: int = DECISION_WORKING_DAYS

    @property
    def decided_on_time(self) -> int:
        return sum(1 for d in self.decisions if d["on_time"])

    @property
    def decided_late(self) -> int:
        return sum(1 for d in self.decisions if not d["on_time"])


def _chinese() -> bool:
    return (get_language() or "").lower().startswith("zh")


def _title(obj) -> str:
    return obj.title_zh if _chinese() else obj.title_en


def findings_report() -> Findings:
    """The report's figures, read in two handfuls of grouped queries."""
    report = Findings()
    departments = {d.pk: _title(d) for d in Department.objects.all()}
    by_department = (
        ScreeningRefusal.objects.values("department_id")
        .annotate(n=Count("id"))
        .order_by("-n", "department_id")
    )
    report.refusals_by_department = [
        (departments.get(row["department_id"], "?"), row["n"]) for row in by_department
    ]
    categories: Counter[str] = Counter()
    for codes in ScreeningRefusal.objects.values_list("categories", flat=True).iterator():
        categories.update(set(codes or ()))
    titles = {c.code: _title(c) for c in ScreeningCategory.objects.all()}
    report.refusals_by_category = [
        (titles.get(code, code), n)
        for code, n in sorted(categories.items(), key=lambda item: (-item[1], item[0]))
    ]
    months = (
        ScreeningRefusal.objects.annotate(month=TruncMonth("refused_at"))
        .values("month")
        .annotate(n=Count("id"))
        .order_by("month")
    )
    report.refusals_by_month = [(row["month"].strftime("%Y-%m"), row["n"]) for row in months]

    rules = {r.pk: _title(r) for r in Rule.objects.all()}
    deductions = (
        ScoreEvent.objects.filter(kind=EventKind.RECORD, points__lt=0)
        .values("rule_id")
        .annotate(n=Count("id"), points=Sum("points"))
        .order_by("-n", "rule_id")
    )
    report.deductions_by_rule = [
        (rules.get(row["rule_id"], "?"), row["n"], -(row["points"] or 0)) for row in deductions
    ]

    outcomes = Counter(Appeal.objects.filter(status__in=DECIDED).values_list("outcome", flat=True))
    labels = dict(AppealOutcome.choices)
    report.appeal_outcomes = [
        (str(labels[value]), outcomes.get(value, 0)) for value in AppealOutcome.values
    ]
    report.appeals_open = Appeal.objects.exclude(status__in=DECIDED).count()
    calendar = workday_calendar()
    for appeal in (
        Appeal.objects.filter(status__in=DECIDED, decided_at__isnull=False)
        .select_related("event__department")
        .order_by("-decided_at")[:200]
    ):
        decided_on = appeal.decided_at
        report.decisions.append(
            {
                "appeal": appeal.pk,
                "department": _title(appeal.event.department),
                "outcome": str(labels.get(appeal.outcome, appeal.outcome)),
                "filed": appeal.filed_at,
                "decided": decided_on,
                "due": appeal.decision_due,
                "working_days": calendar.working_days_between(appeal.filed_at, decided_on),
                "on_time": to_local_date(decided_on) <= appeal.decision_due,
            }
        )
    return report
