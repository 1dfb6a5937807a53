"""Property tests for compliance.screening (no Django needed).

A prohibited key survives no spelling trick at any depth, ordinary documents pass, and the
fast path (prefilter + cached keys) always agrees with an independent recursive reference.
"""

from __future__ import annotations

import base64
import functools
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compliance.policy_defaults import default_policy_spec
from compliance.screening import CategorySpec, PolicySpec, compile_policy

SCREENER = compile_policy(default_policy_spec())
# Every name a violation may give: the shipped terms and patterns, and the concealment kinds.
POLICY_NAMES = {term for c in default_policy_spec().categories for term in c.key_terms} | {
    name for c in default_policy_spec().categories for name, _pattern in c.value_patterns
} | {"unicode tag characters", "bidirectional controls", "encoding nested too deeply",
     "decoded size over the limit"}  # fmt: skip
PROPERTY = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --------------------------------------------------------------------------- prohibited keys

# (category, words, whole-token term): a whole-token term cannot be glued to another word.
ENGLISH = (
    ("blood_type", ("blood", "type"), False),
    ("blood_type", ("blood", "group"), False),
    ("blood_type", ("abo",), True),
    ("blood_type", ("blood", "rh"), False),  # "rh" alone is relative humidity
    ("blood_type", ("rh", "factor"), False),
    ("blood_type", ("rhesus",), False),
    ("religious_belief", ("religion",), False),
    ("religious_belief", ("religious", "affiliation"), False),
    ("religious_belief", ("faith",), True),
    ("religious_belief", ("mosque",), False),
    ("religious_belief", ("worship",), False),
    ("genetic", ("genetic", "test"), False),
    ("genetic", ("genotype",), False),
    ("genetic", ("dna",), True),
    ("genetic", ("genome",), False),
    ("genetic", ("chromosome",), False),
    ("fingerprint", ("fingerprint",), False),
    ("fingerprint", ("thumbprint",), False),
    ("fingerprint", ("minutiae",), False),
    ("medical_history", ("medical", "history"), False),
    ("medical_history", ("diagnosis",), False),
    ("medical_history", ("illness",), False),
    ("medical_history", ("disease",), False),
    ("medical_history", ("icd",), True),
    ("medical_history", ("hiv",), True),
    ("biometric", ("biometric",), False),
    ("biometric", ("iris",), True),
    ("biometric", ("voiceprint",), False),
    ("biometric", ("face", "template"), True),
)
PINYIN = (
    ("blood_type", ("xue", "xing"), False),
    ("religious_belief", ("zong", "jiao"), False),
    ("religious_belief", ("xin", "yang"), False),
    ("genetic", ("ji", "yin"), True),
    ("fingerprint", ("zhi", "wen"), False),
    ("medical_history", ("bing", "shi"), False),
    ("medical_history", ("ji", "bing"), False),
    ("medical_history", ("zhen", "duan"), False),
    ("biometric", ("hong", "mo"), False),
    ("biometric", ("ren", "lian", "shi", "bie"), False),
)
TONES = {
    "xue": "xuè", "xing": "xíng", "zong": "zōng", "jiao": "jiào", "xin": "xìn", "yang": "yǎng",
    "ji": "jī", "yin": "yīn", "zhi": "zhǐ", "wen": "wén", "bing": "bìng", "shi": "shǐ",
    "zhen": "zhěn", "duan": "duàn", "hong": "hóng", "mo": "mó", "ren": "rén", "lian": "liǎn",
    "bie": "bié",
}  # fmt: skip
CHINESE = (
    ("blood_type", "血型"), ("blood_type", "熊猫血"), ("religious_belief", "宗教"),
    ("religious_belief", "信仰"), ("genetic", "基因"), ("genetic", "遗传"), ("genetic", "遺傳"),
    ("fingerprint", "指纹"), ("fingerprint", "指紋"), ("medical_history", "病史"),
    ("medical_history", "疾病"), ("medical_history", "诊断"), ("medical_history", "診斷"),
    ("biometric", "生物识别"), ("biometric", "人脸"), ("biometric", "人臉"), ("biometric", "虹膜"),
    ("biometric", "声纹"), ("biometric", "聲紋"),
)  # fmt: skip
PREFIXES = ("applicant", "person", "resident", "holder", "reported", "main")
SUFFIXES = ("info", "detail", "value", "raw", "current", "field")
CHINESE_AFFIXES = ("申请人", "当事人", "个人", "家庭成员", "信息", "情况", "字段")
ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u2060", "\ufeff")
COMBINING = ("\u0301", "\u0300", "\u0308", "\u0332", "\u0336", "\u030c")
CYRILLIC = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "y": "у", "i": "і",
            "s": "ѕ", "j": "ј", "A": "А", "B": "В", "E": "Е", "O": "О", "P": "Р", "C": "С",
            "T": "Т", "H": "Н", "K": "К", "M": "М", "X": "Х"}  # fmt: skip
GREEK = {"o": "ο", "a": "α", "i": "ι", "v": "ν", "p": "ρ", "t": "τ", "e": "ε", "u": "υ",
         "A": "Α", "B": "Β", "E": "Ε", "H": "Η", "I": "Ι", "K": "Κ", "M": "Μ", "N": "Ν",
         "O": "Ο", "P": "Ρ", "T": "Τ", "X": "Χ"}  # fmt: skip
DIGITS = {"o": "0", "O": "0", "l": "1", "i": "1", "e": "3", "s": "5", "a": "4"}
STYLES = ("snake", "camel", "pascal", "kebab", "spaced", "dotted", "upper", "concat", "upperconcat")
GLUED = ("concat", "upperconcat")


def styled(words: list[str], style: str) -> str:
    if style == "snake":
        return "_".join(words)
    if style == "camel":
        return words[0] + "".join(w[:1].upper() + w[1:] for w in words[1:])
    if style == "pascal":
        return "".join(w[:1].upper() + w[1:] for w in words)
    if style == "kebab":
        return "-".join(words)
    if style == "spaced":
        return " ".join(words)
    if style == "dotted":
        return ".".join(words)
    if style == "upper":
        return "_".join(words).upper()
    if style == "concat":
        return "".join(words)
    return "".join(words).upper()


@st.composite
def inserted(draw, text: str, marks: tuple[str, ...], after_letters: bool = False) -> str:
    spots = [i + 1 for i, c in enumerate(text) if c.isalpha()] if after_letters else None
    for _ in range(draw(st.integers(1, 3))):
        places = spots or list(range(len(text) + 1))
        at = draw(st.sampled_from(places))
        text = text[:at] + draw(st.sampled_from(marks)) + text[at:]
        spots = [i + 1 for i, c in enumerate(text) if c.isalpha()] if after_letters else None
    return text


@st.composite
def substituted(draw, text: str, table: dict[str, str]) -> str:
    spots = [i for i, c in enumerate(text) if c in table]
    if not spots:
        return text
    chosen = draw(st.sets(st.sampled_from(spots), min_size=1, max_size=3))
    return "".join(table[c] if i in chosen else c for i, c in enumerate(text))


@st.composite
def disguised(draw, key: str, latin: bool) -> str:
    """``key`` with a random combination of evasions applied."""
    evasions = ["zero_width", "combining"]
    if latin:
        evasions += ["fullwidth", "cyrillic", "greek", "digits", "capital_i"]
    for evasion in draw(st.lists(st.sampled_from(evasions), unique=True, max_size=4)):
        if evasion == "zero_width":
            key = draw(inserted(key, ZERO_WIDTH))
        elif evasion == "combining":
            key = draw(inserted(key, COMBINING, after_letters=True))
        elif evasion == "fullwidth":
            key = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in key)
        elif evasion == "cyrillic":
            key = draw(substituted(key, CYRILLIC))
        elif evasion == "greek":
            key = draw(substituted(key, GREEK))
        elif evasion == "digits":
            key = draw(substituted(key, DIGITS))
        elif evasion == "capital_i" and "l" in key:
            key = key.replace("l", "I", 1)
    return key


@st.composite
def latin_key(draw, table) -> tuple[str, str]:
    category, words, whole_token = draw(st.sampled_from(table))
    words = list(words)
    if table is PINYIN and draw(st.booleans()):
        words = [TONES[w] for w in words]
    style = draw(st.sampled_from(STYLES))
    affix = draw(st.sampled_from(("none", "prefix", "suffix")))
    if affix != "none" and not (whole_token and style in GLUED):
        words = (
            [draw(st.sampled_from(PREFIXES)), *words]
            if affix == "prefix"
            else [
                *words,
                draw(st.sampled_from(SUFFIXES)),
            ]
        )
    return category, draw(disguised(styled(words, style), latin=True))


@st.composite
def chinese_key(draw) -> tuple[str, str]:
    category, term = draw(st.sampled_from(CHINESE))
    before = draw(st.sampled_from(("", *CHINESE_AFFIXES, "applicant_", "person")))
    after = draw(st.sampled_from(("", *CHINESE_AFFIXES, "_info", "Detail")))
    return category, draw(disguised(before + term + after, latin=False))


PROHIBITED_KEY = st.one_of(latin_key(ENGLISH), latin_key(PINYIN), chinese_key())

# --------------------------------------------------------------------------- ordinary data

SAFE_KEYS = (
    "plate", "amount", "fine_yuan", "location", "issued_by", "case_no", "tax_period", "type",
    "category", "grade", "licence_class", "document_fingerprint", "blood_donation_hours",
    "good_faith_payment", "fault_diagnosis", "health_code", "medical_insurance_no", "remarks",
    "note", "seat", "birth_date", "invoice_no", "site", "activity", "hours", "status",
    "姓名", "地址", "罚款金额", "号牌号码", "备注", "献血量", "故障诊断", "违法行为", "案号",
    "文件指纹",
)  # fmt: skip
SAFE_TEXT = (
    "闯红灯", "未礼让行人", "苏E12345", "(2026)苏0505执123号", "2026-Q3", "姑苏区干将路",
    "姑苏区医院路88号", "No. 5 Hospital Road", "无偿献血志愿服务", "blood donation drive volunteer",
    "Donated 400 ml of whole blood", "B2", "C1", "AB", "A+", "O", "A12", "更换O型圈", "A型车位",
    "寒山寺景区志愿讲解", "fault diagnosis: pump failure", "Paid in full before the due date.",
    "The debtor attended the hearing.", "传承红色基因", "人脸识别门禁", "苏州市疾病预防控制中心",
    "违反《传染病防治法》", "temple fair crowd control", "王芳", "Chen Jie", "2026-11-21",
    "2026-11-20T08:30:00+08:00", "general", "苏州市中心血站", "Church Lane Community Centre",
)  # fmt: skip
SAFE_STRING = st.one_of(
    st.sampled_from(SAFE_TEXT),
    st.binary(min_size=32, max_size=32).map(bytes.hex),
    st.binary(min_size=6, max_size=40)
    .map(lambda b: base64.b64encode(b).decode())
    .filter(lambda s: not s.startswith(("Rk1SA", "RklSA", "RkFDA", "SUlSA"))),
    st.integers(0, 10**12).map(str),
)
SAFE_SCALAR = st.one_of(
    SAFE_STRING, st.integers(), st.floats(allow_nan=False), st.booleans(), st.none()
)


@st.composite
def safe_key(draw) -> str:
    key = draw(st.sampled_from(SAFE_KEYS))
    if key.isascii():
        key = styled(key.split("_"), draw(st.sampled_from(STYLES[:7])))
    return key


def safe_members(min_size: int = 0, max_size: int = 4):
    return st.dictionaries(safe_key(), SAFE_SCALAR, min_size=min_size, max_size=max_size)


SAFE_DOCUMENT = st.recursive(
    SAFE_SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(safe_key(), inner, max_size=4)
    ),
    max_leaves=30,
)


def pointer_token(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


@st.composite
def planted(draw, member):
    """A document with ``member`` (key, value) planted at a random depth: (doc, path)."""
    key, value = member
    siblings = {k: v for k, v in draw(safe_members()).items() if k != key}
    items = list(siblings.items())
    at = draw(st.integers(0, len(items)))
    node: object = dict([*items[:at], (key, value), *items[at:]])
    tokens = [pointer_token(key)]
    for _ in range(draw(st.integers(0, 6))):
        if draw(st.booleans()):
            before = draw(st.lists(SAFE_SCALAR, max_size=3))
            after = draw(st.lists(SAFE_SCALAR, max_size=3))
            node = [*before, node, *after]
            tokens.insert(0, str(len(before)))
        else:
            outer = draw(safe_key())
            others = [(k, v) for k, v in draw(safe_members()).items() if k != outer]
            at = draw(st.integers(0, len(others)))
            node = dict([*others[:at], (outer, node), *others[at:]])
            tokens.insert(0, pointer_token(outer))
    return node, "/" + "/".join(tokens)


def violations(document) -> list[tuple[str, str]]:
    return [(v.path, v.category) for v in SCREENER.screen(document)]


# --------------------------------------------------------------------------- the reference


def carried_hits(screener, text: str, depth: int) -> list[tuple[str, str]]:
    """What a string discloses through the formats it carries, by plain recursion."""
    from compliance.decoders import concealment, decode_all
    from compliance.screening import CONCEALMENT, MAX_DECODE_DEPTH

    hits = [(CONCEALMENT, kind) for kind in concealment(text)]
    for _name, carried in decode_all(text, screener.decoders):
        if depth >= MAX_DECODE_DEPTH:
            hits.append((CONCEALMENT, "too deep"))
            break
        hits += [(category, "") for _path, category in reference(screener, carried, depth + 1)]
    return hits


def reference(screener, document, depth: int = 0) -> list[tuple[str, str]]:
    """What screen() must return, by plain recursion over the document (see the module
    docstring of compliance.screening for the rules it restates)."""
    from compliance.screening import _NAME, _VALUE, _marked_line, _role

    out: list[tuple[str, str]] = []

    def string_hits(text):
        return [*screener.value_categories(text), *carried_hits(screener, text, depth)]

    def emit(path, hits):
        for category, *_term in hits:
            if (path, category) not in out:
                out.append((path, category))

    def visit(node, path):
        if isinstance(node, str):
            emit(path, string_hits(node))
        elif isinstance(node, dict):
            roles = {key: _role(key) for key in node}
            pair = []
            if _VALUE in roles.values():
                for key, item in node.items():
                    if roles[key] == _NAME and isinstance(item, str):
                        pair += [h for h in screener.key_categories(item) if h not in pair]
            reported = {hit[0] for hit in pair}
            for key, item in node.items():
                path_here = f"{path}/{pointer_token(str(key))}"
                emit(path_here, screener.key_categories(key))
                if roles[key] == _VALUE:
                    emit(path_here, pair)
                if isinstance(item, str) and roles[key] == _NAME and pair:
                    emit(
                        path_here,
                        [h for h in string_hits(item) if h[0] not in reported],
                    )
                else:
                    visit(item, path_here)
        elif isinstance(node, list):
            for index, item in enumerate(node):
                visit(item, f"{path}/{index}")

    def is_parent(key) -> bool:
        # The engine's own list of term beginnings a key may end with ("blood" of "blood
        # type", "rh" of "rh d"): which keys are parents is the policy's, not the walk's.
        heads = screener._heads
        return heads is not None and heads.search(f"\n{_marked_line(str(key))}\n") is not None

    def visit_split(node, path):
        # A name split between a parent and its child ({"blood": {"type": ...}}) is read
        # whole; only what neither half names alone is reported, at the child.
        if isinstance(node, dict):
            for key, item in node.items():
                path_here = f"{path}/{pointer_token(str(key))}"
                if isinstance(item, dict) and is_parent(key):
                    own = {hit[0] for hit in screener.key_categories(key)}
                    for child in item:
                        child_own = {hit[0] for hit in screener.key_categories(str(child))}
                        joined = screener.key_categories(f"{key} {child}")
                        emit(
                            f"{path_here}/{pointer_token(str(child))}",
                            [hit for hit in joined if hit[0] not in own | child_own],
                        )
                visit_split(item, path_here)
        elif isinstance(node, list):
            for index, item in enumerate(node):
                visit_split(item, f"{path}/{index}")

    visit(document, "")
    visit_split(document, "")
    return out


def agrees(document) -> None:
    expected = reference(SCREENER, document)
    assert violations(document) == expected
    assert [(v.path, v.category) for v in SCREENER.screen_exhaustive(document)] == expected
    for ensure_ascii in (False, True):
        text = json.dumps(document, ensure_ascii=ensure_ascii)
        parsed = json.loads(text)
        assert [(v.path, v.category) for v in SCREENER.screen_text(text, parsed)] == expected


# --------------------------------------------------------------------------- properties


@PROPERTY
@given(PROHIBITED_KEY.flatmap(lambda ck: planted((ck[1], 1)).map(lambda dp: (ck[0], *dp))))
def test_prohibited_key_is_caught_at_any_depth_in_any_disguise(case):
    category, document, path = case
    assert violations(document) == [(path, category)]
    agrees(document)


PAIR_FORMS = (
    ("name", "value"), ("fieldName", "value"), ("item", "val"), ("字段名", "字段值"),
    ("key", "content"), ("attr", "value"), ("名称", "值"),
)  # fmt: skip
OTHER_PAIRS = st.lists(
    st.tuples(st.sampled_from(("plate_no", "罚款金额", "period")), SAFE_STRING), max_size=3
)


@PROPERTY
@given(PROHIBITED_KEY, st.sampled_from(PAIR_FORMS), OTHER_PAIRS, st.data())
def test_prohibited_name_in_a_pair_list_is_caught_at_the_value(case, form, others, data):
    category, name = case
    name_key, value_key = form
    pairs = [{name_key: n, value_key: v} for n, v in others]
    at = data.draw(st.integers(0, len(pairs)))
    pairs.insert(at, {name_key: name, value_key: data.draw(SAFE_SCALAR)})
    document, path = data.draw(planted(("attrs", pairs)))
    assert violations(document) == [(f"{path}/{at}/{pointer_token(value_key)}", category)]
    agrees(document)


@PROPERTY
@given(SAFE_DOCUMENT)
def test_ordinary_documents_are_never_flagged(document):
    assert violations(document) == []
    agrees(document)


SPICY = (
    "血型", "型", "O型", "AB", "rs", "1234", "ACGTACGTAC", "acgu", "Rk1SA", "FMR\x00", "464d52",
    "确诊", "患有", "blood", "type", "Type", "rh", "RH", "-", "+", "religion", "faith", "good",
    "dna", "DNA", "iris", "I", "1", "0", "\u200b", "\u0301", "ｂ", "о", "ε4", "APOE", "name",
    "value", "字段名", "值", "指纹", "文件", "模板", "信仰", "基督教", "diagnosed with", " ",
    "~", "/", "\\", "\x00", "\x01", "\x1f", "\ud800", "生物识别", "熊猫血", "ICD-10: ", "E11.9",
)  # fmt: skip
SPICY_TEXT = st.lists(st.one_of(st.sampled_from(SPICY), st.text(max_size=4)), max_size=8).map(
    "".join
)
SPICY_DOCUMENT = st.recursive(
    st.one_of(SPICY_TEXT, st.integers(), st.none(), st.booleans()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(SPICY_TEXT, st.sampled_from(("name", "value", "字段名", "值"))),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=25,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SPICY_DOCUMENT)
def test_fast_path_agrees_with_the_reference_on_any_document(document):
    agrees(document)


@PROPERTY
@given(
    st.lists(st.sampled_from(("a/b", "c~d", "~/", "/~", "~1", "~0", "x")), min_size=1, max_size=4),
    PROHIBITED_KEY,
)
def test_pointers_escape_tilde_and_slash(outer_keys, case):
    category, key = case
    document: object = {key + "/~": 1}
    for outer in reversed(outer_keys):
        document = {outer: document}
    tokens = [pointer_token(k) for k in [*outer_keys, key + "/~"]]
    assert violations(document) == [("/" + "/".join(tokens), category)]
    assert all("~" not in t.replace("~0", "").replace("~1", "") for t in tokens)


PROHIBITED_VALUES = (
    "O型", "AB型血", "血型为AB型", "Rh阴性", "blood type: A+", "他信仰基督教",
    "is a practising Muslim", "确诊为糖尿病", "住院治疗", "was diagnosed with asthma",
    "ICD-10: E11.9", "rs12345678",
    "ACGTACGTACGTACGTACGTACGT", "BRCA1 positive", "Rk1SACAyMAAAAAFsAAABBAHE", "人脸特征数据已录入",
)  # fmt: skip


@PROPERTY
@given(st.sampled_from(PROHIBITED_VALUES), PROHIBITED_KEY, SAFE_DOCUMENT)
def test_a_violation_never_echoes_the_value(value, case, filler):
    document = {"filler": filler, "note": value, case[1]: value}
    for violation in SCREENER.screen(document):
        assert violation.term in POLICY_NAMES
        assert value not in violation.term


REGULATOR_ENTRIES = (
    ("political_opinion", "政治面貌", ("政治面貌", "申请人政治面貌", "政治\u200b面貌")),
    ("political_opinion", "political affiliation",
     ("politicalAffiliation", "POLITICAL_AFFILIATION", "applicant_political_affiliation")),
    ("trade_union", "trade union", ("tradeUnionMember", "trade-union", "ＴＲＡＤＥ_ＵＮＩＯＮ")),
    ("trade_union", "工会", ("工会会员", "是否工会成员")),
    ("ethnicity", "=ethnic group", ("ethnic_group", "EthnicGroup", "applicantEthnicGroup")),
)  # fmt: skip
REGULATOR_TERMS = st.sampled_from(REGULATOR_ENTRIES)


@functools.cache
def extended(code: str, term: str):
    base = default_policy_spec()
    return compile_policy(PolicySpec(2, (*base.categories, CategorySpec(code, (term,)))))


@PROPERTY
@given(REGULATOR_TERMS, st.data())
def test_a_regulator_added_category_works_with_a_plain_term(entry, data):
    code, term, keys = entry
    screener = extended(code, term)
    key = data.draw(st.sampled_from(keys))
    document, path = data.draw(planted((key, "x")))
    assert [(v.path, v.category, v.term) for v in screener.screen(document)] == [(path, code, term)]


# --------------------------------------------------------------------------- carried formats

VALUE_CATEGORIES = {
    "O型": "blood_type", "血型为AB型": "blood_type", "他信仰基督教": "religious_belief",
    "is a practising Muslim": "religious_belief", "确诊为糖尿病": "medical_history",
    "was diagnosed with asthma": "medical_history", "BRCA1 positive": "genetic",
    "人脸特征数据已录入": "biometric",
}  # fmt: skip


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _gzip64(text: str) -> str:
    import gzip

    return base64.b64encode(gzip.compress(text.encode())).decode()


def _url(text: str) -> str:
    from urllib.parse import quote

    return quote(text)


def _entities(text: str) -> str:
    return "".join(f"&#{ord(char)};" for char in text)


def _data_uri(text: str) -> str:
    return "data:text/plain;base64," + _b64(text)


# Encodings of text, and of a member inside a document (which then becomes text).
TEXT_ENCODINGS = {"base64": _b64, "gzip": _gzip64, "url": _url, "entities": _entities,
                  "data_uri": _data_uri}  # fmt: skip


def _as_json(key: str, value: str) -> str:
    return json.dumps({"id": 1, key: value}, ensure_ascii=False)


def _as_form(key: str, value: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"id": "1", key: value})


def _as_csv(key: str, value: str) -> str:
    return f"id,{key}\n1,{value}"


def _as_yaml(key: str, value: str) -> str:
    return f"id: 1\n{key}: {value}"


def _as_jwt(key: str, value: str) -> str:
    payload = base64.urlsafe_b64encode(_as_json(key, value).encode()).decode().rstrip("=")
    return f"eyJhbGciOiJub25lIn0.{payload}."


def _as_split(key: str, value: str) -> dict:
    return {"x": 1, key: value}


MEMBER_ENCODINGS = {"json": _as_json, "form": _as_form, "csv": _as_csv, "yaml": _as_yaml,
                    "jwt": _as_jwt}  # fmt: skip
# Key disguises that survive a carrying format unchanged (no separators or escapes).
PLAIN_KEYS = (
    ("blood_type", "bloodType"), ("religious_belief", "religion"), ("genetic", "genotype"),
    ("fingerprint", "fingerprint"), ("medical_history", "diagnosis"), ("biometric", "voiceprint"),
    ("blood_type", "xuexing"), ("medical_history", "bingshi"),
)  # fmt: skip


@PROPERTY
@given(
    st.sampled_from(sorted(VALUE_CATEGORIES)),
    st.lists(st.sampled_from(sorted(TEXT_ENCODINGS)), min_size=1, max_size=3),
    SAFE_DOCUMENT,
)
def test_a_prohibited_value_is_caught_through_any_chain_of_encodings(value, chain, filler):
    carried = value
    for name in chain:
        carried = TEXT_ENCODINGS[name](carried)
    document = {"filler": filler, "note": carried}
    found = [(v.path, v.category) for v in SCREENER.screen(document)]
    assert ("/note", VALUE_CATEGORIES[value]) in found
    agrees(document)


@PROPERTY
@given(
    st.sampled_from(PLAIN_KEYS),
    st.sampled_from(sorted(MEMBER_ENCODINGS)),
    st.lists(st.sampled_from(["base64", "gzip", "data_uri", "json"]), max_size=2),
    SAFE_DOCUMENT,
)
def test_a_prohibited_member_is_caught_inside_any_format_alone_and_nested(
    case, encoding, wrappers, filler
):
    category, key = case
    carried = MEMBER_ENCODINGS[encoding](key, "x1")
    for name in wrappers:
        carried = _as_json("payload", carried) if name == "json" else TEXT_ENCODINGS[name](carried)
    document = {"filler": filler, "note": carried}
    assert [(v.path, v.category) for v in SCREENER.screen(document)] == [("/note", category)]


@PROPERTY
@given(st.sampled_from(PLAIN_KEYS), st.sampled_from(("split", "columns", "pair")), SAFE_DOCUMENT)
def test_a_prohibited_name_is_caught_in_any_structure(case, shape, filler):
    category, key = case
    if shape == "split":  # the name cut between a parent and its child
        # Latin terms are cut between their words (pinyin syllables are not cut).
        words = {"bloodType": ("blood", "type")}.get(key)
        if words is None:
            return
        document = {"filler": filler, words[0]: {words[1]: "x"}}
        path = f"/{words[0]}/{words[1]}"
    elif shape == "columns":
        document = {"filler": filler, "t": {"columns": ["id", key], "rows": [[1, "x"]]}}
        path = "/t/columns/1"
    else:
        document = {"filler": filler, "extra": [{"k": key, "v": "x"}]}
        path = "/extra/0/v"
    assert (path, category) in [(v.path, v.category) for v in SCREENER.screen(document)]
