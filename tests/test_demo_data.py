"""Self-check of fixtures.demo_data (no Django needed).

Run: .venv/bin/pytest -p no:django tests/test_demo_data.py
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from fixtures.demo_data import (
    DEDUCTIONS_FROM,
    DEPARTMENTS,
    PURPOSES,
    REWARDS_FROM,
    RULES,
    STORIES,
    SUZHOU_DISTRICTS,
    THRESHOLDS,
    check_character,
    demo_records,
    story_records,
    story_residents,
    synthetic_residents,
)

DEPARTMENT_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
RULE_CODE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")
DEMO_TODAY = dt.date(2026, 11, 25)
LAST_ISSUE_DAY = dt.date(2026, 11, 20)
# LAW.md section A, Chinese terms; the data must never carry any of them.
PROHIBITED_TERMS = ("宗教", "信仰", "基因", "指纹", "血型", "疾病", "病史", "生物识别")

RESIDENTS = synthetic_residents()
RECORDS = demo_records(RESIDENTS)
DEPARTMENT_CODES = {d["code"] for d in DEPARTMENTS}
RULES_BY_CODE = {r["code"]: r for r in RULES}


def independent_check_character(first17: str) -> str:
    weights = [2 ** (17 - i) % 11 for i in range(17)]  # GB 11643: W_i = 2^(i-1) mod 11.
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights, strict=True)) % 11]


def test_minimum_sizes():
    assert len(RULES) >= 18
    assert len(DEPARTMENTS) >= 20
    assert len(PURPOSES) >= 5
    assert len(RESIDENTS) == 200


def test_check_character_matches_the_standard_example():
    assert check_character("11010519491231002") == "X"
    assert independent_check_character("11010519491231002") == "X"


def test_every_resident_id_is_valid_and_unique():
    ids = [r["citizen_id"] for r in RESIDENTS]
    assert len(set(ids)) == len(ids)
    for number in ids:
        assert re.fullmatch(r"[0-9]{17}[0-9X]", number)
        assert number[:6] in SUZHOU_DISTRICTS
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        assert dt.date(1950, 1, 1) <= born <= dt.date(2006, 12, 31)
        assert number[17] == independent_check_character(number[:17])


def test_residents_are_deterministic_and_synthetic():
    assert synthetic_residents() == RESIDENTS
    assert synthetic_residents(seed=7) != RESIDENTS
    emails = [r["email"] for r in RESIDENTS]
    assert len(set(emails)) == len(emails)
    assert all(e.endswith("@residents.example") for e in emails)
    assert all(2 <= len(r["name"]) <= 3 for r in RESIDENTS)


def test_codes_are_unique_and_well_formed():
    for items, pattern in ((DEPARTMENTS, DEPARTMENT_CODE), (THRESHOLDS, DEPARTMENT_CODE)):
        codes = [i["code"] for i in items]
        assert len(set(codes)) == len(codes)
        assert all(pattern.match(c) for c in codes)
    assert all(d["contact_email"] == f"{d['code']}@departments.example" for d in DEPARTMENTS)
    rule_codes = [r["code"] for r in RULES]
    assert len(set(rule_codes)) == len(rule_codes)
    assert all(RULE_CODE.match(c) for c in rule_codes)
    purpose_codes = [p["code"] for p in PURPOSES]
    assert len(set(purpose_codes)) == len(purpose_codes)
    assert all(DEPARTMENT_CODE.match(c) for c in purpose_codes)


def test_thresholds_are_within_the_score_range():
    assert all(0 <= t["minimum_score"] <= 200 for t in THRESHOLDS)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r["code"])
def test_rule_is_complete(rule):
    assert rule["departments"]
    assert set(rule["departments"]) <= DEPARTMENT_CODES
    assert rule["severity"] in {"ordinary", "serious"}
    assert -50 <= rule["points"] <= -1 or 1 <= rule["points"] <= 20
    if rule["severity"] == "serious":
        assert rule["points"] < 0
    assert rule["legal_basis_article"].startswith("第")
    assert "(Art" in rule["legal_basis_article"]
    assert "(" in rule["legal_basis_law"]
    assert len(rule["legal_basis_law"]) <= 200
    assert len(rule["legal_basis_article"]) <= 100
    assert len(rule["title_zh"]) <= 200 and len(rule["title_en"]) <= 200
    dt.date.fromisoformat(rule["effective_from"])
    assert rule["retention_years"] >= 1


def test_two_or_three_rules_are_serious():
    assert 2 <= sum(r["severity"] == "serious" for r in RULES) <= 3


def test_purposes_reference_existing_thresholds_and_departments():
    threshold_codes = {t["code"] for t in THRESHOLDS}
    for purpose in PURPOSES:
        assert purpose["discloses"] in {"eligibility", "score"}
        assert set(purpose["thresholds"]) <= threshold_codes
        assert purpose["departments"]
        assert set(purpose["departments"]) <= DEPARTMENT_CODES
        assert len(purpose["legal_basis_law"]) <= 200
        assert len(purpose["legal_basis_article"]) <= 100
        if purpose["discloses"] == "eligibility":
            assert purpose["thresholds"]


def test_records_use_allowed_pairs_and_known_residents():
    ids = {r["citizen_id"] for r in RESIDENTS}
    assert len(RECORDS) == 300
    for item in RECORDS:
        rule = RULES_BY_CODE[item["record"]["rule"]]
        assert item["department"] in rule["departments"]
        assert item["record"]["citizen_id"] in ids
        assert set(item["record"]) == {"citizen_id", "rule", "occurred_at", "evidence", "data"}


def test_every_allowed_pair_appears_in_the_demo():
    allowed = {(d, r["code"]) for r in RULES for d in r["departments"]}
    used = {(i["department"], i["record"]["rule"]) for i in RECORDS}
    assert used == allowed


def test_occurred_at_is_aware_and_after_the_rule_takes_effect():
    for item in RECORDS:
        record = item["record"]
        moment = dt.datetime.fromisoformat(record["occurred_at"])
        assert moment.utcoffset() == dt.timedelta(hours=8)
        rule = RULES_BY_CODE[record["rule"]]
        assert moment.date() >= dt.date.fromisoformat(rule["effective_from"])
        assert moment.date() <= DEMO_TODAY


def test_evidence_matches_the_sign_of_the_rule():
    for item in RECORDS:
        record = item["record"]
        evidence = record["evidence"]
        act = dt.datetime.fromisoformat(record["occurred_at"]).date()
        if RULES_BY_CODE[record["rule"]]["points"] < 0:
            assert set(evidence) == {"document", "issued_by", "issued_on", "procedure"}
            from_court = evidence["issued_by"].endswith("法院")
            assert evidence["procedure"] == ("judicial" if from_court else "general")
            issued = dt.date.fromisoformat(evidence["issued_on"])
            assert act <= issued <= LAST_ISSUE_DAY
            assert DEDUCTIONS_FROM <= issued < DEMO_TODAY
            assert act >= DEDUCTIONS_FROM
        else:
            assert set(evidence) == {"reference", "issued_by"}
            assert re.fullmatch(r"[A-Z]{2}-20[0-9]{2}-[0-9]{6}", evidence["reference"])
            assert act >= REWARDS_FROM
        assert evidence["issued_by"]


def test_documents_and_references_are_unique():
    keys = [
        i["record"]["evidence"].get("document") or i["record"]["evidence"]["reference"]
        for i in RECORDS
    ]
    assert len(set(keys)) == len(keys)


def test_data_holds_no_prohibited_category():
    for item in RECORDS:
        text = json.dumps(item["record"], ensure_ascii=False)
        assert not any(term in text for term in PROHIBITED_TERMS), text
        assert all(isinstance(v, str | int | float) for v in item["record"]["data"].values())


def test_records_are_deterministic():
    assert demo_records(RESIDENTS) == RECORDS
    assert demo_records(RESIDENTS, count=40, seed=1) == demo_records(RESIDENTS, count=40, seed=1)


def test_history_spans_five_years():
    years = {dt.datetime.fromisoformat(i["record"]["occurred_at"]).year for i in RECORDS}
    assert years >= {2021, 2022, 2023, 2024, 2025, 2026}


def test_the_story_residents_are_theirs_alone():
    story = story_residents(RESIDENTS)
    assert list(story) == list(STORIES)
    others = {i["record"]["citizen_id"] for i in RECORDS}
    assert not others & {r["citizen_id"] for r in story.values()}
    steps = [i["step"] for i in story_records(RESIDENTS) if i["step"]]
    assert sorted(steps) == ["object", "overturn", "repair"]
    for item in story_records(RESIDENTS):
        rule = RULES_BY_CODE[item["record"]["rule"]]
        assert item["department"] in rule["departments"]
        if rule["points"] < 0:
            act = dt.datetime.fromisoformat(item["record"]["occurred_at"]).date()
            assert act >= DEDUCTIONS_FROM
            assert act <= dt.date.fromisoformat(item["record"]["evidence"]["issued_on"])
