"""The screening corpus through the real submission API (POST /api/v1/submissions)."""

from __future__ import annotations

import pytest

from gateway.models import ScoreEvent
from tests import factories
from tests.compliance.corpus import load_corpus
from tests.conftest import body_json, named_path

REWARDS = {
    "civil.model_family": 5,
    "utilities.bill_on_time": 1,
    "volunteer.blood_donation": 3,
    "volunteer.service_hours": 2,
}
DEDUCTIONS = {
    "court.unpaid_judgment_debt": -20,
    "housing.fund_default": -10,
    "social.insurance_evasion": -15,
    "tax.arrears": -10,
    "traffic.failure_to_yield": -3,
    "traffic.red_light": -3,
}


@pytest.fixture
def corpus_key(db):
    department = factories.department("corpus_department")
    for code, points in {**REWARDS, **DEDUCTIONS}.items():
        factories.rule(code, points=points, departments=[department])
    return factories.api_key(department)


def _submit(client, records, key):
    return client.generic(
        "POST",
        "/api/v1/submissions",
        factories.body(records),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {key}",
    )


PROHIBITED = load_corpus("prohibited") + load_corpus("prohibited_adversarial")
ORDINARY = load_corpus("ordinary") + load_corpus("ordinary_adversarial")
# Records per API call: the corpus goes through the real API in a few dozen calls.
BATCH = 50


def test_the_corpus_is_large_enough():
    assert len(PROHIBITED) >= 600
    assert len(ORDINARY) >= 400


def test_the_corpus_covers_every_class_of_evasion():
    notes = " ".join(line["note"] for line in PROHIBITED)
    for evasion in (
        "json", "base64", "gzip", "data uri", "jwt", "url", "form", "html entities", "xml",
        "csv", "yaml", "hl7", "fhir", "split key", "table", "pair", "tag characters", "bidi",
        "abbreviation", "pinyin initials", "traditional", "misspelt", "sentence",
    ):  # fmt: skip
        assert evasion in notes, evasion


BATCHES = [PROHIBITED[start : start + BATCH] for start in range(0, len(PROHIBITED), BATCH)]


@pytest.mark.parametrize("batch", BATCHES, ids=[f"{b[0]['id']}..{b[-1]['id']}" for b in BATCHES])
def test_every_prohibited_record_is_refused_with_its_category_and_path(client, corpus_key, batch):
    response = _submit(client, [line["record"] for line in batch], corpus_key)
    assert response.status_code == 422, response.content.decode()[:500]
    # A member whose own name is prohibited is named by its position: resolved here as
    # the department would, it is the member the corpus expects.
    document = {"records": [line["record"] for line in batch]}
    found = {
        (named_path(document, v["path"]), v["category"]) for v in body_json(response)["violations"]
    }
    expected = {
        (f"/records/{index}{e['path']}", e["category"])
        for index, line in enumerate(batch)
        for e in line["expect"]
    }
    wrong = {
        batch[int(path.split("/")[2])]["id"]: (path, category)
        for path, category in found ^ expected
    }
    assert not wrong, wrong
    assert ScoreEvent.objects.count() == 0


def test_data_carried_in_a_string_names_the_formats_unwrapped(client, corpus_key):
    line = next(x for x in PROHIBITED if x["note"] == "base64 json: field blood_type")
    response = _submit(client, [line["record"]], corpus_key)
    assert response.status_code == 422
    (violation,) = body_json(response)["violations"]
    assert violation == {
        "record": 0,
        "path": "/records/0/data/note",
        "category": "blood_type",
        "via": "base64 › json",
    }


def test_ordinary_records_are_accepted(client, corpus_key):
    refused_for_screening = []
    for start in range(0, len(ORDINARY), BATCH):
        chunk = ORDINARY[start : start + BATCH]
        response = _submit(client, [line["record"] for line in chunk], corpus_key)
        if response.status_code == 422:
            paths = {v["record"] for v in body_json(response)["violations"]}
            refused_for_screening += [chunk[i]["id"] for i in sorted(paths)]
            continue
        assert response.status_code == 201, response.content.decode()[:1000]
    # The issue allows at most 0.5% of ordinary records refused; the corpus expects none.
    assert len(refused_for_screening) <= len(ORDINARY) // 200, refused_for_screening
    assert refused_for_screening == []
