"""What strings carry: each decoder, the depth and size bounds, concealing characters, the
single-text entry point and the regulator's switch (compliance.decoders, compliance.screening)."""

from __future__ import annotations

import base64
import gzip
import json
import urllib.parse

import pytest

from compliance import selectors
from compliance.models import ScreeningDecoder
from compliance.policy_defaults import default_policy_spec
from compliance.screening import (
    CONCEALMENT,
    MAX_DECODE_DEPTH,
    PolicyError,
    PolicySpec,
    compile_policy,
)
from compliance.services import catalogue_object_save
from tests import factories
from tests.compliance.test_screening_corpus_api import _submit
from tests.conftest import body_json

SCREENER = compile_policy(default_policy_spec())
INNER = json.dumps({"blood_type": "AB"})


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def tags(text: str) -> str:
    return "".join(chr(0xE0000 + ord(char)) for char in text)


CARRIED = (
    ("json", INNER, "json › /blood_type"),
    ("base64", b64(INNER), "base64 › json › /blood_type"),
    (
        "gzip",
        base64.b64encode(gzip.compress(INNER.encode())).decode(),
        "base64 › json › /blood_type",
    ),
    ("data uri", "data:application/json;base64," + b64(INNER), "data_uri › json › /blood_type"),
    (
        "jwt",
        "eyJhbGciOiJub25lIn0."
        + base64.urlsafe_b64encode(INNER.encode()).decode().rstrip("=")
        + ".",
        "jwt › /payload/blood_type",
    ),
    ("url", urllib.parse.quote("血型为AB型"), "url"),
    ("form", "id=7&blood_type=AB", "form › /1/blood_type"),
    ("entities", "&#34880;&#22411;&#20026;AB&#22411;", "html_entities"),
    ("xml", "<r><bloodType>A</bloodType></r>", "markup › /1/bloodType"),
    ("csv", "id,blood_type\n1,A", "csv › /0/blood_type"),
    ("yaml", "id: 1\nbldGrp: A", "yaml › /1/bldGrp"),
    ("hl7", "MSH|^~\\&|X\rDG1|1||I10", "hl7 › /1/diagnosis"),
    ("tags", "ok" + tags("blood type AB"), "unicode_tags"),
)


@pytest.mark.parametrize(("name", "value", "via"), CARRIED, ids=[c[0] for c in CARRIED])
def test_data_carried_in_a_string_is_reported_at_the_string_with_its_formats(name, value, via):
    violations = SCREENER.screen({"data": {"note": value}})
    hits = [(v.path, v.via) for v in violations if v.category != CONCEALMENT]
    assert hits == [("/data/note", via)]
    assert violations == SCREENER.screen_exhaustive({"data": {"note": value}})


@pytest.mark.parametrize(
    "value",
    ["Paid 50% on time & in full", "A<B road", "ID=42", b64("an ordinary receipt note"),
     "9f2c1e7a" * 8, "320505199003074510", "2026-11-21T08:30:00+08:00"],
)  # fmt: skip
def test_ordinary_strings_that_look_encoded_pass(value):
    assert SCREENER.screen({"note": value}) == []


def test_nesting_deeper_than_the_bound_is_itself_reported():
    value = INNER
    for _ in range(MAX_DECODE_DEPTH + 1):
        value = json.dumps({"x": value})
    violations = SCREENER.screen({"note": value})
    assert [(v.path, v.category, v.term) for v in violations] == [
        ("/note", CONCEALMENT, "encoding nested too deeply")
    ]


def test_nesting_within_the_bound_is_read():
    value = INNER
    for _ in range(MAX_DECODE_DEPTH - 1):
        value = json.dumps({"x": value})
    assert [v.category for v in SCREENER.screen({"note": value})] == ["blood_type"]


def test_a_decompression_bomb_is_read_only_to_its_bound():
    bomb = base64.b64encode(gzip.compress(b"0" * 50_000_000)).decode()
    assert SCREENER.screen({"note": bomb}) == []


@pytest.mark.parametrize("control", ["\u202e", "\u2066", "\u202a"])
def test_bidirectional_controls_in_a_key_are_reported(control):
    violations = SCREENER.screen({f"{control}name": "x"})
    assert [(v.category, v.term) for v in violations] == [(CONCEALMENT, "bidirectional controls")]


def test_tag_characters_are_removed_before_matching_and_reported():
    violations = SCREENER.screen({"blood" + tags("x") + "_type": "A"})
    assert {v.category for v in violations} == {"blood_type", CONCEALMENT}


def test_screen_value_screens_one_text():
    assert [v.category for v in SCREENER.screen_value("当事人患有糖尿病")] == ["medical_history"]
    assert [v.via for v in SCREENER.screen_value(b64("他信仰伊斯兰教"))] == ["base64"]
    assert SCREENER.screen_value("糖尿病防治宣传志愿者") == []
    with pytest.raises(TypeError):
        SCREENER.screen_value({"not": "text"})


def test_a_decoder_switched_off_in_the_policy_is_not_applied():
    spec = default_policy_spec()
    without_base64 = compile_policy(
        PolicySpec(spec.version, spec.categories, decoders=frozenset({"json"}))
    )
    assert without_base64.screen({"note": b64(INNER)}) == []
    assert [v.via for v in without_base64.screen({"note": INNER})] == ["json › /blood_type"]


def test_an_unknown_decoder_is_refused_at_compile_time():
    spec = default_policy_spec()
    with pytest.raises(PolicyError, match="unknown decoders"):
        compile_policy(PolicySpec(spec.version, spec.categories, decoders=frozenset({"rot13"})))


@pytest.mark.django_db
def test_every_decoder_ships_enabled_with_its_source_named():
    assert set(ScreeningDecoder.objects.values_list("code", flat=True)) == set(SCREENER.decoders)
    assert not ScreeningDecoder.objects.filter(is_enabled=False).exists()


@pytest.mark.django_db
def test_a_regulator_switching_a_decoder_off_changes_the_screen_through_the_api(client):
    department = factories.department("corpus_department")
    factories.rule("volunteer.service_hours", points=2, departments=[department])
    key = factories.api_key(department)
    record = {
        "citizen_id": "320505199003074510",
        "rule": "volunteer.service_hours",
        "occurred_at": "2026-09-01T14:00:00+08:00",
        "evidence": {"reference": "VOL-1"},
        "data": {"note": b64(INNER)},
    }
    refused = _submit(client, [record], key)
    assert refused.status_code == 422
    # The API names the formats only, never a member name found inside them.
    assert body_json(refused)["violations"][0]["via"] == "base64 › json"

    before = selectors.current_screener()[0]
    decoder = ScreeningDecoder.objects.get(code="base64")
    decoder.is_enabled = False
    catalogue_object_save(
        decoder, actor_kind="regulator", actor_id="r1", changed_fields=["is_enabled"]
    )
    version, screener = selectors.current_screener()
    assert version == before + 1
    assert "base64" not in screener.decoders
    assert _submit(client, [record], key).status_code != 422


@pytest.mark.django_db
def test_free_text_is_screened_under_the_policy_in_force():
    (violation,) = selectors.screen_free_text("我信仰基督教，每周做礼拜。")
    assert (violation.path, violation.category) == ("", "religious_belief")
    assert "基督" not in violation.term
    assert selectors.screen_free_text("申请复核：罚款金额有误，请更正。") == []
