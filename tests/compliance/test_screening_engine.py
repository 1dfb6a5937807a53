"""Tests for compliance.screening with the shipped policy (no Django needed).

LAW.md section A: religious belief, genes, fingerprints, blood type and medical history
(SH 14, ZJ 14, CRR 14, TJ 16) and other biometrics (TJ 16, PIPL 28) must never be collected.
"""

from __future__ import annotations

import json
import re

import pytest

from compliance.policy_defaults import DEFAULT_CATEGORIES, default_policy_spec
from compliance.screening import (
    CategorySpec,
    PolicyError,
    PolicySpec,
    Violation,
    compile_policy,
    normalise_key,
)
from tests.compliance.corpus import load_corpus

SCREENER = compile_policy(default_policy_spec())
PROHIBITED = load_corpus("prohibited")
ORDINARY = load_corpus("ordinary")
LAW_CATEGORIES = {
    "religious_belief",
    "genetic",
    "fingerprint",
    "blood_type",
    "medical_history",
    "biometric",
}
# Every name a violation may give: the shipped terms and patterns, and the concealment kinds.
POLICY_NAMES = {term for c in default_policy_spec().categories for term in c.key_terms} | {
    name for c in default_policy_spec().categories for name, _pattern in c.value_patterns
} | {"unicode tag characters", "bidirectional controls", "encoding nested too deeply",
     "decoded size over the limit"}  # fmt: skip
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def found(document) -> set[tuple[str, str]]:
    return {(v.path, v.category) for v in SCREENER.screen(document)}


def expected(line) -> set[tuple[str, str]]:
    return {(e["path"], e["category"]) for e in line["expect"]}


def valid_citizen_id(number: str) -> bool:
    if not re.fullmatch(r"\d{17}[\dX]", number):
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == number[17]


# --------------------------------------------------------------------------- corpus


def test_corpus_is_large_and_covers_every_category():
    assert len(PROHIBITED) >= 320
    assert len(ORDINARY) >= 320
    assert {e["category"] for line in PROHIBITED for e in line["expect"]} == LAW_CATEGORIES
    assert all(line["expect"] for line in PROHIBITED)
    assert not any(line["expect"] for line in ORDINARY)


def test_corpus_uses_valid_resident_ids():
    for line in PROHIBITED + ORDINARY:
        assert valid_citizen_id(line["record"]["citizen_id"]), line["id"]


@pytest.mark.parametrize("line", PROHIBITED, ids=[line["id"] for line in PROHIBITED])
def test_prohibited_record_is_refused_exactly_where_expected(line):
    assert found(line["record"]) == expected(line), line["note"]


def test_ordinary_records_are_accepted():
    refused = [line["id"] for line in ORDINARY if SCREENER.screen(line["record"])]
    assert len(refused) <= len(ORDINARY) // 100, refused


def test_fast_screen_agrees_with_exhaustive_screen_on_the_corpus():
    for line in PROHIBITED + ORDINARY:
        record = line["record"]
        assert SCREENER.screen(record) == SCREENER.screen_exhaustive(record), line["id"]


def test_whole_batch_is_screened_with_record_paths():
    batch = {"records": [line["record"] for line in ORDINARY[:40] + PROHIBITED[:5]]}
    paths = {v.path for v in SCREENER.screen(batch)}
    wanted = {
        f"/records/{40 + i}{e['path']}"
        for i, line in enumerate(PROHIBITED[:5])
        for e in line["expect"]
    }
    assert paths == wanted


def test_escaped_body_is_screened_like_the_plain_one():
    batch = {"records": [line["record"] for line in PROHIBITED[:60]]}
    plain = json.dumps(batch, ensure_ascii=False)
    escaped = json.dumps(batch)  # every Chinese character as \uXXXX
    assert "\\u8840" in escaped or "\\u" in escaped
    result = SCREENER.screen_text(plain, json.loads(plain))
    assert result == SCREENER.screen_text(escaped, json.loads(escaped))
    assert result == SCREENER.screen(batch)


def test_violation_names_a_policy_term_or_pattern_never_the_value():
    for line in PROHIBITED:
        for violation in SCREENER.screen(line["record"]):
            assert violation.term in POLICY_NAMES
            assert isinstance(violation, Violation)


# --------------------------------------------------------------------------- keys


@pytest.mark.parametrize(
    ("key", "category"),
    [
        ("blood_type", "blood_type"),
        ("personBloodTypeAbo", "blood_type"),
        ("ｂｌｏｏｄ＿ｔｙｐｅ", "blood_type"),
        ("blo\u200bod\u2060_type", "blood_type"),
        ("bl\u0301ood_type", "blood_type"),
        ("blооd_type", "blood_type"),  # Cyrillic о
        ("bl00d_type", "blood_type"),
        ("bIood_type", "blood_type"),
        ("血\ufeff型", "blood_type"),
        ("xuèxíng", "blood_type"),
        ("AB0", "blood_type"),
        ("applicantReligion", "religious_belief"),
        ("ZongJiaoXinYang", "religious_belief"),
        ("宗教信仰", "religious_belief"),
        ("sampleDNA", "genetic"),
        ("jī_yīn_jiǎn_cè", "genetic"),
        ("遺傳", "genetic"),
        ("指紋", "fingerprint"),
        ("thumbprint", "fingerprint"),
        ("ICD-10", "medical_history"),
        ("診斷", "medical_history"),
        ("jiBing", "medical_history"),
        ("生物識別", "biometric"),
        ("faceTemplate", "biometric"),
        ("ren_lian_shi_bie", "biometric"),
    ],
)
def test_key_is_caught_in_any_spelling(key, category):
    assert category in {c for c, _ in SCREENER.key_categories(key)}


@pytest.mark.parametrize(
    "key",
    [
        "blood_donation_hours",
        "献血量",
        "type",
        "category",
        "good_faith_payment",
        "document_fingerprint",
        "certificate_thumbprint",
        "文件指纹",
        "fault_diagnosis",
        "故障诊断",
        "疾病预防控制中心",
        "christian_name",
        "temple_fair_booth",
        "field_name",
        "surface_id",
        "road_surface_image",
        "irish_dance_club",
        "birth_date",
        "about",
        "lcd_display_code",
        "general_ledger",
        "invoice_no",
        "hospitality_tax",
        "medical_insurance_no",
        "health_code",
        "zhiwenjian",
    ],
)
def test_ordinary_key_is_not_caught(key):
    assert SCREENER.key_categories(key) == ()


DEFAULT_TERMS = [
    (category.code, term) for category in DEFAULT_CATEGORIES for term in category.key_terms
]


@pytest.mark.parametrize(("category", "term"), DEFAULT_TERMS)
def test_every_default_term_catches_its_own_key(category, term):
    """A term written as a key, snake_case or UPPER, is caught; an exception is let through;
    a context term ("~rh") is caught beside a person and let through alone."""
    words = term.lstrip("!=*~").strip()
    spellings = {words, words.replace(" ", "_"), words.replace(" ", "_").upper()}
    if term.startswith("~"):
        for key in spellings:
            assert category not in {code for code, _ in SCREENER.key_categories(key)}, key
        spellings = {f"patient_{key}" for key in spellings}
    for key in spellings:
        caught = {code for code, _ in SCREENER.key_categories(key)}
        if term.startswith("!"):
            assert category not in caught, key
        else:
            assert category in caught, key


def test_short_terms_match_whole_tokens_only():
    assert SCREENER.key_categories("rh_factor")
    assert SCREENER.key_categories("bloodRh")
    assert SCREENER.key_categories("ABOGroup")
    assert not SCREENER.key_categories("northern_branch")  # "rh" inside a word
    assert not SCREENER.key_categories("about_abode")


def test_decision_religious_site_volunteering_key_is_refused():
    # The department's own field name classifies the activity by religion (see policy_defaults).
    ((category, term),) = SCREENER.key_categories("religious_site_cleanup_volunteer")
    # "religio" is also "religion" misspelt by one letter: either term names the finding.
    assert (category, term) in {("religious_belief", "religious"), ("religious_belief", "religion")}


def test_normalise_key_folds_every_spelling_alike():
    spellings = [
        "Blood Type",
        "blood-type",
        "BLOOD.TYPE",
        "ｂｌｏｏｄ＿ｔｙｐｅ",
        "blооd\u200btype",
    ]
    assert {normalise_key(s) for s in spellings} == {"bloodtype"}


# --------------------------------------------------------------------------- values


@pytest.mark.parametrize(
    ("value", "category"),
    [
        ("O型", "blood_type"),
        ("AB型血", "blood_type"),
        ("血型O", "blood_type"),
        ("血型为AB型", "blood_type"),
        ("Rh阴性", "blood_type"),
        ("Rh negative", "blood_type"),
        ("AB Rh-", "blood_type"),
        ("blood type: A+", "blood_type"),
        ("他信仰基督教", "religious_belief"),
        ("is a practising Muslim", "religious_belief"),
        ("attends mosque every Friday", "religious_belief"),
        ("确诊为糖尿病", "medical_history"),
        ("患有高血压", "medical_history"),
        ("住院治疗", "medical_history"),
        ("was diagnosed with asthma", "medical_history"),
        ("hospitalised for pneumonia", "medical_history"),
        ("ICD-10: E11.9", "medical_history"),
        ("诊断：J45", "medical_history"),
        ("基因检测结果：阳性", "genetic"),
        ("ACGTTGCAACGTTGCAACGTAC", "genetic"),
        ("acgugcaucgaucgaucgauuagc", "genetic"),
        ("rs12345678", "genetic"),
        ("BRCA1 positive", "genetic"),
        ("APOE ε4", "genetic"),
        ("23andMe", "genetic"),
        ("Rk1SACAyMAAAAAFsAAABBAHE", "fingerprint"),
        ("464d520020323000", "fingerprint"),
        ("FMR\x00 20\x00abc", "fingerprint"),
        ("RkFDADAxMAAAAAFsAAA", "biometric"),
        ("人脸特征数据已录入", "biometric"),
        ("ＡＢ型血", "blood_type"),
        ("确\u200b诊为肺结核", "medical_history"),
        ("dіagnosed with asthma", "medical_history"),  # Cyrillic і
    ],
)
def test_value_discloses_category_under_any_key(value, category):
    assert category in {c for c, _ in SCREENER.value_categories(value)}
    assert ("/note", category) in found({"note": value})


@pytest.mark.parametrize(
    "value",
    [
        "闯红灯",
        "未礼让行人",
        "苏E12345",
        "(2026)苏0505执123号",
        "2026-Q3",
        "姑苏区干将路",
        "姑苏区医院路88号",
        "No. 5 Hospital Road",
        "无偿献血志愿服务",
        "blood donation drive volunteer",
        "Donated 400 ml of whole blood",
        "B2",
        "C1",
        "AB",
        "A+",
        "A12",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "SGVsbG8gd29ybGQhIFRoaXMgaXMgbm90IGEgdGVtcGxhdGU=",
        "更换O型圈",
        "A型车位",
        "规格：B型",
        "车辆故障诊断",
        "违反《传染病防治法》",
        "苏州市疾病预防控制中心",
        "寒山寺景区志愿讲解",
        "fault diagnosis: pump failure",
        "The building suffers from old pipes",
        "传承红色基因",
        "人脸识别门禁",
        "The debtor attended the hearing",
        "temple fair crowd control",
    ],
)
def test_ordinary_value_is_not_caught(value):
    assert SCREENER.value_categories(value) == ()


# --------------------------------------------------------------------------- paths and pairs


def test_paths_are_json_pointers_with_escapes():
    document = {"a/b": {"c~d": [{"blood~type": 1, "x/religion": 2}]}}
    assert found(document) == {
        ("/a~1b/c~0d/0/blood~0type", "blood_type"),
        ("/a~1b/c~0d/0/x~1religion", "religious_belief"),
    }


def test_violations_come_in_document_order_once_per_path_and_category():
    document = {
        "z": {"fingerprint": "x"},
        "a": [{"note": "血型为AB型，因病住院"}, "rs12345678"],
        "blood_type": "O型",
    }
    assert [(v.path, v.category) for v in SCREENER.screen(document)] == [
        ("/z/fingerprint", "fingerprint"),
        ("/a/0/note", "blood_type"),
        ("/a/0/note", "medical_history"),
        ("/a/1", "genetic"),
        ("/blood_type", "blood_type"),
    ]


@pytest.mark.parametrize(
    ("pair", "value_key"),
    [
        ({"name": "blood_type", "value": "A"}, "value"),
        ({"fieldName": "XueXing", "val": "A"}, "val"),
        ({"字段名": "宗教信仰", "字段值": "无"}, "字段值"),
        ({"item": "指纹", "content": "on file"}, "content"),
        ({"attr": "diagnosis", "value": {"code": "x"}}, "value"),
    ],
)
def test_name_value_pair_is_reported_at_the_value_member(pair, value_key):
    document = {"records": [{"data": {"attrs": [{"name": "plate", "value": "苏E1"}, pair]}}]}
    paths = {v.path for v in SCREENER.screen(document)}
    assert paths == {f"/records/0/data/attrs/1/{value_key}"}


def test_pair_name_that_also_matches_a_pattern_is_reported_once():
    document = [{"name": "指纹模板", "value": "on file"}]
    assert found(document) == {("/0/value", "fingerprint")}


def test_name_without_value_member_is_not_a_pair():
    assert found({"name": "blood type", "remark": "x"}) == set()


def test_root_string_and_scalars():
    assert found("AB型血") == {("", "blood_type")}
    for document in (None, 0, 1.5, True, "", [], {}):
        assert SCREENER.screen(document) == []


# --------------------------------------------------------------------------- robustness


def test_deep_nesting_needs_no_recursion():
    document: object = {"blood_type": "A"}
    for _ in range(20_000):
        document = [document]
    violations = SCREENER.screen(document)
    assert len(violations) == 1
    assert violations[0].path.endswith("/0/blood_type")


@pytest.mark.parametrize(
    "document",
    [
        {"k": "\ud800\udfff lone \udc00 surrogates"},
        {"\ud800": "x"},
        {"k": "x" * 2_000_000},
        {"k": "血" * 100_000},
        {1: "a", 2.5: "b", None: "c", (3, 4): "d"},
        {"t": ("blood", ["type"]), "s": {"x"} and "y"},
        {"k": "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0e" * 3, "j": "\x00"},
        [float("nan"), float("inf"), -(10**40), "", " ", "\t"],
    ],
)
def test_weird_input_never_raises(document):
    assert isinstance(SCREENER.screen(document), list)
    assert SCREENER.screen(document) == SCREENER.screen_exhaustive(document)


def test_strings_holding_every_separator_are_still_screened():
    noise = "".join(chr(c) for c in range(0, 16))
    document = {"a": noise, "b": "血型为O型" + noise, "c": noise + "rs123456"}
    assert found(document) == {("/b", "blood_type"), ("/c", "genetic")}


def test_tuple_and_non_string_keys_are_screened():
    document = {7: ("ok", {"blood_type": "A"})}
    assert found(document) == {("/7/1/blood_type", "blood_type")}


def test_many_unseen_keys_are_screened_through_the_key_prefilter():
    screener = compile_policy(default_policy_spec())
    document = {f"field_{i}_{'x' * (i % 7)}": i for i in range(500)}
    document["applicant_bl00d_group"] = "A"
    document["血\u200b型"] = "B"
    document["person_religion_19"] = "C"
    assert {(v.path, v.category) for v in screener.screen(document)} == {
        ("/applicant_bl00d_group", "blood_type"),
        ("/血\u200b型", "blood_type"),
        ("/person_religion_19", "religious_belief"),
    }


# --------------------------------------------------------------------------- policy


def test_every_default_pattern_has_a_fast_trigger():
    from compliance.screening import _trigger

    kinds = {
        (c.code, p.name): _trigger(re.compile(p.pattern))[0]
        for c in DEFAULT_CATEGORIES
        for p in c.value_patterns
    }
    assert {kind for kind in kinds.values()} <= {"literals", "run"}, kinds


def test_default_policy_data_is_complete():
    assert {c.code for c in DEFAULT_CATEGORIES} == LAW_CATEGORIES
    for category in DEFAULT_CATEGORIES:
        assert category.name_zh and category.name_en and category.legal_source
        assert all(len(term) <= 100 for term in category.key_terms)
        for pattern in category.value_patterns:
            assert pattern.name.isidentifier() and len(pattern.description) <= 300
    assert default_policy_spec().version == 1


def test_bad_regex_names_category_and_pattern():
    spec = PolicySpec(
        2, (CategorySpec("political_opinion", ("政治面貌",), (("party", "(unclosed"),)),)
    )
    with pytest.raises(PolicyError, match=r"political_opinion.*'party'.*\(unclosed"):
        compile_policy(spec)


def test_bare_bad_regex_is_named_too():
    spec = PolicySpec(2, (CategorySpec("x", (), ("a[b",)),))
    with pytest.raises(PolicyError, match=r"category 'x'.*'a\[b'"):
        compile_policy(spec)


@pytest.mark.parametrize(
    "spec",
    [
        PolicySpec(2, (CategorySpec("x", ("   ",)),)),
        PolicySpec(2, (CategorySpec("x", ("=__",)),)),
        PolicySpec(2, (CategorySpec("x", (), (("any", "a*"),)),)),
        PolicySpec(2, (CategorySpec("x", (), (("edge", r"\b"),)),)),
        PolicySpec(2, (CategorySpec("x", ("a",)), CategorySpec("x", ("b",)))),
        PolicySpec(2, (CategorySpec("", ("a",)),)),
        PolicySpec(2, (CategorySpec("x", (42,)),)),
        PolicySpec(2, ("not a category",)),
    ],
)
def test_unusable_policy_entries_are_refused_at_compile_time(spec):
    with pytest.raises(PolicyError):
        compile_policy(spec)


def test_pattern_names_come_from_pairs_named_groups_or_position():
    spec = PolicySpec(
        3,
        (
            CategorySpec(
                "political_opinion",
                (),
                (("party_statement", "党员身份"), r"(?P<member_card>党员证\d+)", "政治面貌：\\S+"),
            ),
        ),
    )
    screener = compile_policy(spec)
    assert screener.value_categories("党员身份") == (("political_opinion", "party_statement"),)
    assert screener.value_categories("党员证12") == (("political_opinion", "member_card"),)
    assert screener.value_categories("政治面貌：群众") == (
        ("political_opinion", "political_opinion#3"),
    )


def test_regulator_added_category_works_with_plain_words():
    base = default_policy_spec()
    spec = PolicySpec(
        2,
        (
            *base.categories,
            CategorySpec(
                "political_opinion", ("政治面貌", "political affiliation", "=party member")
            ),
            CategorySpec("trade_union", ("trade union", "工会")),
        ),
    )
    screener = compile_policy(spec)
    document = {
        "政治面貌": "群众",
        "politicalAffiliation": "x",
        "PARTY_MEMBER": True,
        "third_party_member_count": 2,
        "tradeUnionMember": True,
        "工会会员": "是",
    }
    assert {(v.path, v.category) for v in screener.screen(document)} == {
        ("/政治面貌", "political_opinion"),
        ("/politicalAffiliation", "political_opinion"),
        ("/PARTY_MEMBER", "political_opinion"),
        ("/third_party_member_count", "political_opinion"),
        ("/tradeUnionMember", "trade_union"),
        ("/工会会员", "trade_union"),
    }
    assert screener.version == 2


def test_term_syntax_modes():
    spec = PolicySpec(
        1,
        (CategorySpec("c", ("=ab", "*xyz", "longword", "!longword exempt")),),
    )
    screener = compile_policy(spec)
    assert screener.key_categories("ab_value")
    assert not screener.key_categories("crab_value")
    assert screener.key_categories("fooxyzbar")
    assert screener.key_categories("myLongwordHere")
    assert not screener.key_categories("longword_exempt")
    assert screener.key_categories("longword_exempt_longword")
