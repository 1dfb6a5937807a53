"""Public pages, no login: the published catalogue and the drafts open for comment.

Language: simplified Chinese unless the reader picks English (``?lang=en``, kept in
Django's language cookie) or the browser asks for it (LocaleMiddleware). The page's
own wording is held here in both languages rather than in gettext catalogues, so the
page is complete without compiled message files; rule titles come from the model's
Chinese and English fields through the active Django language.
"""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.http import require_GET, require_POST

from compliance.law import MAX_SCORE, MIN_SCORE, SERIOUS_COMMENT_DAYS, STARTING_SCORE
from compliance.lifecycle import COMMENT_MAX_CHARS, Refusal, comment_open_on, comment_submit
from compliance.models import Rule, RuleStatus
from compliance.services import ComplianceError
from gateway.errors import GatewayError, InvalidRequest
from gateway.services.free_text import free_text_check

LANGUAGES = ("zh-hans", "en")

TEXT = {
    "zh-hans": {
        "title": "公共信用评分目录",
        "intro": (
            "只有本目录公布的事项才能计入信用分（《上海市社会信用条例》第九至十一条）。"
            f"居民初始分为{STARTING_SCORE}分，范围{MIN_SCORE}至{MAX_SCORE}分。扣分须以生效的法院裁判或行政处罚决定为依据，"
            "简易程序处罚不计入；扣分自行为之日起使用规定年限后不再计入。"
        ),
        "switch": "English",
        "catalogue": "已公布的事项",
        "empty": "目前没有已公布的事项。",
        "code": "编号",
        "version": "版本",
        "points": "分值",
        "deduction": "扣分",
        "reward": "加分",
        "serious": "严重失信",
        "ordinary": "一般",
        "legal_basis": "法律依据",
        "effective": "施行期间",
        "open_end": "至今",
        "until": "至",
        "in_force": "现行",
        "upcoming": "即将施行",
        "ended": "已停止施行",
        "withdrawn": "已撤回",
        "served": "使用期限",
        "years": "年",
        "history": "历史版本",
        "published_on": "公布日期",
        "comments": "公开征求意见的草案",
        "comments_intro": (
            f"目录草案须公开征求意见；严重失信认定标准征求意见期不少于{SERIOUS_COMMENT_DAYS}日"
            "（《上海市社会信用条例》第十条，《浙江省公共信用信息管理条例》第十二条，国务院办公厅2020年第49号文件）。"
        ),
        "no_comments": "目前没有征求意见的草案。",
        "period": "征求意见期",
        "not_yet_open": "尚未开始",
        "your_comment": "您的意见",
        "max_chars": "最多{limit}字",
        "submit": "提交意见",
        "anonymous": "意见匿名提交：我们不记录您的姓名、身份证号或联系方式。",
        "thanks": "感谢您的意见，已收到。",
        Refusal.COMMENT_CLOSED: "该草案今天不在征求意见期内。",
        Refusal.COMMENT_EMPTY: "请填写意见。",
        Refusal.COMMENT_TOO_LONG: f"意见最多{COMMENT_MAX_CHARS}字。",
    },
    "en": {
        "title": "Public credit scoring catalogue",
        "intro": (
            "Only items published in this catalogue may count in the credit score (SH 9-11). "
            f"Residents start at {STARTING_SCORE} points, within {MIN_SCORE} to {MAX_SCORE}. "
            "A deduction must rest on a legally "
            "effective court judgment or administrative penalty decision, never a summary-"
            "procedure ticket, and stops counting at the end of its period."
        ),
        "switch": "中文",
        "catalogue": "Published items",
        "empty": "No item is published yet.",
        "code": "Code",
        "version": "Version",
        "points": "Points",
        "deduction": "deduction",
        "reward": "reward",
        "serious": "serious dishonesty",
        "ordinary": "ordinary",
        "legal_basis": "Legal basis",
        "effective": "In force",
        "open_end": "until further notice",
        "until": "to",
        "in_force": "in force",
        "upcoming": "coming into force",
        "ended": "no longer in force",
        "withdrawn": "withdrawn",
        "served": "Served for",
        "years": "years",
        "history": "Earlier versions",
        "published_on": "Published",
        "comments": "Drafts open for public comment",
        "comments_intro": (
            "Draft catalogue entries go out for public comment; standards for serious "
            f"dishonesty need at least {SERIOUS_COMMENT_DAYS} days (SH 10, ZJ 12, State Council "
            "2020 No. 49)."
        ),
        "no_comments": "No draft is open for comment.",
        "period": "Comment period",
        "not_yet_open": "not open yet",
        "your_comment": "Your comment",
        "max_chars": "at most {limit} characters",
        "submit": "Send comment",
        "anonymous": "Comments are anonymous: we keep no name, identity number or contact.",
        "thanks": "Thank you: your comment was received.",
        Refusal.COMMENT_CLOSED: "This draft is not open for comment today.",
        Refusal.COMMENT_EMPTY: "Write a comment.",
        Refusal.COMMENT_TOO_LONG: f"A comment holds at most {COMMENT_MAX_CHARS} characters.",
    },
}


def _language(request) -> str:
    chosen = request.GET.get("lang") or request.POST.get("lang")
    if chosen in LANGUAGES:
        return chosen
    current = (translation.get_language() or settings.LANGUAGE_CODE).lower()
    return "en" if current.startswith("en") else "zh-hans"


def _state(rule: Rule, today) -> str:
    if rule.status == RuleStatus.WITHDRAWN:
        return "withdrawn"
    if rule.effective_from > today:
        return "upcoming"
    if rule.effective_to is not None and rule.effective_to < today:
        return "ended"
    return "in_force"


def _row(rule: Rule, state: str, t: dict) -> dict:
    return {
        "pk": rule.pk,
        "version": rule.version,
        "title": rule.title,
        "points": rule.points,
        "kind": t["deduction"] if rule.is_deduction else t["reward"],
        "severity": t[rule.severity],
        "serious": rule.severity == "serious",
        "legal_basis": rule.legal_basis,
        "effective_from": rule.effective_from,
        "effective_to": rule.effective_to,
        "published_at": rule.published_at,
        "retention_years": rule.retention_years,
        "state": state,
        "state_text": t[state],
    }


def _catalogue(today, t: dict) -> list[dict]:
    """Per code: the versions still to be applied (current and upcoming) and the earlier ones."""
    by_code: dict[str, list[Rule]] = defaultdict(list)
    for rule in (
        Rule.objects.filter(published_at__isnull=False)
        .filter(status__in=[RuleStatus.PUBLISHED, RuleStatus.WITHDRAWN])
        .order_by("code", "-version")
    ):
        by_code[rule.code].append(rule)
    entries = []
    for code, versions in by_code.items():
        rows = [_row(rule, _state(rule, today), t) for rule in versions]
        current = [row for row in rows if row["state"] in ("in_force", "upcoming")]
        if not current:
            continue
        earlier = [row for row in rows if row["state"] not in ("in_force", "upcoming")]
        entries.append({"code": code, "current": current, "earlier": earlier})
    return entries


def _render(request, language: str, *, status: int = 200, errors=None, drafts=None):
    today = timezone.localdate()
    comment_rules = Rule.objects.filter(status=RuleStatus.COMMENT).order_by(
        "comment_closes_on", "code"
    )
    context = {
        "t": TEXT[language],
        "language": language,
        "other_language": "en" if language == "zh-hans" else "zh-hans",
        "catalogue": _catalogue(today, TEXT[language]),
        "comment_rules": [
            {
                "rule": rule,
                "open": comment_open_on(rule, today),
                "error": (errors or {}).get(rule.pk),
                "draft": (drafts or {}).get(rule.pk, ""),
            }
            for rule in comment_rules
            if rule.comment_closes_on is None or rule.comment_closes_on >= today
        ],
        "max_chars": COMMENT_MAX_CHARS,
        "max_chars_text": TEXT[language]["max_chars"].format(limit=COMMENT_MAX_CHARS),
    }
    response = render(request, "public/catalogue.html", context, status=status)
    if request.GET.get("lang") in LANGUAGES:
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax", httponly=True)
    response["Content-Language"] = language
    return response


@require_GET
def catalogue_page(request):
    language = _language(request)
    with translation.override(language):
        return _render(request, language)


@require_POST
def comment_post(request, rule_id: int):
    language = _language(request)
    rule = Rule.objects.filter(pk=rule_id, status=RuleStatus.COMMENT).first()
    if rule is None:
        raise Http404
    body = request.POST.get("body", "")
    with translation.override(language):
        try:
            free_text_check(body.strip(), "/body")
        except GatewayError as refusal:
            # The draft is not shown again: the page would repeat what was refused.
            message = str(refusal.message)
            if isinstance(refusal, InvalidRequest):
                message = refusal.details["problems"][0]["message"]
            return _render(request, language, status=refusal.status_code, errors={rule.pk: message})
        try:
            comment_submit(rule=rule, body=body)
        except ComplianceError as error:
            message = TEXT[language].get(_refusal_key(error), str(error))
            return _render(
                request,
                language,
                status=400,
                errors={rule.pk: message},
                drafts={rule.pk: body[: COMMENT_MAX_CHARS * 2]},
            )
        messages.success(request, TEXT[language]["thanks"])
    url = f"{reverse('public-catalogue')}?lang={language}#rule-{rule.pk}"
    return HttpResponseRedirect(url, status=303)


def _refusal_key(error: ComplianceError) -> str:
    text = str(error)
    for key in (Refusal.COMMENT_CLOSED, Refusal.COMMENT_EMPTY):
        if text == key:
            return key
    if text == Refusal.COMMENT_TOO_LONG.format(limit=COMMENT_MAX_CHARS):
        return Refusal.COMMENT_TOO_LONG
    return ""
