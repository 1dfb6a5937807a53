"""The screening category page: its terms and patterns a page at a time, with a search."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model

from compliance.admin import INLINE_PAGE_SIZE
from compliance.models import ScreeningCategory, ScreeningTerm


@pytest.fixture
def admin_client(client, db):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw-123456")
    client.force_login(user)
    return client


def url(category: ScreeningCategory, query: str = "") -> str:
    return f"/admin/compliance/screeningcategory/{category.pk}/change/{query}"


def post_data(response) -> dict[str, str]:
    """The change form as the browser would send it back, unchanged."""
    data: dict[str, str] = {}
    form = response.context["adminform"].form
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = str(value)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for key, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{key}"] = str(value)
        for sub in formset.initial_forms:
            for name in sub.fields:
                value = sub.initial.get(name)
                if name == "id":
                    value = sub.instance.pk
                elif name == "category":
                    value = sub.instance.category_id
                if value is not None:
                    data[sub.add_prefix(name)] = str(value)
    return data


def rows(response, prefix: str) -> int:
    for inline in response.context["inline_admin_formsets"]:
        if inline.formset.prefix == prefix:
            return len(inline.formset.initial_forms)
    raise AssertionError(prefix)


def test_a_large_category_shows_one_page_of_terms(admin_client):
    category = max(ScreeningCategory.objects.all(), key=lambda c: c.terms.count())
    total = category.terms.count()
    assert total > INLINE_PAGE_SIZE
    first = admin_client.get(url(category))
    assert first.status_code == 200
    assert rows(first, "terms") == INLINE_PAGE_SIZE
    html = first.content.decode()
    pages = -(-total // INLINE_PAGE_SIZE)
    assert f"Page 1 of {pages}" in html or f"第 1 / {pages} 页" in html
    assert re.search(r'form="term-search"', html)
    last = admin_client.get(url(category, f"?term_page={pages}"))
    assert rows(last, "terms") == total - (pages - 1) * INLINE_PAGE_SIZE


def test_the_search_finds_terms_and_a_save_edits_the_page_shown(admin_client):
    category = max(ScreeningCategory.objects.all(), key=lambda c: c.terms.count())
    term = category.terms.order_by("-pk").first()
    query = f"?term_q={term.term[:4]}"
    page = admin_client.get(url(category, query))
    assert rows(page, "terms") >= 1
    shown = {
        form.instance.pk
        for inline in page.context["inline_admin_formsets"]
        for form in inline.formset.initial_forms
        if inline.formset.prefix == "terms"
    }
    assert term.pk in shown
    data = post_data(page)
    index = next(
        i
        for i, form in enumerate(page.context["inline_admin_formsets"][0].formset.initial_forms)
        if form.instance.pk == term.pk
    )
    data[f"terms-{index}-term"] = term.term + "_renamed"
    data["_continue"] = "1"
    response = admin_client.post(url(category, query), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert ScreeningTerm.objects.get(pk=term.pk).term == term.term + "_renamed"
    # The rows not shown were left as they were.
    assert category.terms.count() == ScreeningCategory.objects.get(pk=category.pk).terms.count()
