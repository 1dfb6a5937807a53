"""Screening of submissions for data the law forbids collecting (LAW.md section A).

SH 14, ZJ 14 and CRR 14 forbid collecting religious belief, genes, fingerprints, blood type,
diseases and medical history, and each ends with a catch-all; TJ 16 and PIPL 28 add other
biometrics.  So what is forbidden is data (a PolicySpec a regulator can extend), never code.
This module is Django-free: the gateway compiles a policy once per version and calls
``Screener.screen_text()`` on every body.

Key terms
---------
``CategorySpec.key_terms`` name fields, as plain words in any language or spelling:
"blood type", "血型", "xue xing", "xuèxíng".  Keys and terms are normalised the same way:
NFKC (full-width letters), format and combining characters removed (zero-width spaces, tone
marks), traditional characters folded to simplified ones, Cyrillic and Greek look-alikes
folded to Latin, digits 0 3 4 5 read as o e a s, ``1`` and ``I`` read as either i or l, and
camelCase and every separator split into tokens.  Terms are then compared with the joined
tokens, so "blood type" also matches bloodType, BLOOD-TYPE, ｂｌｏｏｄ＿ｔｙｐｅ and
person_blood_type_abo.

    word     plain: Chinese terms, and Latin terms of six letters or more, match anywhere in
             the key; shorter Latin terms match whole tokens only ("iris" matches iris_scan
             and irisScan, not irish_name).
    =word    whole tokens only, whatever the length ("=rh", "=dna").
    *word    anywhere, whatever the length.
    !words   an exception: a match lying inside it does not count ("!good faith" keeps
             "=faith" from refusing good_faith_payment; "!document fingerprint" keeps a
             document hash from counting as a fingerprint).
    ~word    whole tokens only, and only in a key that also names a person or blood
             (PERSON_WORDS): "~rh" refuses patient_rh and donorRh, not rh or indoor_rh
             (relative humidity in an inspection record).

A key that is a UUID or a hex digest is an identifier and names nothing.

Value patterns
--------------
``CategorySpec.value_patterns`` are Python regular expressions searched in every string
value, given as ``(name, regex)`` pairs or as a bare regex whose first named group, e.g.
``(?P<icd10_code>...)``, names it; a bare regex without one is reported as ``category#n``.
Strings made only of ASCII, simplified Chinese and common Chinese punctuation are searched
as they are; any other string is first normalised like a key (without the digit folding).
A violation names the category and the term or pattern, never the value.

Paths and pairs
---------------
A violation's path is an RFC 6901 pointer from the document root: a key term at the pointer
of its member, a value pattern at the pointer of the string.  In a name/value pair (a dict
with a name-like member such as name, key, field, fieldName, item, attr, 字段名 or 名称,
and a value-like member such as value, val, content, 值 or 字段值), a name that matches a
key term is reported at the pointer of the value-like member, where the datum sits:
``[{"name": "blood_type", "value": "A"}]`` gives ``/0/value``.  An array of objects of the
same two members, one holding strings in every object, is an array of pairs whatever the
member names; a list of rows whose first row holds the column names is a table; and a
parent's name completed by its child's (``{"finger": {"print": ...}}``) is one key.

Speed
-----
One pass gathers the distinct keys and string values of the document.  Keys repeat across
records and requests, so each is checked once and cached, and the verdicts on a whole key
set are remembered (bounded).  A body with many new keys is checked in bulk passes: one
Aho-Corasick automaton over all the folded keys, and C-level folds and regexes over all
their marked forms.  Distinct values are joined into one text that one Aho-Corasick
automaton of literal "triggers" scans; the triggers are read off each value pattern's
syntax tree, so a regulator's new pattern gets them without saying so (a pattern with none
runs on every string its run trigger or unusual characters point at), and each string is
tried only with the patterns whose triggers it holds.  Strings carrying other formats are
decoded and what they carry is screened together, one screen per depth.  Only strings
that a trigger or an unusual character points at are checked exactly, and only a document
with a confirmed violation is walked a second time to build pointers.
screen_exhaustive() skips the triggers and checks everything: the property tests hold
screen() to it.  ``screen_text()`` takes the raw text for the gateway's convenience but
screens the parsed document, so JSON escapes such as ``\\u8840\\u578b`` cannot hide anything.

Limits
------
- A whole-token term glued to another word without a separator or a case change is not
  found ("personiris"); the defaults list the usual compounds (dnasample, renlianshibie).
- Digit look-alikes are read as letters in keys only; values keep their digits for codes.
- A regulator's regular expression runs as written on Python's backtracking engine; the
  compiler refuses invalid and empty-matching patterns, not slow ones.
- The name-like and value-like member names of pairs, and PERSON_WORDS, are fixed here,
  not policy data.  One object of two unknown members is not read as a pair (only an
  array of them is), and a bare short word or prose is not read as a label.
"""

from __future__ import annotations

import bisect
import functools
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from gc import is_tracked
from itertools import accumulate, compress, filterfalse, product, repeat
from operator import itemgetter
from typing import Any

from ahocorasick_rs import AhoCorasick

from compliance import decoders as _decoders

try:  # The regex syntax tree gives value patterns their triggers; without it they still work.
    import re._constants as _sre
    import re._parser as _sre_parse
except ImportError:  # pragma: no cover
    _sre = _sre_parse = None

__all__ = [
    "CONCEALMENT",
    "CategorySpec",
    "PolicyError",
    "PolicySpec",
    "Screener",
    "Violation",
    "compile_policy",
    "normalise_key",
]


class PolicyError(ValueError):
    """A policy that cannot be compiled; the message names the category and the entry."""


@dataclass(frozen=True)
class CategorySpec:
    code: str
    key_terms: tuple[str, ...]
    value_patterns: tuple[str | tuple[str, str], ...] = ()


@dataclass(frozen=True)
class PolicySpec:
    version: int
    categories: tuple[CategorySpec, ...]
    # The decoders (compliance.decoders.DECODERS) the screen applies; None means all.
    decoders: frozenset[str] | None = None


@dataclass(frozen=True)
class Violation:
    path: str
    category: str
    term: str
    # For data found inside a string: the formats unwrapped and the pointer inside the
    # carried document, e.g. "base64 › json › /blood_type"; empty otherwise.
    via: str = ""


# Reported when a key or value holds invisible or direction-changing characters, or
# when what a string carries is nested deeper or decodes larger than the screen reads.
CONCEALMENT = "concealment"
MAX_DECODE_DEPTH = 4
# Characters of carried text the screen decodes per body, beyond the body's own size.
DECODE_ALLOWANCE = 2_000_000


# --------------------------------------------------------------------------- normalisation

# Latin look-alikes a key or value may use to dodge a term (case kept, for camelCase).
_CONFUSABLES = str.maketrans(
    {
        # Cyrillic
        "а": "a", "в": "b", "г": "r", "е": "e", "ё": "e", "і": "i", "ї": "i", "ј": "j",
        "к": "k", "м": "m", "н": "h", "о": "o", "п": "n", "р": "p", "с": "c", "т": "t",
        "у": "y", "х": "x", "ѕ": "s", "ь": "b", "ԁ": "d", "ԛ": "q", "ԝ": "w", "һ": "h",
        "ӏ": "l", "А": "A", "В": "B", "Е": "E", "Ё": "E", "К": "K", "М": "M", "Н": "H",
        "О": "O", "Р": "P", "С": "C", "Т": "T", "У": "Y", "Х": "X", "І": "I", "Ї": "I",
        "Ј": "J", "Ѕ": "S", "Ԁ": "D", "Ԛ": "Q", "Ԝ": "W", "Һ": "H", "Ӏ": "l",
        # Greek
        "α": "a", "β": "b", "γ": "y", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v",
        "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ϲ": "c", "ϳ": "j",
        "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M",
        "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "Ϲ": "C",
        # Latin letters that NFKC leaves alone
        "ı": "i", "ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ð": "d",
        "ħ": "h", "ŧ": "t", "ƀ": "b", "ɨ": "i", "ɑ": "a", "ɛ": "e", "ɡ": "g", "ɩ": "i",
        "ɪ": "i", "ʟ": "l", "ᴀ": "a", "ʙ": "b", "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ɢ": "g",
        "ʜ": "h", "ᴊ": "j", "ᴋ": "k", "ᴍ": "m", "ɴ": "n", "ᴏ": "o", "ᴘ": "p", "ʀ": "r",
        "ꜱ": "s", "ᴛ": "t", "ᴜ": "u", "ᴠ": "v", "ᴡ": "w", "ʏ": "y", "ᴢ": "z", "æ": "ae",
        "Æ": "AE", "œ": "oe", "Œ": "OE",
        # Armenian
        "օ": "o", "Օ": "O", "ս": "u",
    }
)  # fmt: skip

# Traditional forms of the characters the default policy uses, folded to simplified ones.
_TRADITIONAL = (
    "紋纹識识別别臉脸聲声診诊斷断歷历遺遗傳传檢检測测體体徵征網网靜静脈脉態态檔档況况狀状"
    "會会禮礼廟庙臟脏腦脑醫医療疗藥药癥症壓压資资訊讯錄录記记號号碼码類类驗验證证書书結结"
    "員员親亲屬属確确穌稣蘭兰參参為为腫肿愛爱癲癫癇痫鬱郁憂忧臨临陰阴陽阳貓猫護护學学術术"
    "掃扫圖图採采數数據据樣样變变異异攜携帶带篩筛鑒鉴報报顯显猶犹東东彌弥禱祷聖圣經经團团"
    "髮发紀纪敎教癮瘾絕绝歲岁麼么視视門门對对編编過过惡恶雙双礙碍濕湿紅红漸渐凍冻爾尔慮虑"
    "監监觀观間间進进舉举齋斋燒烧鑑鉴組组脫脱"
)
_TRAD_TO_SIMP = {ord(t): s for t, s in zip(_TRADITIONAL[::2], _TRADITIONAL[1::2], strict=True)}

# Characters that, in a value, leave nothing to normalise: the text is searched as it is.
_PLAIN_PUNCT = "，。、；：？！“”‘’（）《》〈〉【】〔〕「」『』—…·～￥"
_MARK_CATEGORIES = frozenset({"Mn", "Me", "Cf"})
_IGNORABLE = frozenset({0x034F, 0x115F, 0x1160, 0x3164, 0xFFA0})
_DIGIT_LETTERS = str.maketrans("0345", "oeas")


def _class_outside(allowed: Iterable[int]) -> re.Pattern[str]:
    """A character class matching every code point not in ``allowed``."""
    points = sorted(set(allowed))
    ranges: list[tuple[int, int]] = []
    previous = -1
    for point in [*points, 0x110000]:
        if point > previous + 1:
            ranges.append((previous + 1, point - 1))
        previous = point
    body = "".join(
        f"\\U{low:08x}" if low == high else f"\\U{low:08x}-\\U{high:08x}" for low, high in ranges
    )
    return re.compile(f"[{body}]")


_CJK = set(range(0x4E00, 0xA000)) - set(_TRAD_TO_SIMP)
# A value with a character outside this set is normalised before its patterns run.
_VALUE_ODD = _class_outside([*range(0x80), *_CJK, *map(ord, _PLAIN_PUNCT)])
# A key with a character outside this set is always checked exactly (see _KeyTriggers).
_KEY_ODD = _class_outside([*range(0x80), *_CJK])


def _strip_marks(text: str) -> str:
    return "".join(
        char
        for char in unicodedata.normalize("NFD", text)
        if unicodedata.category(char) not in _MARK_CATEGORIES and ord(char) not in _IGNORABLE
    )


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_TRAD_TO_SIMP)
    return _strip_marks(text).translate(_CONFUSABLES)


_PROTECT = {ord(char): 0xE000 + i for i, char in enumerate(_PLAIN_PUNCT)}
_UNPROTECT = {0xE000 + i: ord(char) for i, char in enumerate(_PLAIN_PUNCT)}


def _plain_value(value: str) -> str:
    """The text value patterns search: unusual characters folded, ordinary text untouched."""
    if _VALUE_ODD.search(value) is None:
        return value
    return _fold(value.translate(_PROTECT)).translate(_UNPROTECT)


# Upper-case runs, camelCase words, digits inside words, and runs of other letters (Chinese).
_TOKEN = re.compile(r"[A-Z0-9]+(?=[A-Z][a-z])|[A-Z0-9]*[a-z0-9]+|[A-Z0-9]+|[^\W_A-Za-z0-9]+")
_MAX_AMBIGUOUS = 4


@dataclass(frozen=True)
class _Skeleton:
    """A key as joined lower-case tokens, in every reading of its ambiguous ``I`` and ``1``."""

    readings: tuple[str, ...]
    bounds: frozenset[int]

    def marked(self) -> tuple[str, ...]:
        """The readings with a NUL at every inner token boundary (see _MatchRegex)."""
        cuts = sorted(b for b in self.bounds if b > 0)
        result = []
        for reading in self.readings:
            cuts_in = [b for b in cuts if b < len(reading)]
            if not cuts_in:
                result.append(reading)
                continue
            pieces, previous = [], 0
            for cut in cuts_in:
                pieces.append(reading[previous:cut])
                previous = cut
            pieces.append(reading[previous:])
            result.append("\x00".join(pieces))
        return tuple(result)


def _skeleton(text: str) -> _Skeleton:
    parts: list[str] = []
    bounds = [0]
    ambiguous: list[int] = []
    offset = 0
    # NFKC, mark stripping and look-alike folding change nothing in ASCII.
    for token in _TOKEN.findall(text if text.isascii() else _fold(text)):
        if token.isascii():
            if "I" in token or "1" in token:
                ambiguous.extend(offset + i for i, char in enumerate(token) if char in "I1")
            token = token.lower().translate(_DIGIT_LETTERS)
        else:
            token = token.casefold()
        parts.append(token)
        offset += len(token)
        bounds.append(offset)
    joined = "".join(parts)
    if not ambiguous:
        return _Skeleton((joined,), frozenset(bounds))
    if len(ambiguous) <= _MAX_AMBIGUOUS:
        choices = list(product("il", repeat=len(ambiguous)))
    else:  # Too many to try every reading: read them all alike, or by kind.
        ones = [joined[i] == "1" for i in ambiguous]
        choices = [
            ("i",) * len(ambiguous),
            ("l",) * len(ambiguous),
            tuple("l" if one else "i" for one in ones),
            tuple("i" if one else "l" for one in ones),
        ]
    readings = []
    for choice in choices:
        chars = list(joined)
        for position, letter in zip(ambiguous, choice, strict=True):
            chars[position] = letter
        readings.append("".join(chars))
    return _Skeleton(tuple(dict.fromkeys(readings)), frozenset(bounds))


def normalise_key(key: str) -> str:
    """The form keys and key terms are compared in (first reading), for previews and tests."""
    return _skeleton(key).readings[0]


# --------------------------------------------------------------------------- key terms

_LATIN_ANYWHERE = 6


@dataclass(frozen=True)
class _Term:
    text: str
    readings: tuple[str, ...]
    anywhere: bool
    contextual: bool = False  # "~word": a finding only in a key that also names a person

    def spans(self, skeleton: _Skeleton, reading: str) -> Iterable[tuple[int, int]]:
        for term in self.readings:
            start = reading.find(term)
            while start >= 0:
                end = start + len(term)
                if self.anywhere or (start in skeleton.bounds and end in skeleton.bounds):
                    yield start, end
                start = reading.find(term, start + 1)


def _parse_term(code: str, text: Any) -> tuple[_Term, bool]:
    """(term, is_exception) from the policy syntax described in the module docstring."""
    if not isinstance(text, str):
        raise PolicyError(f"category {code!r}: key term {text!r} is not text")
    body = text.strip()
    exception = body.startswith("!")
    body = body.removeprefix("!").strip()
    mode = body[:1] if body[:1] in "=*~" else ""
    body = body[len(mode) :].strip()
    readings = tuple(r for r in _skeleton(body).readings if r)
    if not readings:
        raise PolicyError(f"category {code!r}: key term {text!r} has no letters or digits")
    if mode == "~" and exception:
        raise PolicyError(f"category {code!r}: key term {text!r} cannot be both ! and ~")
    if mode:
        anywhere = mode == "*"
    else:
        anywhere = not readings[0].isascii() or len(readings[0]) >= _LATIN_ANYWHERE
    return _Term(text, readings, anywhere, contextual=mode == "~"), exception


def _misspelt_term(term: _Term) -> _Term | None:
    """The term's one-slip spellings, matched as whole tokens only (inside a longer word a
    slip is too often another word: "lab group" holds "abgroup")."""
    if not term.anywhere or " " in term.text.strip() or term.text.lstrip()[:1] in "!=*~":
        return None
    variants = {v for reading in term.readings for v in _misspellings(reading)}
    variants -= set(term.readings)
    return _Term(term.text, tuple(sorted(variants)), anywhere=False) if variants else None


# Misspellings are read only in long Latin terms, where one slip cannot turn one ordinary
# word into another; short words (iris, gait) would collide.
_MISSPELT_LENGTH = 8
_VOWELS = "aeiou"


def _misspellings(reading: str) -> list[str]:
    """``reading`` and its spellings at one slip: a letter dropped (not the first), two
    neighbours swapped, a letter doubled, a vowel written as another."""
    if len(reading) < _MISSPELT_LENGTH or not reading.isascii() or not reading.isalpha():
        return []
    variants = [reading]
    for i in range(1, len(reading)):
        variants.append(reading[:i] + reading[i + 1 :])
        variants.append(reading[: i - 1] + reading[i] + reading[i - 1] + reading[i + 1 :])
    for i in range(len(reading)):
        variants.append(reading[: i + 1] + reading[i:])
        if reading[i] in _VOWELS:
            variants += [reading[:i] + v + reading[i + 1 :] for v in _VOWELS if v != reading[i]]
    return variants


# --------------------------------------------------------------------------- value triggers

# Whitespace is deleted from the text triggers are searched in, so a pattern's \s* and
# spaces cost nothing and "blood  type" still holds the literal "bloodtype".
_WHITESPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"
_WHITESPACE_BYTES = _WHITESPACE.encode()
_LOWER_ASCII = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"abcdefghijklmnopqrstuvwxyz")
_SEPARATORS = ("\x00", "\x01", "\x02", "\x03", "\x04", "\x05", "\x06", "\x07", "\x08", "\x0e")
_MAX_SET = 256
_MIN_WEIGHT = 3.0
_MIN_RUN = 8


@dataclass(frozen=True)
class _Info:
    exact: frozenset[str] | None  # every string the node can match, when few
    need: frozenset[str] | None  # every match contains one of these
    run: tuple[frozenset[str], int] | None  # every match contains a run of these characters
    edge: frozenset[str] | None = None  # every match starts and ends with one of these


_UNKNOWN = _Info(None, None, None)
_EMPTY = _Info(frozenset({""}), None, None)


# Words ordinary records are full of: a trigger made of one would send many strings to the
# exact check, so a pattern's rarer literals are preferred (this only affects speed).
_COMMON = frozenset(
    """a an and are as at be been being by for from had has have having her his in is it of on
    or the their this that to was were with not no yes
    attend attends attended attending belongsto goesto wentto member memberof history
    historyof condition status test tests testing result results report reports analysis
    match data record records sample image scan type group code print template encoding
    embedding geometry information identifier living livingwith suffer hearing medical
    health hospital blood gene face voice vein""".split()  # noqa: SIM905 - a word list
)


def _weight(literal: str) -> float:
    if literal in _COMMON:
        return 1.0
    return sum(1.0 if char.isascii() else 2.5 for char in literal)


def _best(candidates: Iterable[frozenset[str] | None]) -> frozenset[str] | None:
    """The requirement worth searching for: long, rare literals, and few of them."""
    best, best_score = None, None
    for candidate in candidates:
        if not candidate or "" in candidate:
            continue
        weight = min(map(_weight, candidate))
        usable = weight >= _MIN_WEIGHT
        score = (usable, min(weight, 8.0) - 0.5 * math.log2(len(candidate)), weight)
        if best_score is None or score > best_score:
            best, best_score = candidate, score
    return best


def _char(code: int, icase: bool) -> str | None:
    char = chr(code)
    if char in _WHITESPACE:
        return ""
    if char.isascii():
        return char.lower()
    if icase and (char.lower() != char or char.upper() != char):
        return None  # Case-insensitive non-ASCII letters have surprising equivalents.
    return char


def _class_chars(items: list, icase: bool) -> frozenset[str] | None:
    chars: set[str] = set()
    for op, av in items:
        if op is _sre.LITERAL:
            char = _char(av, icase)
            if char is None:
                return None
            chars.add(char)
        elif op is _sre.RANGE and av[1] - av[0] <= 64:
            for code in range(av[0], av[1] + 1):
                char = _char(code, icase)
                if char is None:
                    return None
                chars.add(char)
        elif op is _sre.CATEGORY and av is _sre.CATEGORY_DIGIT:
            chars.update("0123456789")  # Other digits are unusual characters: see _VALUE_ODD.
        elif op is _sre.CATEGORY and av is _sre.CATEGORY_SPACE:
            chars.add("")
        else:
            return None
    return frozenset(chars)


def _sequence(items: list, icase: bool) -> _Info:
    accumulated: set[str] = {""}
    whole = True
    candidates: list[frozenset[str] | None] = []
    run = None
    for op, av in items:
        info = _item(op, av, icase)
        if info.run and (run is None or info.run[1] > run[1]):
            run = info.run
        candidates.append(info.need)
        if info.exact is None:
            whole = False
            edge = info.edge
            if edge is not None and len(accumulated) * len(edge) <= _MAX_SET:
                candidates.append(frozenset(a + b for a in accumulated for b in edge))
            accumulated = set(edge) if edge is not None else {""}
            continue
        candidates.append(info.exact)
        if len(accumulated) * len(info.exact) > _MAX_SET:
            whole = False
            accumulated = set(info.exact)
        else:
            accumulated = {a + b for a in accumulated for b in info.exact}
        candidates.append(frozenset(accumulated))
    exact = frozenset(accumulated) if whole else None
    return _Info(exact, _best(candidates), run)


def _item(op, av, icase: bool) -> _Info:  # one case per kind of regex node
    c = _sre
    if op is c.LITERAL:
        char = _char(av, icase)
        return _UNKNOWN if char is None else _Info(frozenset({char}), None, None)
    if op is c.IN:
        chars = _class_chars(av, icase)
        if chars is None or len(chars) > _MAX_SET:
            return _UNKNOWN
        return _Info(chars, None, None)
    if op is c.ASSERT:  # what a positive look-around sees is in the string too
        inner = _sequence(av[1], icase)
        return _Info(frozenset({""}), inner.need or _best([inner.exact]), inner.run)
    if op in (c.AT, c.ASSERT_NOT):
        return _EMPTY
    if op is c.SUBPATTERN:
        _group, add, remove, pattern = av
        flag = c.SRE_FLAG_IGNORECASE
        return _sequence(pattern, (icase or bool(add & flag)) and not remove & flag)
    if op is getattr(c, "ATOMIC_GROUP", None):
        return _sequence(av, icase)
    if op is c.BRANCH:
        infos = [_sequence(branch, icase) for branch in av[1]]
        exact = None
        if all(info.exact is not None for info in infos):
            union = frozenset().union(*(info.exact for info in infos))
            exact = union if len(union) <= _MAX_SET else None
        need = None
        if all(info.need for info in infos):
            need = frozenset().union(*(info.need for info in infos))
        return _Info(exact, need, None)
    if op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
        low, high, pattern = av
        child = _sequence(pattern, icase)
        if child.exact == frozenset({""}):
            return _EMPTY
        if low == 0:
            if high == 1 and child.exact is not None:
                return _Info(child.exact | {""}, None, None)
            return _UNKNOWN
        exact = None
        if low == high and child.exact is not None and len(child.exact) ** low <= _MAX_SET:
            exact = frozenset("".join(p) for p in product(sorted(child.exact), repeat=low))
        run = child.run
        chars = child.exact
        if (
            low >= _MIN_RUN
            and chars
            and all(len(char) == 1 and char.isascii() for char in chars)
            and (run is None or low > run[1])
        ):
            run = (chars, low)
        edge = None if exact is not None else child.exact
        return _Info(exact, child.need or _best([child.exact]), run, edge)
    return _UNKNOWN


def _has_context(items: list) -> bool:
    """Whether a pattern looks outside its match (anchors, look-arounds, conditionals)."""
    c = _sre
    for op, av in items:
        if op in (c.AT, c.ASSERT, c.ASSERT_NOT, c.GROUPREF_EXISTS, c.GROUPREF):
            return True
        if op is c.SUBPATTERN and _has_context(av[3]):
            return True
        if op is c.BRANCH and any(_has_context(b) for b in av[1]):
            return True
        if op in (c.MAX_REPEAT, c.MIN_REPEAT) and _has_context(av[2]):
            return True
        if op is getattr(c, "POSSESSIVE_REPEAT", None) and _has_context(av[2]):
            return True
        if op is getattr(c, "ATOMIC_GROUP", None) and _has_context(av):
            return True
    return False


def _trie_regex(literals: Iterable[str]) -> re.Pattern[str] | None:
    """One alternation finding any of ``literals``, factored so the C engine branches little."""
    root: dict = {}
    for literal in sorted(set(literals)):
        node = root
        for char in literal:
            node = node.setdefault(char, {})
        node[""] = {}

    def emit(node: dict) -> str:
        if "" in node:  # A shorter literal already suffices.
            return ""
        branches = [re.escape(char) + emit(child) for char, child in sorted(node.items())]
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return re.compile(emit(root)) if root else None


@dataclass(frozen=True)
class _Pattern:
    category: str
    name: str
    regex: re.Pattern[str]
    trigger: tuple[str, Any]  # from _trigger()


def _trigger(regex: re.Pattern[str]) -> tuple[str, Any]:
    """How a pattern's candidates are found in bulk: ("literals", set) when every match holds
    one of them, ("run", (chars, length)) when every match holds such a run, else ("direct",
    None) to run it on the joined text or ("string", None) to run it on each string."""
    if _sre_parse is None:
        return "string", None
    try:
        parsed = _sre_parse.parse(regex.pattern, regex.flags)
        info = _sequence(list(parsed), bool(parsed.state.flags & _sre.SRE_FLAG_IGNORECASE))
        context = _has_context(list(parsed))
    except Exception:  # an unreadable tree only costs speed
        return "string", None
    if info.need and min(map(_weight, info.need)) >= _MIN_WEIGHT:
        return "literals", info.need
    if info.run:
        return "run", info.run
    return ("string", None) if context else ("direct", None)


@functools.cache
def _run_table(chars: frozenset[str], sep: int) -> bytes:
    """Run characters to 0xff, the separator to itself, everything else to 0x80."""
    return bytes(255 if chr(b) in chars else b if b == sep else 128 for b in range(256))


def _compile_pattern(code: str, index: int, entry: Any) -> _Pattern:
    if isinstance(entry, tuple | list) and len(entry) == 2:
        name, source = entry
    else:
        name, source = None, entry
    label = f"{name!r} ({source!r})" if name else repr(source)
    if not isinstance(source, str) or (name is not None and not isinstance(name, str)):
        raise PolicyError(f"category {code!r}: value pattern {label} is not text")
    try:
        regex = re.compile(source)
    except (re.error, OverflowError, RecursionError) as error:
        raise PolicyError(
            f"category {code!r}: value pattern {label} is not a valid regular expression: {error}"
        ) from None
    for probe in ("", "x", "0", "中", " "):
        match = regex.search(probe)
        if match is not None and match.end() == match.start():
            raise PolicyError(
                f"category {code!r}: value pattern {label} can match an empty string, "
                "so it would refuse every value"
            )
    if not name:
        named = sorted(regex.groupindex.items(), key=lambda item: item[1])
        name = named[0][0] if named else f"{code}#{index + 1}"
    return _Pattern(code, name, regex, _trigger(regex))


_SURROGATE = re.compile("[\ud800-\udfff]")


class _ValueTriggers:
    """Which of many strings may match a value pattern, and which patterns, found with a
    few C-speed scans: one Aho-Corasick automaton finds every trigger literal of every
    pattern, overlapping ones included, in the strings joined and folded together."""

    def __init__(self, patterns: Iterable[_Pattern]) -> None:
        owners: dict[str, set[int]] = {}
        runs: dict[frozenset[str], int] = {}
        self.direct: list[re.Pattern[str]] = []
        self.per_string: list[re.Pattern[str]] = []
        self.untriggered: set[int] = set()  # patterns without literals: always tried
        for index, pattern in enumerate(patterns):
            kind, detail = pattern.trigger
            if kind == "literals":
                for literal in detail:
                    owners.setdefault(literal, set()).add(index)
                continue
            self.untriggered.add(index)
            if kind == "run":
                chars, length = detail
                runs[chars] = min(length, runs.get(chars, length))
            elif kind == "direct":
                self.direct.append(pattern.regex)
            else:
                self.per_string.append(pattern.regex)
        literals = sorted(owners)
        self.owners = [frozenset(owners[literal]) for literal in literals]
        self.automaton = AhoCorasick(literals) if literals else None
        self.runs = [(chars, b"\xff" * n) for chars, n in runs.items()]

    def patterns_in(self, folded: str) -> set[int]:
        """The literal-triggered patterns whose literals occur in one folded string."""
        if self.automaton is None:
            return set()
        owners = self.owners
        found: set[int] = set()
        for literal in set(self._matches(folded)):
            found |= owners[literal[0]]
        return found

    def _matches(self, text: str) -> list[tuple[int, int, int]]:
        """(literal, start, end) of every literal in ``text``, overlapping ones included."""
        try:
            return self.automaton.find_matches_as_indexes(text, overlapping=True)
        except UnicodeEncodeError:  # lone surrogates: one replacement character each
            text = _SURROGATE.sub("\ufffd", text)
            return self.automaton.find_matches_as_indexes(text, overlapping=True)

    def suspects(
        self, strings: list[str], joined_sep: tuple[str, str] | None = None
    ) -> dict[int, frozenset[int] | None]:
        """{index of a string that may match: the patterns worth trying on it, or None for
        all of them}."""
        if joined_sep is None:
            joined_sep = _join(strings)
        if joined_sep is None:
            return dict.fromkeys(range(len(strings)))
        joined, sep = joined_sep
        every: set[int] = set()  # strings on which every pattern is tried
        plain_ascii = joined.isascii()
        if not plain_ascii:
            _scan(joined, _VALUE_ODD.search, sep, every)
        folded = joined.encode("utf-8", "surrogatepass").translate(_LOWER_ASCII, _WHITESPACE_BYTES)
        text = folded.decode("ascii") if plain_ascii else folded.decode("utf-8", "surrogatepass")
        sep_byte = sep.encode()
        for chars, needle in self.runs:
            marked = folded.translate(_run_table(chars, sep_byte[0]))
            _scan(marked, _finder(needle), sep_byte, every)
        for regex in self.direct:
            _scan(joined, regex.search, sep, every)
        for regex in self.per_string:
            every.update(
                i for i, string in enumerate(strings) if i not in every and regex.search(string)
            )
        result: dict[int, frozenset[int] | None] = dict.fromkeys(every)
        if self.automaton is None:
            return result
        matches = self._matches(text)
        if not matches:
            return result
        # Each match's string is the number of separators before it.
        bounds = [match.start() for match in re.finditer(re.escape(sep), text)]
        found: dict[int, set[int]] = {}
        for literal, index in set(
            zip(
                map(itemgetter(0), matches),
                map(bisect.bisect, repeat(bounds), map(itemgetter(1), matches)),
                strict=True,
            )
        ):
            if index in every:
                continue
            if index in found:
                found[index] |= self.owners[literal]
            else:
                found[index] = set(self.owners[literal])
        for index, owners in found.items():
            result[index] = frozenset(owners | self.untriggered)
        return result


def _finder(needle: bytes) -> Callable[[bytes, int], Any]:
    def find(data: bytes, position: int) -> _Found | None:
        start = data.find(needle, position)
        return None if start < 0 else _Found(start)

    return find


@dataclass(frozen=True)
class _Found:
    at: int

    def start(self) -> int:
        return self.at


def _join(strings: list[str]) -> tuple[str, str] | None:
    """The strings joined by a separator none of them contains, or None."""
    for sep in _SEPARATORS:
        joined = sep.join(strings)
        if joined.count(sep) == len(strings) - 1:
            return joined, sep
    return None


def _scan(text, search, sep, found: set[int]) -> None:
    """Add to ``found`` the index of every joined string in which ``search`` matches."""
    position = counted = index = 0
    while True:
        match = search(text, position)
        if match is None:
            return
        start = match.start()
        index += text.count(sep, counted, start)
        found.add(index)
        following = text.find(sep, start)
        if following < 0:
            return
        index += 1
        counted = position = following + 1


# --------------------------------------------------------------------------- key triggers


def _key_fold_table() -> bytes:
    table = bytearray(range(256))
    for upper in range(ord("A"), ord("Z") + 1):
        table[upper] = upper + 32
    for source, target in zip("Ii10345", "llloeas", strict=True):
        table[ord(source)] = ord(target)
    return bytes(table)


_KEY_FOLD = _key_fold_table()
_KEY_DROP = {
    sep: bytes(b for b in range(128) if not chr(b).isalnum() and chr(b) != sep)
    for sep in _SEPARATORS
}


class _KeyTriggers:
    """For bodies with many unseen keys: which may hold a term, found with one scan."""

    def __init__(self, terms: Iterable[_Term]) -> None:
        anywhere: dict[str, bool] = {}
        for term in terms:
            for reading in term.readings:
                literal = reading.encode().translate(_KEY_FOLD).decode()
                anywhere[literal] = anywhere.get(literal, False) or term.anywhere
        literals = sorted(anywhere)
        self.anywhere = [anywhere[literal] for literal in literals]
        self.automaton = AhoCorasick(literals) if literals else None

    def suspects(self, keys: list[str]) -> tuple[set[str], set[str]]:
        """(the keys that may hold a term: a folded term's letters or unusual characters,
        those of them that hold the letters of a term matched anywhere)."""
        joined_sep = _join(keys)
        if joined_sep is None or self.automaton is None:
            return set(keys), set(keys)
        joined, sep = joined_sep
        odd: set[int] = set()
        _scan(joined, _KEY_ODD.search, sep, odd)
        folded = joined.encode("utf-8", "surrogatepass").translate(_KEY_FOLD, _KEY_DROP[sep])
        text = folded.decode("utf-8", "surrogatepass")
        try:
            matches = self.automaton.find_matches_as_indexes(text, overlapping=True)
        except UnicodeEncodeError:  # lone surrogates: one replacement character each
            text = _SURROGATE.sub("\ufffd", text)
            matches = self.automaton.find_matches_as_indexes(text, overlapping=True)
        found = set(odd)
        anywhere = set(odd)
        if matches:
            # The end of each folded key, +1 for its separator; a match's key is the number
            # of ends at or before its start.
            ends = list(accumulate(map((1).__add__, map(len, text.split(sep)))))
            owners = list(map(bisect.bisect, repeat(ends), map(itemgetter(1), matches)))
            found.update(owners)
            flags = map(self.anywhere.__getitem__, map(itemgetter(0), matches))
            anywhere.update(compress(owners, flags))
        return set(map(keys.__getitem__, found)), set(map(keys.__getitem__, anywhere))


class _Bulk:
    """What the checks of a body with many keys share, each computed once when first asked."""

    def __init__(self, keys: set) -> None:
        self.keys = keys
        self._text_keys: list[str] | None = None
        self._roles: set[int] | None = None
        self._marked: tuple[str, list[str]] | None = None

    @property
    def text_keys(self) -> list[str]:
        if self._text_keys is None:
            self._text_keys = _text_keys(self.keys)
        return self._text_keys

    @property
    def roles(self) -> set[int]:
        if self._roles is None:
            self._roles = _roles_present(self.keys, self.text_keys)
        return self._roles

    @property
    def marked(self) -> tuple[str, list[str]]:
        """Every key as a marked line (see _marked_lines) and the keys in line order."""
        if self._marked is None:
            self._marked = _marked_lines(self.text_keys)
        return self._marked

    def lines_matching(self, regex: re.Pattern[str]) -> set[str]:
        """The keys whose marked line (with the newline before it) ``regex`` finds."""
        text, owners = self.marked
        found: set[str] = set()
        index = -1
        counted = 0
        for match in regex.finditer(text):
            start = match.start()
            index += text.count("\n", counted, start + 1)
            counted = start + 1
            found.add(owners[index])
        return found


# --------------------------------------------------------------------------- name/value pairs

_NAME, _VALUE = 1, 2
_NAME_KEYS = (
    "name", "key", "field", "field name", "field code", "item", "item name", "item code",
    "attr", "attr name", "attribute", "attribute name", "property", "property name", "label",
    "code", "字段", "字段名", "字段名称", "名称", "项目", "项目名称", "属性", "属性名",
    "属性名称", "指标", "指标名称", "数据项", "信息项",
    "k", "n", "title", "caption", "tag", "param", "parameter", "param name", "column",
    "column name", "custom field", "custom field name", "question", "prompt", "heading",
    "键", "键名", "标签", "名", "参数", "参数名", "自定义字段", "问题", "标题", "列名",
)  # fmt: skip
_VALUE_KEYS = (
    "value", "val", "values", "content", "text", "result", "field value", "item value",
    "attr value", "attribute value", "值", "字段值", "内容", "数值", "结果", "取值", "属性值",
    "指标值",
    "v", "data", "answer", "response", "detail", "details", "param value", "custom value",
    "custom field value", "键值", "参数值", "答案", "回答", "详情",
)  # fmt: skip


_ASCII_ROLE_DROP = str.maketrans(
    "", "", "".join(c for c in map(chr, range(128)) if not c.isalnum())
)


def _role_fold(key: str) -> str:
    if key.isascii():
        return key.lower().translate(_ASCII_ROLE_DROP)
    return "".join(char for char in unicodedata.normalize("NFKC", key).casefold() if char.isalnum())


# A member holding a table's column names; its sibling arrays hold the rows.
_COLUMNS, _COLUMN_KEYS = 3, (
    "columns", "cols", "fields", "field names", "header", "headers", "column names",
    "列", "列名", "表头", "字段列表", "字段名列表",
)  # fmt: skip
_ROLES = {
    **{_role_fold(key): _NAME for key in _NAME_KEYS},
    **{_role_fold(key): _VALUE for key in _VALUE_KEYS},
    **{_role_fold(key): _COLUMNS for key in _COLUMN_KEYS},
}
_role_cache: dict[Any, int] = {}
_CACHE_LIMIT = 20_000


_LOWER_ASCII_BYTES = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"abcdefghijklmnopqrstuvwxyz")
_ROLE_LENGTH = 2 * max(map(len, (*_NAME_KEYS, *_VALUE_KEYS)))


def _role(key: Any) -> int:
    if type(key) is str and len(key) > _ROLE_LENGTH:
        return 0
    role = _role_cache.get(key)
    if role is None:
        role = _ROLES.get(_role_fold(key), 0) if isinstance(key, str) else 0
        if len(_role_cache) >= _CACHE_LIMIT:
            _role_cache.clear()
        _role_cache[key] = role
    return role


_ROLE_BYTES = {key.encode(): role for key, role in _ROLES.items() if key.isascii()}
_ROLE_DROP_BYTES = bytes(b for b in range(128) if not chr(b).isalnum() and b != 10)


def _text_keys(keys: Iterable) -> list[str]:
    """The keys that are strings, in C-speed passes (a set iterates twice in one order)."""
    return list(compress(keys, map(_IS_STR, map(type, keys))))


def _roles_present(keys: set, text_keys: list[str] | None = None) -> set[int]:
    """The roles (_NAME, _VALUE, _COLUMNS) some key of ``keys`` may have; for many keys,
    from one fold of them all (a key holding a newline may add a role, never hide one)."""
    if len(keys) <= _MANY_KEYS:
        return {_role(key) for key in keys}
    if text_keys is None:
        text_keys = _text_keys(keys)
    roles = {_role(key) for key in filterfalse(str.isascii, text_keys)}
    lines = "\n".join(filter(str.isascii, text_keys)).encode("ascii")
    folded = set(lines.translate(_LOWER_ASCII_BYTES, _ROLE_DROP_BYTES).split(b"\n"))
    roles.update(_ROLE_BYTES[line] for line in folded.intersection(_ROLE_BYTES))
    if len(text_keys) < len(keys):
        roles.update(_role(key) for key in keys if type(key) is not str)
    return roles


# --------------------------------------------------------------------------- the screener

Hits = tuple[tuple[str, str], ...]
_ATOMIC = frozenset({str, int, float, bool, type(None)})
_IS_STR = frozenset({str}).__contains__
_MANY_KEYS = 64
_GATED_LENGTH = 200


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


# For bulk checks every reading of an ambiguous I or 1 is one character (see _marked_line).
_AMBIGUOUS = "\x01"
_LINE_FOLD = str.maketrans(
    {
        **{chr(c): chr(c + 32) for c in range(ord("A"), ord("Z") + 1)},
        "I": _AMBIGUOUS,
        "1": _AMBIGUOUS,
        "0": "o",
        "3": "e",
        "4": "a",
        "5": "s",
    }
)


def _marked_line(key: str) -> str:
    """A key as one line for bulk checks: like _Skeleton.marked(), with an ambiguous I or 1
    kept as one character that the bulk regex reads as either i or l."""
    tokens = _TOKEN.findall(key if key.isascii() else _fold(key))
    return "\x00".join(
        token.translate(_LINE_FOLD) if token.isascii() else token.casefold() for token in tokens
    )


def _line_table() -> bytes:
    table = bytearray(range(256))
    for byte in range(128):
        char = chr(byte)
        if char == "\n":
            continue
        if not char.isalnum():
            table[byte] = 0
        elif char in _LINE_FOLD_CHARS:
            table[byte] = ord(_LINE_FOLD_CHARS[char])
    return bytes(table)


_LINE_FOLD_CHARS = {chr(k): v for k, v in _LINE_FOLD.items()}
_LINE_BYTES = _line_table()
_CAMEL_LOWER = re.compile(r"([a-z0-9])([A-Z])")
_CAMEL_UPPER = re.compile(r"([A-Z])([A-Z][a-z])")
_NULS = re.compile(b"\x00{2,}")


def _marked_lines(keys: list[str]) -> tuple[str, list[str]]:
    """The keys as one text of marked lines, each after a newline, and the keys in the
    order of the lines.  ASCII keys are marked all at once in C-speed passes, with token
    boundaries at least wherever _marked_line() puts them (a bulk check may then find more,
    never less); other keys one by one."""
    simple = list(filter(str.isascii, keys))
    others = list(filterfalse(str.isascii, keys))
    text = "\n" + "\n".join(simple) if simple else ""
    if text.count("\n") != len(simple):  # a key holding a newline is marked alone
        others += (key for key in simple if "\n" in key)
        simple = [key for key in simple if "\n" not in key]
        text = "\n" + "\n".join(simple) if simple else ""
    if not text.islower():  # camelCase boundaries
        for camel in (_CAMEL_LOWER, _CAMEL_UPPER):
            text = camel.sub("\\1\x00\\2", text)
    data = _NULS.sub(b"\x00", text.encode("ascii").translate(_LINE_BYTES))
    lines = data.decode("ascii") + "".join("\n" + _marked_line(key) for key in others)
    return lines, simple + others


def _term_regex(terms: Iterable[_Term], *, bulk: bool = False) -> re.Pattern[str] | None:
    """One regex finding any of ``terms`` in marked readings (tokens joined by NUL, keys by
    newline): a whole-token term must start and end at a boundary, and any term may span
    boundaries inside it.  A match is exactly a place where _Term.spans() finds the term."""
    roots: dict[bool, dict] = {True: {}, False: {}}
    for term in terms:
        for reading in term.readings:
            node = roots[term.anywhere]
            for char in reading:
                node = node.setdefault(char, {})
            node[""] = {}
    end_of_token = "(?![^\\x00\\n])"  # noqa: S105 - a regex, not a password

    def letter(char: str) -> str:
        if bulk and char in "il":
            return f"[{char}\\x01]"
        return re.escape(char)

    def emit(node: dict, anywhere: bool) -> str:
        if "" in node and anywhere:  # a shorter term already suffices
            return ""
        parts = []
        children = sorted((char, child) for char, child in node.items() if char)
        if children:
            branches = [letter(char) + emit(child, anywhere) for char, child in children]
            parts.append("\\x00?(?:" + "|".join(branches) + ")")
        if "" in node:
            parts.append(end_of_token)
        return parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")"

    alternatives = []
    for anywhere, root in roots.items():
        if not root:
            continue
        body = "|".join(letter(c) + emit(child, anywhere) for c, child in sorted(root.items()))
        if anywhere:
            start = ""
        elif bulk:  # a character class first lets the engine skip to the next boundary
            start = "[\\x00\\n]"
        else:
            start = "(?<![^\\x00\\n])"
        alternatives.append(f"{start}(?:{body})")
    return re.compile("|".join(alternatives)) if alternatives else None


# Words that put a person in a key, for the terms that name prohibited data only beside
# one ("~rh": relative humidity in an inspection record, a blood group in patient_rh).
PERSON_WORDS = (
    "patient", "person", "personal", "resident", "citizen", "applicant", "donor",
    "recipient", "employee", "member", "subject", "individual", "holder", "debtor", "party",
    "volunteer", "blood", "本人", "患者", "病人", "当事人", "申请人", "居民", "人员", "员工",
    "献血者", "个人", "被执行人", "血", "huanzhe", "bingren", "geren",
)  # fmt: skip
_PERSON = _term_regex(
    _Term(word, _skeleton(word).readings, anywhere=not word.isascii()) for word in PERSON_WORDS
)


_MIN_CUT = 3


def _heads_regex(terms: Iterable[_Term]) -> re.Pattern[str] | None:
    """Finds, in newline-separated marked keys, a key ending with the start of a term that
    begins at a token boundary: a parent that its child's name may complete."""
    heads = set()
    for term in terms:
        words = [w for w in re.split(r"[\W_]+", term.text.lstrip("!=*")) if w]
        for reading in term.readings:
            if not reading.isascii():  # a Chinese term may be cut after any character
                heads.update(reading[:cut] for cut in range(1, len(reading)))
                continue
            # A Latin term is cut between its words ("blood" of "blood type"); a single word
            # matched anywhere (an English word of six letters or more, or pinyin) after any
            # of its letters from the third to the last but two ("finger" of "fingerprint",
            # "xue" of "xuexing").
            cut = 0
            for word in words[:-1]:
                cut += len(_skeleton(word).readings[0])
                heads.add(reading[:cut])
            if len(words) == 1 and term.anywhere and not term.contextual:
                heads.update(reading[:cut] for cut in range(_MIN_CUT, len(reading) - 1))
    if not heads:
        return None
    trie = _trie_regex_ambiguous(heads)
    return re.compile(f"[\\x00\\n](?:{trie})(?=\\n)")


def _trie_regex_ambiguous(literals: Iterable[str]) -> str:
    """A trie alternation of ``literals`` over marked lines (NUL between tokens, and an
    ambiguous I or 1 read as i or l); every literal must be matched whole."""
    root: dict = {}
    for literal in literals:
        node = root
        for char in literal:
            node = node.setdefault(char, {})
        node[""] = {}

    def letter(char: str) -> str:
        return f"[{char}\\x01]" if char in "il" else re.escape(char)

    def emit(node: dict) -> str:
        branches = [
            letter(char) + ("\\x00?" if child.keys() - {""} else "") + emit(child)
            for char, child in sorted(node.items())
            if char
        ]
        if "" in node:
            branches.append("")
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return emit(root)


@dataclass(frozen=True)
class _Category:
    code: str
    terms: tuple[_Term, ...]
    exceptions: tuple[_Term, ...]
    patterns: tuple[_Pattern, ...]
    term_regex: re.Pattern[str] | None = None
    exception_regex: re.Pattern[str] | None = None
    term_of: Mapping[str, str] | None = None
    context_regex: re.Pattern[str] | None = None

    def key_term(self, skeleton: _Skeleton) -> str | None:
        found = self._plain_term(skeleton)
        if found is None and self.context_regex is not None:
            marked = skeleton.marked()
            for reading in marked:
                match = self.context_regex.search(reading)
                if match is not None and any(_PERSON.search(r) for r in marked):
                    return self.term_of[match.group().replace("\x00", "")]
        return found

    def _plain_term(self, skeleton: _Skeleton) -> str | None:
        if self.term_regex is None:
            return None
        marked = skeleton.marked()
        for reading in marked:
            match = self.term_regex.search(reading)
            if match is None:
                continue
            if self.exception_regex is None or not any(
                self.exception_regex.search(r) for r in marked
            ):
                return self.term_of[match.group().replace("\x00", "")]
            return self._key_term_with_exceptions(skeleton)
        return None

    def _key_term_with_exceptions(self, skeleton: _Skeleton) -> str | None:
        # Readings differ only in I/1, so an exception found in any reading covers them all.
        excepted = [
            span
            for reading in skeleton.readings
            for term in self.exceptions
            for span in term.spans(skeleton, reading)
        ]
        for reading in skeleton.readings:
            for term in self.terms:
                if term.contextual:
                    continue
                for start, end in term.spans(skeleton, reading):
                    if not any(a <= start and end <= b for a, b in excepted):
                        return term.text
        return None


@dataclass(frozen=True)
class _Shape:
    """The verdicts on a set of keys: the keys naming prohibited data, the pair and column
    roles present, and the keys that may be the first half of a split term."""

    bad_keys: dict[Any, Hits]
    roles: set[int]
    heads: set


# The longest string read as a label (a pair's name, a table's column name).
_MAX_LABEL = 64

_SENTENCE = re.compile(r"[，。；！？,;!?]|[.:：]\s")


def _label_hits(label: str, hits: Hits) -> Hits:
    """A label's findings, less a bare short word in a single word or in prose ("temple" as
    a site, "Iris Zhou" as a name; written as an identifier, "patient_iris", it counts) and
    a Chinese term inside a longer phrase (传承红色基因 is a slogan, not a field)."""
    if not label.isascii():  # a Chinese label is the term and a few characters more
        return tuple(hit for hit in hits if len(label) <= len(hit[1].lstrip("!=*~")) + 3)
    if " " not in label and len(_TOKEN.findall(label)) >= 2:
        return hits
    return tuple(hit for hit in hits if not _bare_word(hit[1]))


def _bare_word(term: str) -> bool:
    body = term.lstrip("!=*~").strip()
    return term.lstrip()[:1] in "=~" or (
        body.isascii() and " " not in body and len(body) < _LATIN_ANYWHERE
    )


# A member name that is a UUID or a hex digest is an identifier, not a name: its digits are
# not read as letters ("1cd9" of a UUID is not "icd9").
_IDENTIFIER = re.compile(
    r"(?i:(?:urn:uuid:)?\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?"
    r"|(?=[a-f]*[0-9])[0-9a-f]{16,})"
)

# Key sets remembered (each of at most _MANY_KEYS keys); the cache is emptied when full.
_SHAPE_LIMIT = 2_000


class Screener:
    """A compiled policy.  Safe to share between threads; caches only what it has computed."""

    def __init__(
        self,
        version: int,
        categories: tuple[_Category, ...],
        decoders: Iterable[str] = tuple(_decoders.DECODERS),
    ) -> None:
        self.version = version
        self.decoders = frozenset(decoders)
        self.categories = tuple(category.code for category in categories)
        self._categories = categories
        self._values = _ValueTriggers(p for c in categories for p in c.patterns)
        self._keys = _KeyTriggers(t for c in categories for t in c.terms)
        terms = [t for c in categories for t in c.terms]
        self._whole_token = _term_regex((t for t in terms if not t.anywhere), bulk=True)
        self._heads = _heads_regex(terms)
        self._key_cache: dict[Any, Hits] = {}
        self._head_cache: dict[str, bool] = {}
        self._shape_cache: dict[frozenset, _Shape] = {}

    def __repr__(self) -> str:
        return f"<Screener version={self.version} categories={len(self.categories)}>"

    # -- single keys and values

    def key_categories(self, key: Any) -> Hits:
        """(category, term) for each category whose key terms name ``key``."""
        hits = self._key_cache.get(key)
        if hits is None:
            text = key if isinstance(key, str) else str(key)
            if _IDENTIFIER.fullmatch(text):  # a UUID or a hex digest names nothing
                hits = ()
            else:
                skeleton = _skeleton(text)
                hits = tuple(
                    (category.code, term)
                    for category in self._categories
                    if (term := category.key_term(skeleton)) is not None
                )
            if _decoders.CONCEALING.search(text):
                hits = (*hits, *self._concealed_key(text))
            if len(self._key_cache) >= _CACHE_LIMIT:
                self._key_cache.clear()
            self._key_cache[key] = hits
        return hits

    def value_categories(self, value: str, admitted: frozenset[int] | None = None) -> Hits:
        """(category, pattern name) for each category a pattern of which finds ``value``;
        ``admitted``, from _ValueTriggers.suspects(), limits the patterns worth trying."""
        plain = _plain_value(value)
        # In a long ordinary string, skip the patterns whose trigger is absent (a trigger is
        # necessary for a match, so this changes nothing but the time taken).
        if admitted is None and plain is value and len(value) > _GATED_LENGTH:
            folded = value.encode("utf-8", "surrogatepass").translate(
                _LOWER_ASCII, _WHITESPACE_BYTES
            )
            admitted = frozenset(
                self._values.patterns_in(folded.decode("utf-8", "surrogatepass"))
                | self._values.untriggered
            )
        hits = []
        index = -1
        for category in self._categories:
            found = False
            for pattern in category.patterns:
                index += 1
                if found or (admitted is not None and index not in admitted):
                    continue
                if pattern.regex.search(plain) or (
                    plain is not value and pattern.regex.search(value)
                ):
                    hits.append((category.code, pattern.name))
                    found = True
        return tuple(hits)

    # -- documents

    def _concealed_key(self, text: str) -> Hits:
        """Invisible or direction-changing characters in a key, and what tags spell."""
        hits: list[tuple[str, ...]] = [(CONCEALMENT, kind) for kind in _decoders.concealment(text)]
        hidden = _decoders.hidden_tag_text(text)
        if hidden and "unicode_tags" in self.decoders:
            hits += [(*hit[:2], "unicode_tags") for hit in self.key_categories(hidden)]
            hits += [(*hit[:2], "unicode_tags") for hit in self.value_categories(hidden)]
        return tuple(hits)

    def screen_value(self, text: str) -> list[Violation]:
        """Every violation in one text value (an appeal statement, a note), with what it
        carries decoded; paths are "" (the text itself), ``via`` names any format."""
        if not isinstance(text, str):
            raise TypeError("screen_value() takes a string")
        return self._screen(text, exhaustive=False)

    def screen_text(self, raw_json_text: str, document: Any) -> list[Violation]:
        """Screen a body the gateway has parsed; the text is not needed (see module notes)."""
        del raw_json_text
        return self.screen(document)

    def screen(self, document: Any) -> list[Violation]:
        """Every violation in ``document``, in document order, one per (path, category)."""
        return self._screen(document, exhaustive=False)

    def screen_exhaustive(self, document: Any) -> list[Violation]:
        """The same result as screen(), checking every key and string exactly: a reference."""
        return self._screen(document, exhaustive=True)

    # -- internals

    def _screen(
        self, document: Any, *, exhaustive: bool, depth: int = 0, budget: list[int] | None = None
    ) -> list[Violation]:
        shapes: list[list] = [[], []]
        keys, strings = _gather(document, shapes)
        joined_sep = _join(strings) if strings else None
        bulk = _Bulk(keys) if len(keys) > _MANY_KEYS else None
        shape = None if bulk is not None else self._shape(keys)
        if exhaustive:
            bad_keys = {key: hits for key in keys if (hits := self.key_categories(key))}
            candidates: dict[int, frozenset[int] | None] = dict.fromkeys(range(len(strings)))
        else:
            bad_keys = self._bad_keys(keys, bulk) if shape is None else shape.bad_keys
            candidates = self._values.suspects(strings, joined_sep) if strings else {}
        bad_strings = {}
        for index, admitted in candidates.items():
            hits = self.value_categories(strings[index], admitted)
            if hits:
                bad_strings[strings[index]] = hits
        carried = self._carried(
            strings, exhaustive=exhaustive, depth=depth, budget=budget, joined_sep=joined_sep
        )
        for string, hits in carried.items():
            bad_strings[string] = (*bad_strings.get(string, ()), *hits)
        bad_names = self._bad_names(document, keys, bulk, shape)
        found = (
            _locate(document, bad_keys, bad_strings, bad_names)
            if (bad_keys or bad_strings or bad_names)
            else []
        )
        structural = self._structural(document, keys, bad_keys, bulk, shape)
        if shapes[0] or shapes[1]:
            structural += self._data_shapes(document, *shapes)
        if structural:
            seen = {(v.path, v.category) for v in found}
            found += [v for v in structural if (v.path, v.category) not in seen]
        return found

    def _structural(
        self, document: Any, keys: set, bad_keys: dict, bulk: _Bulk | None, shape: _Shape | None
    ) -> list[Violation]:
        """Names that only structure makes: a key split between a parent and its child
        ({"blood": {"type": ...}}), and a table's column names ({"columns": [...]})."""
        if shape is not None:
            parents, columns = shape.heads, _COLUMNS in shape.roles
        else:
            parents = self._split_heads(keys, bulk)
            columns = _COLUMNS in (bulk.roles if bulk else _roles_present(keys))
        if not parents and not columns:
            return []
        found: list[Violation] = []
        seen: set[tuple[str, str]] = set()

        def report(path: str, hits: Hits) -> None:
            for category, term, *via in hits:
                if (path, category) not in seen:
                    seen.add((path, category))
                    found.append(Violation(path, category, term, *via))

        stack: list[tuple[str, Any]] = [("", document)]
        while stack:
            path, node = stack.pop()
            if isinstance(node, Mapping):
                for key, item in node.items():
                    here = f"{path}/{_escape(key if isinstance(key, str) else str(key))}"
                    if isinstance(item, Mapping) and key in parents:
                        own = {hit[0] for hit in bad_keys.get(key, ())}
                        for child in item:
                            child_own = {hit[0] for hit in bad_keys.get(child, ())}
                            joined = self.key_categories(f"{key} {child}")
                            hits = tuple(hit for hit in joined if hit[0] not in own | child_own)
                            if hits:
                                report(f"{here}/{_escape(str(child))}", hits)
                    if columns and _role(key) == _COLUMNS and isinstance(item, list):
                        for index, name in enumerate(item):
                            if isinstance(name, str):
                                report(f"{here}/{index}", self.key_categories(name))
                    if type(item) not in _ATOMIC:
                        stack.append((here, item))
            elif isinstance(node, list | tuple):
                stack.extend(
                    (f"{path}/{i}", item)
                    for i, item in enumerate(node)
                    if type(item) not in _ATOMIC
                )
        return found

    def _data_shapes(
        self, document: Any, arrays: list[list], tables: list[list]
    ) -> list[Violation]:
        """Names that sit in the data rather than in member names: an array of objects of
        the same two members, one of which holds labels in every object, is an array of
        name/value pairs whatever the member names (``[{"f": "blood_type", "x": "AB"}, ...]``:
        reported at the other member); a table written as a list of rows whose first row
        names the columns (``[["name", "blood type"], ["Li", "A"]]``: reported at the
        column's name)."""
        pairs: list[dict] = []
        for array in arrays:
            names = array[0].keys()
            if all(type(item) is dict and item.keys() == names for item in array) and any(
                all(type(item[name]) is str for item in array) for name in names
            ):
                pairs += array
        labels = {
            value
            for pair in pairs
            for value in pair.values()
            if type(value) is str and 0 < len(value) <= _MAX_LABEL
        }
        headers = {
            id(table): table[0]
            for table in tables
            if len(table) >= 2
            and all(type(row) is list and len(row) == len(table[0]) for row in table)
            and all(type(cell) is str and len(cell) <= _MAX_LABEL for cell in table[0])
        }
        labels.update(cell for header in headers.values() for cell in header)
        if not labels:
            return []
        if len(labels) > _MANY_KEYS:
            bad = self._bad_keys(labels, _Bulk(labels))
        else:
            bad = {label: hits for label in labels if (hits := self.key_categories(label))}
        # A string that discloses by itself (a value pattern finds it, "HIV阳性") or reads as
        # a sentence is a value, reported where it is, not a label.
        bad = {
            label: kept
            for label, hits in bad.items()
            if (kept := _label_hits(label, hits))
            and not _SENTENCE.search(label)
            and not self.value_categories(label)
        }
        if not bad:
            return []
        found: list[Violation] = []
        seen: set[tuple[str, str]] = set()

        def report(path: str, hits: Hits) -> None:
            for category, term, *via in hits:
                if (path, category) not in seen:
                    seen.add((path, category))
                    found.append(Violation(path, category, term, *via))

        pair_ids = {id(pair) for pair in pairs}
        stack: list[tuple[str, Any]] = [("", document)]
        while stack:
            path, node = stack.pop()
            if type(node) is dict:
                items = list(node.items())
                if id(node) in pair_ids:
                    for (own, one), (other, _) in ((items[0], items[1]), (items[1], items[0])):
                        # Not a label: a value under a value's name or under a name that is
                        # itself a finding (reported there), or beside another name.
                        if (
                            type(one) is str
                            and one in bad
                            and _role(other) != _NAME
                            and _role(own) != _VALUE
                            and not self.key_categories(own)
                        ):
                            report(f"{path}/{_escape(str(other))}", bad[one])
                stack.extend(
                    (f"{path}/{_escape(str(key))}", item)
                    for key, item in reversed(items)
                    if type(item) not in _ATOMIC
                )
            elif type(node) is list:
                header = headers.get(id(node))
                if header is not None:
                    for index, cell in enumerate(header):
                        if cell in bad:
                            report(f"{path}/0/{index}", bad[cell])
                stack.extend(
                    (f"{path}/{index}", item)
                    for index, item in reversed(list(enumerate(node)))
                    if type(item) not in _ATOMIC
                )
        return found

    def _shape(self, keys: set) -> _Shape:
        """What a body's few keys say, remembered for the whole key set: records of one
        shape arrive again and again, so most bodies cost one lookup here."""
        shape_key = frozenset(keys)
        shape = self._shape_cache.get(shape_key)
        if shape is None:
            bad_keys = {key: hits for key in keys if (hits := self.key_categories(key))}
            shape = _Shape(bad_keys, _roles_present(keys), self._split_heads(keys, None))
            if len(self._shape_cache) >= _SHAPE_LIMIT:
                self._shape_cache.clear()
            self._shape_cache[shape_key] = shape
        return shape

    def _split_heads(self, keys: set, bulk: _Bulk | None) -> set:
        """The keys whose last tokens begin some term (``blood`` of ``blood type``)."""
        if self._heads is None:
            return set()
        if bulk is not None:
            return bulk.lines_matching(self._heads)
        cache = self._head_cache
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        found = set()
        for key in keys:
            verdict = cache.get(key)
            if verdict is None:
                if type(key) is not str:
                    continue
                verdict = cache[key] = self._heads.search(f"\n{_marked_line(key)}\n") is not None
            if verdict:
                found.add(key)
        return found

    def _carried(
        self,
        strings: list[str],
        *,
        exhaustive: bool,
        depth: int,
        budget: list[int] | None,
        joined_sep: tuple[str, str] | None = None,
    ) -> dict[str, Hits]:
        """What the strings that carry another format disclose, by carrying string."""
        if not strings:
            return {}
        if exhaustive:
            candidates: Iterable[int] = range(len(strings))
        else:
            candidates = _hinted(strings, joined_sep)
            if not candidates:
                return {}
        if budget is None:
            budget = [DECODE_ALLOWANCE + sum(map(len, strings))]
        # Everything carried at this depth is screened together, as one list: one pass
        # per depth instead of one per carrying string (a batch of 1,000 records with an
        # encoded note each costs four screens, not four thousand).
        found: dict[str, list[tuple[str, ...]]] = {}
        batch: list[Any] = []
        owners: list[tuple[str, str]] = []
        for index in candidates:
            text = strings[index]
            hits = found.setdefault(text, [])
            if _decoders.CONCEALING.search(text):
                hits += [(CONCEALMENT, kind) for kind in _decoders.concealment(text)]
            if not self.decoders:
                continue
            for name, carried in _decoders.decode_all(text, self.decoders):
                if depth >= MAX_DECODE_DEPTH:
                    hits.append((CONCEALMENT, "encoding nested too deeply", name))
                    break
                budget[0] -= len(carried) if isinstance(carried, str) else len(text)
                if budget[0] < 0:
                    hits.append((CONCEALMENT, "decoded size over the limit", name))
                    break
                owners.append((text, name))
                batch.append(carried)
        if batch:
            inner = self._screen(batch, exhaustive=exhaustive, depth=depth + 1, budget=budget)
            for violation in inner:
                head, _, rest = violation.path[1:].partition("/")
                text, name = owners[int(head)]
                path = f"/{rest}" if rest else ""
                via = " › ".join(part for part in (name, path, violation.via) if part)
                found[text].append((violation.category, violation.term, via))
        return {text: tuple(hits) for text, hits in found.items() if hits}

    def _bad_keys(self, keys: set, bulk: _Bulk | None = None) -> dict[Any, Hits]:
        remaining = keys
        if bulk is not None:
            unseen = keys - self._key_cache.keys()
            if len(unseen) > _MANY_KEYS:
                # Many new keys (a hostile body has 250,000): rule most out in bulk, and keep
                # the verdicts for this body only, so the shared cache's limit cannot evict
                # them.  A key holding a term's letters is still clear when no term matched
                # anywhere holds them and no whole-token term sits at token boundaries
                # (``about`` holds ``abo``, not the token).
                text_keys = bulk.text_keys if len(unseen) == len(keys) else _text_keys(unseen)
                suspects, anywhere = self._keys.suspects(text_keys)
                clean = set(text_keys) - suspects
                near = suspects - anywhere
                # (unusual and concealing characters are in ``anywhere``: checked exactly)
                if near and self._whole_token is not None:
                    near -= bulk.lines_matching(self._whole_token)
                remaining = keys - clean - near
        bad = {}
        for key in remaining:
            hits = self.key_categories(key)
            if hits:
                bad[key] = hits
        return bad

    def _bad_names(
        self, document: Any, keys: set, bulk: _Bulk | None, shape: _Shape | None
    ) -> dict[str, Hits]:
        roles = shape.roles if shape else bulk.roles if bulk else _roles_present(keys)
        if _NAME not in roles or _VALUE not in roles:
            return {}
        bad = {}
        for name in _pair_names(document):
            hits = self.key_categories(name)
            if hits:
                bad[name] = hits
        return bad


def _locate(
    document: Any,
    bad_keys: dict[Any, Hits],
    bad_strings: dict[str, Hits],
    bad_names: dict[str, Hits],
) -> list[Violation]:
    """Walk ``document`` depth-first, in order, and report where the flagged keys and strings
    sit; containers holding nothing flagged are passed over with C-level set checks."""
    found: list[Violation] = []
    seen: set[tuple[str, str]] = set()
    flagged = bad_strings.keys() | bad_names.keys()
    key_set = bad_keys.keys()
    names = (lambda name: bad_names.get(name, ())) if bad_names else None
    # (path, node, hits to report at path, whether node's own string hits are in them)
    stack: list[tuple[str, Any, Hits, bool]] = [("", document, (), False)]
    while stack:
        path, node, hits, evaluated = stack.pop()
        kind = type(node)
        if not evaluated and (kind is str or (kind not in _ATOMIC and isinstance(node, str))):
            hits = (*hits, *bad_strings.get(node, ()))
        for category, term, *via in hits:
            if (path, category) not in seen:
                seen.add((path, category))
                found.append(Violation(path, category, term, *via))
        if kind is dict or (kind not in _ATOMIC and isinstance(node, Mapping)):
            pair = _pair_hits(node, names) if names is not None else ()
            children = []
            for key, item in node.items():
                member = bad_keys.get(key, ())
                evaluated = False
                if pair:
                    role = _role(key)
                    if role == _VALUE:
                        member = (*member, *pair)
                    elif role == _NAME and type(item) is str:
                        # A pair's name is a field label: what it discloses is reported once,
                        # at the value member, so it keeps only its other findings.
                        reported = {hit[0] for hit in pair}
                        own = bad_strings.get(item, ())
                        member = (*member, *(hit for hit in own if hit[0] not in reported))
                        evaluated = True
                kind = type(item)
                if not member and (
                    (item not in flagged) if kind is str else not _may_hold(item, key_set, flagged)
                ):
                    continue
                token = _escape(key if isinstance(key, str) else str(key))
                children.append((f"{path}/{token}", item, member, evaluated))
            children.reverse()
            stack.extend(children)
        elif kind is list or (kind not in _ATOMIC and isinstance(node, list | tuple)):
            children = [
                (f"{path}/{index}", item, (), False)
                for index, item in enumerate(node)
                if _may_hold(item, key_set, flagged)
            ]
            children.reverse()
            stack.extend(children)
    return found


def _hinted(
    strings: list[str], joined_sep: tuple[str, str] | None = None, encoded: bytes | None = None
) -> list[int]:
    """Indexes of the strings showing a sign of carrying another format, in C-speed scans:
    a hint character, a long mixed-case base64 run, or a whole string that is a shorter one
    (decoders.may_carry() for each string, at once)."""
    if joined_sep is None:
        joined_sep = _join(strings)
    if joined_sep is None:
        return [i for i, string in enumerate(strings) if _decoders.may_carry(string)]
    joined, sep = joined_sep
    found: set[int] = set()
    _scan(joined, _decoders.HINT_CHARS.search, sep, found)
    if encoded is None:
        encoded = joined.encode("utf-8", "surrogatepass")
    sep_byte = sep.encode()
    # Base64 characters as x, padding as =, the separator as itself, all else as a space;
    # a long run is then found with bytes.find, and checked exactly in Python.
    mask = encoded.translate(_base64_mask(sep_byte[0]))
    needle = b"x" * (_decoders.LONG_BASE64 - 2)
    position = counted = index = 0
    while (start := mask.find(needle, position)) >= 0:
        run_end = _NOT_X.search(mask, start)
        end = len(mask) if run_end is None else run_end.start()
        position = end
        while position < len(mask) and position - end < 2 and mask[position] == 61:  # "="
            position += 1
        if position - start >= _decoders.LONG_BASE64 and _decoders.mixed_case(
            encoded[start:end].decode("ascii")
        ):
            index += mask.count(sep_byte, counted, start)
            counted = start
            found.add(index)
    if _SHORT_BASE64.match(strings[0]):
        found.add(0)
    # A whole string of 8 to 15 base64 characters (with its padding), mixing case.
    case_mask = encoded.translate(_case_mask(sep_byte[0]))
    position = counted = index = 0
    short = _short_run(sep_byte)
    while (match := short.search(case_mask, position)) is not None:
        start = match.start()  # the separator before the string
        index += case_mask.count(sep_byte, counted, start + 1)
        counted = start + 1
        found.add(index)
        position = start + 1
    return sorted(found)


_NOT_X = re.compile(b"[^x]")
_B64_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-")


@functools.cache
def _base64_mask(sep: int) -> bytes:
    return bytes(
        120 if b in _B64_BYTES else 61 if b == 61 else sep if b == sep else 32 for b in range(256)
    )


@functools.cache
def _case_mask(sep: int) -> bytes:
    """Lower-case letters as a, upper-case as A, other base64 characters as 0."""

    def kind(b: int) -> int:
        if b == sep or b == 61:
            return b
        if b not in _B64_BYTES:
            return 32
        return 97 if 97 <= b <= 122 else 65 if 65 <= b <= 90 else 48

    return bytes(map(kind, range(256)))


@functools.cache
def _short_run(sep: bytes) -> re.Pattern[bytes]:
    """In a case mask: a separator, then a whole string of 8 to 15 base64 characters (and
    up to two padding characters) that holds both cases."""
    sep = re.escape(sep)
    return re.compile(
        sep + b"(?=[aA0]{8}(?:[aA0]{0,7})={0,2}(?:" + sep + b"|\\Z))(?:[A0]*a[a0]*A|[a0]*A[A0]*a)"
    )


_B64 = "[A-Za-z0-9+/_-]"
# A run of base64 characters mixing upper and lower case; each part's classes are
# disjoint from what follows it, so a failed attempt backtracks in linear time.
_MIXED = "(?:[A-Z0-9+/_-]*[a-z][a-z0-9+/_-]*[A-Z]|[a-z0-9+/_-]*[A-Z][A-Z0-9+/_-]*[a-z])"
# A whole string of 8 or more base64 characters mixing case.
_SHORT_BASE64 = re.compile(f"(?={_B64}{{8}})(?={_B64}*={{0,2}}\\Z){_MIXED}")


def _may_hold(item: Any, key_set, flagged) -> bool:
    """Whether ``item`` is, or may contain, a flagged key or string."""
    kind = type(item)
    if kind is str:
        return item in flagged
    if kind in _ATOMIC:
        return False
    if kind is dict and not is_tracked(item):  # only atomic values inside
        try:
            return not (key_set.isdisjoint(item) and flagged.isdisjoint(item.values()))
        except TypeError:
            return True
    return True


def _pair_hits(node: Mapping, name_hits: Callable[[str], Hits]) -> Hits:
    names = []
    has_value = False
    for key, item in node.items():
        role = _role(key)
        if role == _NAME and isinstance(item, str):
            names.append(item)
        elif role == _VALUE:
            has_value = True
    if not has_value:
        return ()
    return tuple(dict.fromkeys(hit for name in names for hit in name_hits(name)))


def _pair_names(document: Any) -> set[str]:
    """Names in name/value pairs anywhere in ``document``."""
    names: set[str] = set()
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, Mapping):
            roles = [(_role(key), item) for key, item in node.items()]
            if any(role == _VALUE for role, _ in roles):
                names.update(
                    item for role, item in roles if role == _NAME and isinstance(item, str)
                )
            stack.extend(item for _, item in roles if type(item) not in _ATOMIC)
        elif isinstance(node, list | tuple):
            stack.extend(item for item in node if type(item) not in _ATOMIC)
    return names


def _gather(document: Any, shapes: list[list] | None = None) -> tuple[set, list[str]]:
    """The distinct keys and distinct string values of ``document``, in one pass; with
    ``shapes`` ([pairs, tables]), also the objects of two members and the lists of lists."""
    keys: set = set()
    values: set = set()
    stack = [document]
    pop, extend = stack.pop, stack.extend
    add_keys, add_values, add_value = keys.update, values.update, values.add
    while stack:
        while stack:
            node = pop()
            kind = type(node)
            if kind is dict:
                add_keys(node)
                if is_tracked(node):  # An untracked dict holds no containers.
                    extend(node.values())
                else:
                    try:
                        add_values(node.values())
                    except TypeError:
                        extend(node.values())
            elif kind is list:
                extend(node)
                if shapes is not None and len(node) >= 2:
                    first = type(node[0])
                    if first is list:
                        shapes[1].append(node)
                    elif first is dict and len(node[0]) == 2:
                        shapes[0].append(node)
            elif kind is str:
                add_value(node)
            elif kind in _ATOMIC:
                continue
            elif isinstance(node, Mapping):
                add_keys(node.keys())
                extend(node.values())
            elif isinstance(node, str):
                add_value(str(node))
            elif isinstance(node, list | tuple):
                extend(node)
        kinds = set(map(type, values))
        if kinds <= _ATOMIC:
            break
        odd = [value for value in values if type(value) not in _ATOMIC]
        values.difference_update(odd)
        extend(odd)
    ordered = list(values)
    return keys, list(compress(ordered, map(_IS_STR, map(type, ordered))))


# --------------------------------------------------------------------------- compiling


def compile_policy(spec: PolicySpec) -> Screener:
    """A Screener for ``spec``; raises PolicyError naming the first entry it cannot use."""
    if not isinstance(spec, PolicySpec):
        raise PolicyError(f"expected a PolicySpec, got {type(spec).__name__}")
    categories = []
    codes: set[str] = set()
    for category in spec.categories:
        if not isinstance(category, CategorySpec):
            raise PolicyError(f"expected a CategorySpec, got {type(category).__name__}")
        code = category.code
        if not isinstance(code, str) or not code.strip():
            raise PolicyError(f"category code {code!r} is empty")
        if code in codes:
            raise PolicyError(f"category {code!r} appears twice")
        codes.add(code)
        terms, exceptions = [], []
        for text in category.key_terms:
            term, is_exception = _parse_term(code, text)
            (exceptions if is_exception else terms).append(term)
            misspelt = None if is_exception else _misspelt_term(term)
            if misspelt is not None:
                terms.append(misspelt)
        patterns = tuple(
            _compile_pattern(code, index, entry)
            for index, entry in enumerate(category.value_patterns)
        )
        term_of: dict[str, str] = {}
        for term in terms:
            for reading in term.readings:
                term_of.setdefault(reading, term.text)
        plain = [term for term in terms if not term.contextual]
        contextual = [term for term in terms if term.contextual]
        categories.append(
            _Category(
                code,
                tuple(terms),
                tuple(exceptions),
                patterns,
                _term_regex(plain),
                _term_regex(exceptions),
                term_of,
                _term_regex(contextual),
            )
        )
    enabled = tuple(_decoders.DECODERS) if spec.decoders is None else tuple(spec.decoders)
    unknown = sorted(set(enabled) - set(_decoders.DECODERS))
    if unknown:
        raise PolicyError(f"unknown decoders {unknown}; known: {sorted(_decoders.DECODERS)}")
    return Screener(spec.version, tuple(categories), enabled)
