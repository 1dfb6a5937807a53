"""The demo city's story, told once through the real services (seed_demo).

After the records (fixtures.demo_data.story_records) are in the store:

- departments read the three story residents' scores under their purposes (and one
  department asks under a purpose it was not granted, which is refused and recorded);
- two departments send a record with prohibited data, refused and recorded, so the
  regulator's findings have refusals to show;
- the "open" resident objects to a recent deduction, assigned to a demo reviewer;
- the "high" resident's objection was overturned (filed and decided in the past weeks);
- two other residents' objections were decided, one upheld late, one corrected on time;
- the "low" resident's judgment debt was repaired by the water utility.

Idempotent: nothing is done again once the "open" resident has an objection.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json

from django.utils import timezone

from compliance.models import Department
from fixtures import demo_data
from gateway.errors import GatewayError
from gateway.identity import vault
from gateway.models import (
    Appeal,
    AppealOutcome,
    Citizen,
    EventKind,
    EventStatus,
    RepairStatus,
    ScoreEvent,
)
from gateway.principals import DepartmentPrincipal
from gateway.services.appeals import appeal_decide, appeal_file
from gateway.services.reads import score_read_by_department
from gateway.services.repairs import repair_apply, repair_decide
from gateway.services.submissions import submission_accept

# (story, department, purpose): reads by several departments under their purposes.
READS = (
    ("open", "development_reform", "loan_eligibility"),
    ("open", "transport", "public_transport_benefit"),
    ("open", "culture_tourism", "library_deposit_waiver"),
    ("high", "housing_construction", "rental_deposit_waiver"),
    ("high", "development_reform", "loan_eligibility"),
    ("high", "market_regulation", "administrative_licensing_check"),
    ("low", "civil_affairs", "social_assistance_review"),
    ("low", "development_reform", "credit_repair_review"),
    ("low", "transport", "administrative_licensing_check"),
)
# A read the catalogue does not allow this department: refused and recorded.
REFUSED_READ = ("open", "tax", "loan_eligibility")
# Records a department should never send (SH 14): refused whole and recorded.
PROHIBITED = (
    ("traffic_police", "traffic.red_light", {"location": "干将路", "血型": "A"}),
    ("market_regulation", "market.unlicensed_food_business", {"fingerprint": "e3b0c442"}),
)


def tell(departments: dict[str, Department]) -> bool:
    """Tell the story unless it was told; True when it was told now."""
    residents = demo_data.story_residents(demo_data.synthetic_residents())
    citizens = {name: _citizen(r["citizen_id"]) for name, r in residents.items()}
    if any(c is None for c in citizens.values()):
        return False
    if Appeal.objects.filter(citizen=citizens["open"]).exists():
        return False
    now = timezone.now()
    _reads(departments, residents)
    _refusals(departments, residents)
    steps = {
        item["step"]: item for item in demo_data.story_records(demo_data.synthetic_residents())
    }
    _objection_open(citizens["open"], steps["object"])
    _objection_overturned(citizens["high"], steps["overturn"], now)
    _other_objections(citizens, now)
    _repair(departments, citizens["low"], steps["repair"], now)
    return True


def _citizen(number: str) -> Citizen | None:
    return Citizen.objects.filter(identity_index=vault().blind_index(number)).first()


def _event(citizen: Citizen, item: dict) -> ScoreEvent:
    return ScoreEvent.objects.get(
        citizen=citizen,
        kind=EventKind.RECORD,
        rule__code=item["record"]["rule"],
        occurred_at=dt.datetime.fromisoformat(item["record"]["occurred_at"]),
    )


def _principal(department: Department) -> DepartmentPrincipal:
    return DepartmentPrincipal(department=department, key_id="seed_demo")


def _reads(departments, residents) -> None:
    for story, code, purpose in READS:
        score_read_by_department(
            principal=_principal(departments[code]),
            citizen_id=residents[story]["citizen_id"],
            purpose_code=purpose,
        )
    story, code, purpose = REFUSED_READ
    with contextlib.suppress(GatewayError):
        score_read_by_department(
            principal=_principal(departments[code]),
            citizen_id=residents[story]["citizen_id"],
            purpose_code=purpose,
        )


def _refusals(departments, residents) -> None:
    for n, (code, rule, data) in enumerate(PROHIBITED, start=1):
        record = {
            "citizen_id": residents["low"]["citizen_id"],
            "rule": rule,
            "occurred_at": "2026-11-02T10:00:00+08:00",
            "evidence": {
                "document": f"demo-refused-{n}",
                "issued_by": departments[code].title_zh,
                "issued_on": "2026-11-03",
                "procedure": "general",
            },
            "data": data,
        }
        body = json.dumps(
            {"idempotency_key": f"demo-refused-{n}", "records": [record]}, ensure_ascii=False
        ).encode()
        with contextlib.suppress(GatewayError):
            submission_accept(principal=_principal(departments[code]), body=body)


def _objection_open(citizen: Citizen, item: dict) -> None:
    appeal_file(
        citizen=citizen,
        event=_event(citizen, item),
        statement="那天我的车停在小区车库，没有上路。请核对监控记录。",
    )


def _objection_overturned(citizen: Citizen, item: dict, now: dt.datetime) -> None:
    filed = now - dt.timedelta(days=12)
    appeal = appeal_file(
        citizen=citizen,
        event=_event(citizen, item),
        statement="这家店铺已于2025年9月转让，处罚决定书上的经营者不是我。",
        now=filed,
    )
    appeal_decide(
        appeal=appeal,
        reviewer=appeal.reviewer,
        outcome=AppealOutcome.OVERTURNED,
        reason="营业执照变更记录显示店铺已转让，处罚对象有误。",
        now=filed + dt.timedelta(days=4),
    )


def _other_objections(citizens: dict[str, Citizen], now: dt.datetime) -> None:
    """Two more decided objections, so the regulator's charts show outcomes and times."""
    story_ids = {c.pk for c in citizens.values()}
    events = (
        ScoreEvent.objects.filter(
            kind=EventKind.RECORD, points__lt=0, status=EventStatus.ACTIVE, appeals__isnull=True
        )
        .exclude(citizen_id__in=story_ids)
        .exclude(department__code__in=("civil_affairs", "development_reform"))
        .order_by("pk")
    )
    chosen = []
    for event in events:
        if all(e.citizen_id != event.citizen_id for e in chosen):
            chosen.append(event)
        if len(chosen) == 2:
            break
    plans = (
        # (filed days ago, decided days ago, outcome, points)
        (30, 16, AppealOutcome.UPHELD, None),
        (20, 17, AppealOutcome.CORRECTED, None),
    )
    for event, (filed_ago, decided_ago, outcome, _) in zip(chosen, plans, strict=False):
        appeal = appeal_file(
            citizen=event.citizen,
            event=event,
            statement="我对这条记录的事实有异议，请核实。",
            now=now - dt.timedelta(days=filed_ago),
        )
        if appeal.reviewer is None:
            continue
        points = event.points // 2 if outcome == AppealOutcome.CORRECTED else None
        appeal_decide(
            appeal=appeal,
            reviewer=appeal.reviewer,
            outcome=outcome,
            reason=(
                "处罚决定书与现场照片一致，记录维持。"
                if outcome == AppealOutcome.UPHELD
                else "违法情节较轻，分值按规则减半。"
            ),
            points=points,
            now=now - dt.timedelta(days=decided_ago),
        )


def _repair(departments, citizen: Citizen, item: dict, now: dt.datetime) -> None:
    repair = repair_apply(
        citizen=citizen,
        event=_event(citizen, item),
        statement="欠缴水费已于判决后全额缴清，附缴费凭证。",
        reference="WU-2024-PAID-0612",
        now=now - dt.timedelta(days=9),
    )
    repair_decide(
        department=departments[item["department"]],
        repair_id=repair.pk,
        decision=RepairStatus.CONFIRMED,
        reason="已核实全额缴清。",
        actor_id="seed_demo",
        now=now - dt.timedelta(days=6),
    )
