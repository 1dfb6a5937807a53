import datetime as dt

import pytest
from credit_gateway_client.validation import identity_number_valid, record_problems

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
GOOD = "320505199003074510"


def deduction(**overrides):
    record = {
        "citizen_id": GOOD,
        "rule": "traffic.failure_to_yield",
        "occurred_at": "2026-11-20T08:30:00+08:00",
        "evidence": {
            "document": "苏公交决字〔2026〕第123号",
            "issued_by": "苏州市公安局交通警察支队",
            "issued_on": "2026-11-21",
            "procedure": "general",
        },
    }
    record.update(overrides)
    return record


def paths(record):
    return [problem["path"] for problem in record_problems(record, now=NOW, lang="en")]


def test_a_good_identity_number_passes_and_each_corruption_fails():
    assert identity_number_valid(GOOD)
    assert identity_number_valid("11010519491231002X")
    assert not identity_number_valid("320505199003074511")  # check digit
    assert not identity_number_valid("320505199002304510")  # 30 February
    assert not identity_number_valid("32050519900307451")  # length
    assert not identity_number_valid("32050519900307451x")  # lower-case x


def test_a_complete_deduction_and_a_reward_have_no_problems():
    assert paths(deduction()) == []
    reward = {
        "citizen_id": GOOD,
        "rule": "volunteer.service_hours",
        "occurred_at": "2026-11-01T09:00:00+08:00",
        "evidence": {"reference": "VF-2026-1"},
    }
    assert paths(reward) == []


@pytest.mark.parametrize(
    ("overrides", "path"),
    [
        ({"citizen_id": "320505199003074511"}, "/citizen_id"),
        ({"citizen_id": ""}, "/citizen_id"),
        ({"rule": "Not A Rule"}, "/rule"),
        ({"occurred_at": "2026-11-20 08:30"}, "/occurred_at"),
        ({"occurred_at": "2027-01-01T00:00:00+08:00"}, "/occurred_at"),
        ({"evidence": {}}, "/evidence"),
        ({"evidence": {"document": "x", "issued_by": "y", "issued_on": "2026-11-21"}},
         "/evidence/procedure"),
        ({"evidence": {"document": "x", "issued_by": "y", "issued_on": "2026-11-21",
                       "procedure": "summary"}}, "/evidence/procedure"),
        ({"evidence": {"document": "x", "issued_by": "y", "issued_on": "2026-11-19",
                       "procedure": "general"}}, "/evidence/issued_on"),
        ({"evidence": {"document": "x", "issued_by": "y", "issued_on": "21/11/2026",
                       "procedure": "general"}}, "/evidence/issued_on"),
    ],
)  # fmt: skip
def test_each_bad_field_is_named(overrides, path):
    assert path in paths(deduction(**overrides))


def test_problems_never_copy_the_identity_number():
    problems = record_problems(deduction(citizen_id="320505199003074511"), now=NOW, lang="zh")
    assert "320505199003074511" not in str(problems)
    assert problems[0]["message"].startswith("不是")


def test_the_client_imports_neither_django_nor_the_gateway():
    import subprocess
    import sys

    modules = ["cli", "proofs", "receipts", "signing", "sources", "submit", "transport",
               "validation", "verify_export"]  # fmt: skip
    imports = "; ".join(f"import credit_gateway_client.{name}" for name in modules)
    check = (
        f"import sys; {imports}; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('django', 'gateway', 'audit')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
