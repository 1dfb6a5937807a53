"""The regulator's admin: read-only log, filters, blind-index search, CSV export, status."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.actions import AuditAction
from audit.models import AuditEntry, Checkpoint
from audit.services import integrate_all, verification_run
from gateway.identity import vault
from tests import factories

CITIZEN = "320505199003074510"
SYSTEM = {"actor_kind": "system", "actor_id": "test"}


@pytest.fixture
def superuser_client(client, db):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw-123456")
    client.force_login(user)
    return client


@pytest.fixture
def regulator_client(client, db):
    user = get_user_model().objects.create_user("reg", "reg@example.com", "pw-123456")
    user.is_staff = True
    user.save()
    group, _ = Group.objects.get_or_create(name="regulators")
    group.permissions.set(
        Permission.objects.filter(
            content_type__app_label__in=["audit", "compliance", "gateway"],
            codename__startswith="view_",
        )
    )
    user.groups.add(group)
    client.force_login(user)
    return client


@pytest.fixture
def logged(world):
    world.submit(world.key_a, [factories.deduction_record(CITIZEN)])
    world.client(world.key_a).get(f"/api/v1/citizens/{CITIZEN}/score?purpose=licensing_review")
    integrate_all()
    verification_run()
    return world


def test_nobody_may_add_change_or_delete_entries(superuser_client, logged):
    entry = AuditEntry.objects.order_by("id").first()
    assert superuser_client.get("/admin/audit/auditentry/add/").status_code == 403
    page = superuser_client.get(f"/admin/audit/auditentry/{entry.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    response = superuser_client.post(
        f"/admin/audit/auditentry/{entry.pk}/change/", {"actor_id": "forged"}
    )
    assert response.status_code == 403
    assert superuser_client.post(f"/admin/audit/auditentry/{entry.pk}/delete/").status_code == 403
    assert AuditEntry.objects.get(pk=entry.pk).actor_id == entry.actor_id


def test_the_changelist_filters_by_action_department_and_date(superuser_client, logged):
    response = superuser_client.get(
        f"/admin/audit/auditentry/?action__exact={AuditAction.SCORE_READ_BY_DEPARTMENT}"
        "&department=traffic_police"
    )
    assert response.status_code == 200
    rows = list(response.context["cl"].result_list)
    assert rows and all(r.action == AuditAction.SCORE_READ_BY_DEPARTMENT for r in rows)
    dated = superuser_client.get(
        "/admin/audit/auditentry/?recorded_at__gte=2000-01-01+00%3A00%3A00%2B08%3A00"
        "&recorded_at__lt=2000-01-02+00%3A00%3A00%2B08%3A00"
    )
    assert dated.status_code == 200
    assert list(dated.context["cl"].result_list) == []


def test_the_department_filter_offers_the_catalogue_and_never_reads_the_log(
    superuser_client, logged
):
    from compliance.services import department_create

    department_create(code="zz_no_entries_yet", title_zh="新", title_en="New", **SYSTEM)
    with CaptureQueriesContext(connection) as queries:
        response = superuser_client.get("/admin/audit/auditentry/")
    assert response.status_code == 200
    spec = next(
        s
        for s in response.context["cl"].filter_specs
        if getattr(s, "parameter_name", "") == "department"
    )
    offered = [code for code, _title in spec.lookup_choices]
    # Every department of the catalogue, one without entries too, in code order.
    assert "zz_no_entries_yet" in offered and "traffic_police" in offered
    assert offered == sorted(offered)
    distinct = [
        q["sql"] for q in queries if "DISTINCT" in q["sql"] and "audit_auditentry" in q["sql"]
    ]
    assert distinct == []


def test_the_search_matches_exactly_by_actor_object_or_purpose(superuser_client, logged):
    entry = AuditEntry.objects.filter(purpose="licensing_review").first()
    assert entry is not None
    for term in (entry.purpose, entry.actor_id, entry.object_ref):
        if not term:
            continue
        rows = list(
            superuser_client.get("/admin/audit/auditentry/", {"q": term}).context["cl"].result_list
        )
        assert entry in rows
        assert all(term in (r.actor_id, r.object_ref, r.purpose) for r in rows)
    # Exact, not a prefix or another case.
    upper = superuser_client.get("/admin/audit/auditentry/", {"q": entry.purpose.upper()})
    assert list(upper.context["cl"].result_list) == []


def test_search_by_identity_number_uses_the_blind_index(superuser_client, logged):
    response = superuser_client.get(f"/admin/audit/auditentry/?q={CITIZEN}")
    rows = list(response.context["cl"].result_list)
    subject = vault().blind_index(CITIZEN)
    assert len(rows) == 2
    assert all(r.subject == subject for r in rows)


def test_the_changelist_never_counts_the_whole_log(superuser_client, logged):
    with CaptureQueriesContext(connection) as queries:
        assert superuser_client.get("/admin/audit/auditentry/").status_code == 200
        assert (
            superuser_client.get(
                "/admin/audit/auditentry/?actor_kind__exact=department"
            ).status_code
            == 200
        )
    counts = [
        q["sql"]
        for q in queries
        if re.search(r"COUNT\(", q["sql"]) and "audit_auditentry" in q["sql"]
    ]
    assert counts, "the filtered view should count with a cap"
    assert all("LIMIT" in sql for sql in counts), counts


def test_the_status_panel_shows_the_latest_checkpoint_and_verification(superuser_client, logged):
    page = superuser_client.get("/admin/audit/auditentry/").content.decode()
    assert "audit-log-status" in page
    checkpoint = Checkpoint.objects.get()
    assert checkpoint.note.splitlines()[2] in page  # the signed root hash line
    assert "audit-badge audit-ok" in page  # a verified badge, not an emoji


def test_a_csv_export_of_a_filtered_view_is_itself_audited(superuser_client, logged):
    response = superuser_client.get(f"/admin/audit/auditentry/export.csv?q={CITIZEN}")
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    lines = body.strip().splitlines()
    assert lines[0].startswith("sequence,recorded_at,action")
    assert len(lines) == 3
    entry = AuditEntry.objects.filter(action=AuditAction.AUDIT_EXPORTED).latest("id")
    assert CITIZEN not in str(entry.details)
    assert entry.details["filters"]["q"].startswith("subject:")


def test_a_regulator_sees_the_log_and_history_but_changes_nothing(regulator_client, logged):
    assert regulator_client.get("/admin/audit/auditentry/").status_code == 200
    assert regulator_client.get("/admin/compliance/rule/").status_code == 200
    rule = logged.rule
    assert regulator_client.get(f"/admin/compliance/rule/{rule.pk}/history/").status_code == 200
    assert regulator_client.get("/admin/compliance/rule/add/").status_code == 403
    response = regulator_client.post(f"/admin/compliance/rule/{rule.pk}/change/", {"points": -30})
    assert response.status_code == 403
    assert regulator_client.get("/admin/audit/auditentry/export.csv").status_code == 200


def test_admin_logins_are_audited(client, db):
    get_user_model().objects.create_superuser("boss", "b@example.com", "pw-123456")
    client.post("/admin/login/?next=/admin/", {"username": "boss", "password": "wrong"})
    client.post("/admin/login/?next=/admin/", {"username": "boss", "password": "pw-123456"})
    actions = list(AuditEntry.objects.order_by("id").values_list("action", "actor_id"))
    assert (AuditAction.ADMIN_LOGIN_FAILED, "boss") in actions
    assert (AuditAction.ADMIN_LOGIN, "boss") in actions


def test_admin_pages_showing_a_resident_are_audited(superuser_client, logged):
    from gateway.models import Citizen

    citizen = Citizen.objects.get()
    assert superuser_client.get(f"/admin/gateway/citizen/{citizen.pk}/change/").status_code == 200
    entry = AuditEntry.objects.filter(action=AuditAction.DATA_READ_BY_ADMIN).latest("id")
    assert entry.subject == citizen.identity_index
    assert entry.actor_id == "root"


def test_the_resident_search_posts_the_number_and_the_address_holds_its_blind_index(
    superuser_client, logged
):
    page = superuser_client.get("/admin/audit/auditentry/")
    assert 'method="post" action="/admin/audit/auditentry/resident/"' in page.content.decode()
    response = superuser_client.post(
        "/admin/audit/auditentry/resident/", {"identity_number": CITIZEN}
    )
    assert response.status_code == 302
    subject = vault().blind_index(CITIZEN)
    assert response["Location"] == f"/admin/audit/auditentry/?subject={subject}"
    assert CITIZEN not in response["Location"]
    listed = superuser_client.get(response["Location"])
    rows = list(listed.context["cl"].result_list)
    # The two entries about the resident, and the first page's showing of them.
    shown = [
        AuditAction.SUBMISSION_ACCEPTED,
        AuditAction.SCORE_READ_BY_DEPARTMENT,
        AuditAction.DATA_READ_BY_ADMIN,
    ]
    assert sorted(r.action for r in rows) == sorted(shown)
    assert all(r.subject == subject for r in rows)


def test_the_resident_search_refuses_what_is_not_an_identity_number(superuser_client, logged):
    response = superuser_client.post(
        "/admin/audit/auditentry/resident/",
        {"identity_number": "320505199003074511"},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.redirect_chain[-1][0] == "/admin/audit/auditentry/"
    assert "not a valid identity number" in response.content.decode()
    assert "320505199003074511" not in response.content.decode()
    # Asked with GET, it shows the log without searching.
    assert superuser_client.get("/admin/audit/auditentry/resident/").status_code == 302


def test_the_resident_search_needs_the_view_permission(client, db, logged):
    user = get_user_model().objects.create_user("staff", "s@example.com", "pw-123456")
    user.is_staff = True
    user.save()
    client.force_login(user)
    response = client.post("/admin/audit/auditentry/resident/", {"identity_number": CITIZEN})
    assert response.status_code == 403


def test_the_history_pages_of_a_score_and_an_appeal_are_audited(superuser_client, logged):
    from gateway.models import Score

    score = Score.objects.get()
    for url in (
        f"/admin/gateway/score/{score.pk}/history/",
        f"/admin/gateway/score/{score.pk}/history/{score.history.latest().history_id}/",
    ):
        before = AuditEntry.objects.filter(action=AuditAction.DATA_READ_BY_ADMIN).count()
        assert superuser_client.get(url).status_code == 200, url
        entry = AuditEntry.objects.filter(action=AuditAction.DATA_READ_BY_ADMIN).latest("sequence")
        assert AuditEntry.objects.filter(action=AuditAction.DATA_READ_BY_ADMIN).count() == (
            before + 1
        )
        assert entry.subject == score.citizen.identity_index
        assert entry.object_ref.startswith(f"score:{score.pk}:history")


def test_a_list_page_leaves_one_entry_per_resident_shown(superuser_client, logged):
    from gateway.models import Score

    score = Score.objects.get()
    assert superuser_client.get("/admin/gateway/score/").status_code == 200
    entry = AuditEntry.objects.filter(action=AuditAction.DATA_READ_BY_ADMIN).latest("sequence")
    assert entry.subject == score.citizen.identity_index
    assert entry.object_ref == f"score:list:{score.pk}"


def test_an_export_filter_holding_an_identity_number_is_stored_masked(superuser_client, logged):
    response = superuser_client.get(f"/admin/audit/auditentry/export.csv?department={CITIZEN}")
    assert response.status_code == 200
    entry = AuditEntry.objects.filter(action=AuditAction.AUDIT_EXPORTED).latest("sequence")
    assert entry.details["filters"] == {"department": "3205**********4510"}


def _walk(client, query: str) -> list[int]:
    """Every entry id the change list shows, following page numbers, then "Older entries"."""
    seen: list[int] = []
    url = f"/admin/audit/auditentry/{query}"
    for _ in range(100):
        response = client.get(url)
        assert response.status_code == 200, url
        cl = response.context["cl"]
        seen.extend(row.pk for row in cl.result_list)
        pages = cl.paginator.num_pages
        if cl.page_num < pages:
            base = url.split("&p=")[0].split("?p=")[0]
            url = f"{base}{'&' if '?' in base else '?'}p={cl.page_num + 1}"
            continue
        older = cl.older_query()
        if older is None:
            return seen
        url = f"/admin/audit/auditentry/{older}"
    raise AssertionError("the walk did not end")


def _many_entries(count: int) -> None:
    from django.db import transaction

    from audit.services import audit_record

    with transaction.atomic():
        for n in range(count):
            audit_record(
                action=AuditAction.SCORE_READ_BY_DEPARTMENT if n % 3 else AuditAction.KEY_CREATED,
                actor_kind="department",
                actor_id="traffic_police",
                purpose="paging",
                object_ref=f"test:{n}",
            )


@pytest.mark.parametrize("query", ["", "?action__exact=200", "?q=paging"])
def test_pages_and_older_links_show_every_entry_once_in_order(
    superuser_client, logged, monkeypatch, query
):
    _many_entries(260)
    integrate_all()
    # Two pages by number, then "Older entries" from the last row: a keyset walk.
    monkeypatch.setattr("audit.admin.MAX_PAGES", 2)
    newest = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
    seen = _walk(superuser_client, query)
    # A page that shows entries about a resident is itself recorded (a read of her data):
    # the walk's own entries come after it began, and are left out of what it must show.
    expected = list(
        superuser_client.get(f"/admin/audit/auditentry/{query}")
        .context["cl"]
        .queryset.filter(pk__lte=newest)
        .values_list("pk", flat=True)
    )
    assert len(expected) > 150
    # Newest first, no duplicate, no gap.
    assert seen[: len(expected)] == expected
    assert len(seen) == len(set(seen))


def test_page_numbers_stop_short_of_an_offset_into_the_whole_log(
    superuser_client, logged, monkeypatch
):
    _many_entries(120)
    integrate_all()
    monkeypatch.setattr("audit.admin.MAX_PAGES", 2)
    page = superuser_client.get("/admin/audit/auditentry/")
    assert page.context["cl"].paginator.num_pages == 2
    assert superuser_client.get("/admin/audit/auditentry/?p=3").status_code == 302
    older = page.context["cl"].older_query()
    assert older and "before=" in older
    after = superuser_client.get(f"/admin/audit/auditentry/{older}")
    assert after.context["cl"].newest_query() is not None
    for bad in ("x", "-1", "9" * 30):
        response = superuser_client.get(f"/admin/audit/auditentry/?before={bad}")
        assert response.status_code == 302 and "e=1" in response["Location"]
    # No column sorts the log: a sort of millions of rows is not served from an index.
    sorted_page = superuser_client.get("/admin/audit/auditentry/?o=2")
    rows = [r.pk for r in sorted_page.context["cl"].result_list]
    assert rows == sorted(rows, reverse=True)
