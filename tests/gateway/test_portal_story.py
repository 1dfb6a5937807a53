"""The resident's portal tells the story: a chart by the day of each act, the reasons one
tap away, who saw the data grouped with counts, citations in the page's language."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from compliance.citations import chinese_number, citation
from gateway.selectors import score_history
from tests.gateway.people import ALICE_ID


def resident(people, language="zh-hans") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(people.alice.user)
    return client


def test_the_chart_draws_each_change_on_the_day_of_its_act(people):
    people.deduct(occurred_at="2026-03-02T08:30:00+08:00")
    now = timezone.now()
    by_act = score_history(people.alice.citizen, now=now, by_act=True)
    assert by_act[1][0].date() <= dt.date(2026, 3, 2) < now.date()
    assert by_act[-1][1] == 97


def test_home_lists_the_changes_with_their_reasons(people):
    event = people.deduct()
    html = resident(people).get(reverse("portal:home")).content.decode()
    assert 'class="changes"' in html and "<details>" in html
    assert f"#event-{event.pk}" in html
    assert "我的信用分为何变化" in html
    assert "≥&nbsp;" in html or "No benefit" in html or "尚无" in html


def test_who_saw_my_data_is_grouped_by_department_and_purpose(people):
    client = people.world.client(people.world.key_a)
    for _ in range(3):
        response = client.post(
            "/api/v1/score-queries",
            {"citizen_id": ALICE_ID, "purpose": "loan_eligibility"},
            format="json",
        )
        assert response.status_code == 200
    html = resident(people).get(reverse("portal:accesses")).content.decode()
    assert "按部门和用途统计" in html
    assert '<td class="num">3</td>' in html


def test_notices_link_to_the_portal_never_to_the_api(people):
    event = people.deduct()
    html = resident(people).get(reverse("portal:notifications")).content.decode()
    assert f'<a href="/portal/events/#event-{event.pk}">' in html
    assert "/api/v1/me" not in html


def test_citations_are_rendered_in_the_pages_language():
    assert [chinese_number(n) for n in (10, 19, 36, 102, 654)] == [
        "十",
        "十九",
        "三十六",
        "一百零二",
        "六百五十四",
    ]
    basis = {
        "law": "中华人民共和国道路交通安全法 (Road Traffic Safety Law of the PRC)",
        "article": "第九十一条 (Art. 91)",
    }
    with translation.override("zh-hans"):
        assert citation(basis) == "《中华人民共和国道路交通安全法》第九十一条"
        assert citation("SH 36; ZJ 30-31") == (
            "《上海市社会信用条例》第三十六条；《浙江省公共信用信息管理条例》第三十条至第三十一条"
        )
    with translation.override("en"):
        assert citation(basis) == "Road Traffic Safety Law of the PRC, Art. 91"
        assert citation("SH 36") == "Shanghai Social Credit Regulations, Art. 36"
        assert citation("free text") == "free text"
