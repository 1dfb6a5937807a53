"""The shipped consent-gated category (CRR 14 ¶2, ZJ 14 ¶2, SH 14 ¶2), as policy data.

Kept beside, not inside, the prohibited categories: a regulator may extend or deactivate
it in the admin like any category, and mark others ``needs_consent``.
"""

from __future__ import annotations

from compliance.policy_defaults import CategoryDefault

CONSENT_FINANCIAL = CategoryDefault(
    code="consent_financial",
    name_zh="收入、存款、有价证券、商业保险、不动产和纳税数额",
    name_en="Income, deposits, securities, commercial insurance, real estate and tax amounts",
    legal_source="CRR 14 ¶2; ZJ 14 ¶2; SH 14 ¶2",
    key_terms=(
        "income",
        "收入",
        "=salary",
        "bank deposit",
        "savings",
        "存款",
        "储蓄",
        "securities",
        "shareholding",
        "证券",
        "股票",
        "持股",
        "commercial insurance",
        "life insurance",
        "商业保险",
        "人寿保险",
        "real estate",
        "realty",
        "不动产",
        "房产",
        "tax amount",
        "tax paid",
        "纳税额",
        "税额",
    ),
    value_patterns=(),
)

CONSENT_CATEGORIES: tuple[CategoryDefault, ...] = (CONSENT_FINANCIAL,)
