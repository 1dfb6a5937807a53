"""The search box and pager of a paged inline (compliance.admin.PagedInline)."""

from __future__ import annotations

from urllib.parse import urlencode

from django import template

register = template.Library()


@register.inclusion_tag("admin/compliance/inline_pager.html", takes_context=True)
def inline_pager(context, inline_admin_formset):
    request = context["request"]
    key = inline_admin_formset.opts.key
    state = getattr(request, "inline_pages", {}).get(key)
    if state is None:
        return {"show": False}
    page = state["page"]

    def link(number: int) -> str:
        params = {k: v for k, v in request.GET.items() if k != f"{key}_page"}
        params[f"{key}_page"] = str(number)
        return "?" + urlencode(params)

    kept = [(k, v) for k, v in request.GET.items() if k not in {f"{key}_q", f"{key}_page"}]
    return {
        "show": True,
        "key": key,
        "form_id": f"{key}-search",
        "query": state["query"],
        "total": state["total"],
        "page": page,
        "previous": link(page.previous_page_number()) if page.has_previous() else "",
        "next": link(page.next_page_number()) if page.has_next() else "",
        "kept": kept,
        "title": inline_admin_formset.opts.verbose_name_plural,
    }
