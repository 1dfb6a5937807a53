"""Statutory constants of the catalogue, each once, with its article. Django-free."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

# The Osmanthus programme's score: everyone starts at 100; it stays within 0..200.
STARTING_SCORE = 100
MIN_SCORE = 0
MAX_SCORE = 200

# Deadlines, in Chinese working days (compliance.workdays).
# An objection flags the record as disputed within 1 working day (SH 36).
OBJECTION_FLAG_WORKING_DAYS = 1
# An objection is decided within 5 working days (SH 36, ZJ 31) ...
OBJECTION_DECISION_WORKING_DAYS = 5
# ... extensible once to at most 20 working days in total (ZJ 31).
OBJECTION_EXTENDED_WORKING_DAYS = 20
# A person's review of an automated eligibility answer (PIPL 24) is handled like an
# objection: within 5 working days (SH 36, ZJ 31).
AUTOMATED_DECISION_REVIEW_WORKING_DAYS = OBJECTION_DECISION_WORKING_DAYS
# A confirmed credit repair leaves the score within 3 working days (SH 38, GB22).
REPAIR_REMOVAL_WORKING_DAYS = 3

# The query log is kept 10 years (ZJ 20).
ACCESS_LOG_YEARS = 10
# Serious-dishonesty standards are open to public comment at least 30 days (State
# Council 2020 No. 49 §7, SH 10, ZJ 12).
SERIOUS_COMMENT_DAYS = 30

# Days are counted in China Standard Time (Beijing time, UTC+8), the time of the
# State Council's holiday notices and of every deadline above; every date a resident or
# reviewer is told is a calendar day there.
DISPLAY_ZONE = ZoneInfo("Asia/Shanghai")

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
