"""Periods count from the end of the act, on the Asia/Shanghai calendar whatever the offset
sent (SH 35, CRR 16); publication periods stay within the severity's tier (2025 No. 22)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from compliance import lifecycle
from compliance.services import ComplianceError
from gateway.models import ScoreEvent
from gateway.validation import Why
from tests import factories
from tests.conftest import body_json

SHANGHAI = ZoneInfo("Asia/Shanghai")
CITIZEN = "320505199003074510"
ACTOR = {"actor_kind": "regulator", "actor_id": "reg"}


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def old_rule(world, code="traffic.old_rule"):
    return factories.rule(code, departments=[world.dept_a], effective_from=dt.date(2015, 1, 1))


def submitted(world, record) -> ScoreEvent:
    response = world.submit(world.key_a, [record])
    assert response.status_code == 201, response.content
    return ScoreEvent.objects.get(pk=body_json(response)["events"][0]["id"])


def leap_day_record(occurred_at: str) -> dict:
    record = factories.deduction_record(CITIZEN, rule="traffic.old_rule", occurred_at=occurred_at)
    record["evidence"]["issued_on"] = "2024-03-01"
    return record


class TestShanghaiCalendar:
    def test_the_same_act_sent_with_minus_08_00_expires_on_the_same_day(self, world):
        # 20:00 on 28 February in UTC-8 is noon on 29 February 2024 in Suzhou.
        old_rule(world)
        west = submitted(world, leap_day_record("2024-02-28T20:00:00-08:00"))
        east = submitted(world, leap_day_record("2024-02-29T12:00:00+08:00"))
        expected = dt.datetime(2029, 2, 28, 12, 0, tzinfo=SHANGHAI)
        assert west.expires_at == expected
        assert east.expires_at == expected

    def test_a_leap_day_act_ends_its_period_on_28_february(self, world):
        old_rule(world)
        event = submitted(world, leap_day_record("2024-02-29T08:00:00+08:00"))
        assert event.expires_at.astimezone(SHANGHAI) == dt.datetime(
            2029, 2, 28, 8, 0, tzinfo=SHANGHAI
        )


class TestEndOfTheAct:
    def test_the_period_counts_from_ended_at(self, world):
        record = factories.deduction_record(CITIZEN, ended_at="2026-11-20T18:00:00+08:00")
        event = submitted(world, record)
        assert event.ended_at == dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
        assert event.expires_at == dt.datetime(2031, 11, 20, 18, 0, tzinfo=SHANGHAI)

    def test_without_ended_at_the_act_ends_when_it_occurred(self, world):
        event = submitted(world, factories.deduction_record(CITIZEN))
        assert event.ended_at is None
        assert event.expires_at == dt.datetime(2031, 11, 20, 8, 30, tzinfo=SHANGHAI)

    def test_a_continuing_act_older_than_the_period_but_ended_within_it_is_accepted(self, world):
        old_rule(world)
        record = factories.deduction_record(
            CITIZEN, rule="traffic.old_rule", occurred_at="2021-06-01T08:00:00+08:00"
        )
        record["evidence"]["issued_on"] = "2022-02-01"
        refused = world.submit(world.key_a, [record])
        assert refused.status_code == 400
        assert "SH 35" in body_json(refused)["problems"][0]["message"]
        record["ended_at"] = "2022-01-01T08:00:00+08:00"
        event = submitted(world, record)
        assert event.expires_at == dt.datetime(2027, 1, 1, 8, 0, tzinfo=SHANGHAI)

    @pytest.mark.parametrize(
        ("ended_at", "message"),
        [
            ("2026-11-19T08:00:00+08:00", Why.END_BEFORE_ACT),
            ("2099-01-01T08:00:00+08:00", Why.FUTURE_END),
            ("2026-11-20T18:00:00", Why.BAD_DATETIME),
            ("yesterday", Why.BAD_DATETIME),
        ],
    )
    def test_a_bad_ended_at_is_refused_and_nothing_stored(self, world, ended_at, message):
        response = world.submit(
            world.key_a, [factories.deduction_record(CITIZEN, ended_at=ended_at)]
        )
        assert response.status_code == 400
        problems = body_json(response)["problems"]
        assert {"record": 0, "path": "/records/0/ended_at", "message": str(message)} in problems
        assert not ScoreEvent.objects.exists()


class TestPublicationTiers:
    @pytest.mark.parametrize(
        ("severity", "months", "allowed"),
        [
            ("minor", 0, True),
            ("minor", 3, True),
            ("minor", 4, False),
            ("ordinary", 2, False),
            ("ordinary", 12, True),
            ("serious", 11, False),
            ("serious", 36, True),
            ("serious", 37, False),
        ],
    )
    def test_publication_stays_within_the_severitys_tier(self, world, severity, months, allowed):
        def create():
            return lifecycle.rule_draft_create(
                code=f"traffic.tier_{severity}_{months}",
                title_zh="x",
                title_en="x",
                points=-3,
                severity=severity,
                legal_basis_law="《中华人民共和国道路交通安全法》",
                legal_basis_article="第四十二条",
                effective_from=dt.date(2027, 1, 1),
                publication_months=months,
                **ACTOR,
            )

        if allowed:
            assert create().publication_months == months
        else:
            with pytest.raises(ComplianceError, match=r"2025 No\. 22"):
                create()

    def test_an_empty_publication_period_is_the_tiers_longest(self, world):
        assert (
            factories.rule("traffic.serious_one", severity="serious").effective_publication_months
            == 36
        )
        assert world.rule.effective_publication_months == 12

    def test_publication_never_outlasts_retention(self, world):
        with pytest.raises(ComplianceError, match="longer than it is kept"):
            lifecycle.rule_draft_create(
                code="traffic.short_kept",
                title_zh="x",
                title_en="x",
                points=-3,
                severity="serious",
                legal_basis_law="《中华人民共和国道路交通安全法》",
                legal_basis_article="第四十二条",
                effective_from=dt.date(2027, 1, 1),
                retention_years=1,
                publication_months=24,
                **ACTOR,
            )
