"""Statutory constants of the catalogue, each once, with its article. Django-free."""

from __future__ import annotations

import re

# Negative information is kept, then removed, 5 years from the end of the act
# (SH 35, ZJ 16, CRR 16). A rule may choose a shorter period, never a longer one.
RETENTION_YEARS = 5
MIN_RETENTION_YEARS = 1

# Negative information is published for a period set by its severity (State Council
# General Office 2025 No. 22): minor, not published or at most 3 months; general,
# 3 months to 1 year; serious, 1 to 3 years. Months, (shortest, longest).
PUBLICATION_MONTHS = {
    "minor": (0, 3),
    "ordinary": (3, 12),
    "serious": (12, 36),
}

# The person is told before negative information is passed on (CRR 15; ZJ 28, SH 32):
# a deduction counts in what other departments are told only once this many days have
# passed since its notice was delivered, time to read it and object (SH 36). CRR 15 fixes
# no number of days; this default is the gateway's, and the operator may lengthen it
# (setting GATEWAY_NOTICE_BEFORE_DISCLOSURE_DAYS), never shorten it below 1 day.
NOTICE_BEFORE_DISCLOSURE_DAYS = 5

# A revoked decision's record is deleted within 3 working days (SH 37).
REVOCATION_DELETION_WORKING_DAYS = 3

# A legal basis names a law and an article of it: 第四十七条, Art. 47, §7.
_ARTICLE = re.compile(
    r"第[〇零一二三四五六七八九十百千0-9]+条|\bArts?\.?\s*\d+|\bArticle\s+\d+|§\s*\d+",
    re.IGNORECASE,
)
_LAW_NAME = re.compile(r"[\u4e00-\u9fff]{2,}|[A-Za-z]{3,}")


def is_article_citation(text: str) -> bool:
    return bool(_ARTICLE.search(text or ""))


def is_law_name(text: str) -> bool:
    return bool(_LAW_NAME.search(text or ""))
