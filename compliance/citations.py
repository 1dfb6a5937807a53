"""Legal citations in the reader's language, from structured data.

Two sources of a citation:

- a rule's or purpose's ``legal_basis_law`` and ``legal_basis_article``, stored as the
  Chinese text followed by its English in parentheses ("中华人民共和国道路交通安全法 (Road
  Traffic Safety Law of the PRC)", "第九十一条 (Art. 91)"): split into their two
  languages;
- the gateway's own short citations ("SH 36; ZJ 30-31"): each abbreviation is a law of
  LAWS, each number an article, rendered as "《上海市社会信用条例》第三十六条" or
  "Shanghai Social Credit Regulations, Art. 36".

Law titles go through gettext like every other string; a text that matches neither
form is returned as it is.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

# The abbreviations of /LAW.md and the code (each with its full title).
LAWS = {
    "SH": _("Shanghai Social Credit Regulations"),
    "ZJ": _("Zhejiang Regulations on Public Credit Information Management"),
    "CRR": _("Regulations on the Administration of the Credit Reporting Industry"),
    "TJ": _("Tianjin Social Credit Regulations"),
    "PIPL": _("Personal Information Protection Law"),
    "GB22": _("State Council General Office document 2025 No. 22 on credit repair"),
}
_BILINGUAL = re.compile(r"^(?P<zh>.*?) \((?P<en>.+)\)$", re.S)
# One "中文 (English)" part of a longer text: the English may hold one level of brackets.
_SEGMENT = re.compile(r"\s*(?P<zh>[^()]+?) \((?P<en>(?:[^()]|\([^()]*\))+)\)")
_SHORT = re.compile(
    r"^(?P<law>[A-Z]{2,5}[0-9]{0,2})(?: (?P<first>\d{1,3})(?:-(?P<last>\d{1,3}))?)?$"
)
_DIGITS = "零一二三四五六七八九"


def _chinese() -> bool:
    return (get_language() or "zh-hans").lower().startswith("zh")


def chinese_number(n: int) -> str:
    """1..999 in Chinese numerals, as articles are numbered (第一百零二条)."""
    if not 0 < n < 1000:
        return str(n)
    hundreds, rest = divmod(n, 100)
    tens, units = divmod(rest, 10)
    text = ""
    if hundreds:
        text += _DIGITS[hundreds] + "百"
        if rest and tens == 0:
            text += "零"
    if tens:
        text += ("" if tens == 1 and not hundreds else _DIGITS[tens]) + "十"
    if units:
        text += _DIGITS[units]
    return text


def bilingual(text: str) -> str:
    """The part of "中文 (English)" in the reader's language; other text as it is."""
    match = _BILINGUAL.match(text or "")
    if not match:
        return text or ""
    return match["zh"] if _chinese() else match["en"]


def _short(part: str) -> str:
    match = _SHORT.match(part.strip())
    if not match or match["law"] not in LAWS:
        return part.strip()
    title = str(LAWS[match["law"]])
    first, last = match["first"], match["last"]
    if _chinese():
        text = f"《{title}》"
        if first:
            text += f"第{chinese_number(int(first))}条"
        if last:
            text += f"至第{chinese_number(int(last))}条"
        return text
    if not first:
        return title
    return f"{title}, Arts. {first}-{last}" if last else f"{title}, Art. {first}"


def short_citation(text: str) -> str:
    """ "SH 36; ZJ 30-31" in the reader's language."""
    if not text:
        return ""
    separator = "；" if _chinese() else "; "
    return separator.join(_short(part) for part in str(text).split(";") if part.strip())


def _law_and_article(law: str, article: str) -> str:
    if _chinese():
        return f"《{law.strip('《》')}》{article}" if law else article
    return f"{law}, {article}" if law and article else law or article


def citation(value: Any) -> str:
    """A rule's ``{"law", "article"}``, a purpose's "law article" as the log keeps it, or a
    short citation, in the reader's language."""
    if isinstance(value, dict):
        return _law_and_article(
            bilingual(value.get("law", "")), bilingual(value.get("article", ""))
        )
    text = str(value or "").strip()
    segments = list(_SEGMENT.finditer(text))
    if segments and "".join(m.group(0) for m in segments).strip() == text:
        parts = [m["zh"].strip() if _chinese() else m["en"] for m in segments]
        if len(parts) == 2:
            return _law_and_article(*parts)
        return ("" if _chinese() else " ").join(parts)
    return short_citation(text)
