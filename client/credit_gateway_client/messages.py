"""The client's own messages in Chinese and English; the gateway's come in the language
asked for with Accept-Language."""

from __future__ import annotations

import os

MESSAGES = {
    "required": ("is required", "为必填项"),
    "identity_number": (
        "is not a valid identity number (length, birth date or check digit)",
        "不是有效的身份证号（长度、出生日期或校验码错误）",
    ),
    "rule_code": ("is not a rule code such as traffic.failure_to_yield", "不是有效的事项代码"),
    "datetime": (
        "must be an ISO 8601 date-time with a time zone, e.g. 2026-11-20T08:30:00+08:00",
        "必须是带时区的 ISO 8601 时间，例如 2026-11-20T08:30:00+08:00",
    ),
    "future": ("is in the future", "不能是将来的时间"),
    "date": ("must be a date such as 2026-11-21", "必须是日期，例如 2026-11-21"),
    "issued_on": (
        "must not be before the act nor in the future",
        "不得早于行为发生日，也不得晚于今天",
    ),
    "procedure": ("must be general or judicial (summary is refused)", "必须是 general 或 judicial"),
    "evidence": (
        "needs a reference (reward) or document, issued_by, issued_on and procedure (deduction)",
        "奖励需要 reference；扣分需要 document、issued_by、issued_on 和 procedure",
    ),
    "unmapped": ("the mapping names a column the file does not have", "映射中的列在文件中不存在"),
    "row_shape": ("is not a JSON object", "不是 JSON 对象"),
}


def language(explicit: str | None = None) -> str:
    """'zh' or 'en': --lang, else LANG/LC_ALL, else Chinese (the gateway's default)."""
    chosen = explicit or os.environ.get("LC_ALL") or os.environ.get("LANG") or "zh"
    return "en" if chosen.lower().startswith("en") else "zh"


def text(key: str, lang: str) -> str:
    english, chinese = MESSAGES[key]
    return english if lang == "en" else chinese


def accept_language(lang: str) -> str:
    return "en" if lang == "en" else "zh-hans"
