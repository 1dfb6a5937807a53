"""A resident's long lists page by cursor: every row once, newest first, however deep.

``?before=<next>`` starts a page after the last row of the one before: an index range,
not an offset that reads and drops every earlier row. Run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from audit.actions import AuditAction
from audit.models import AuditEntry
from gateway.models import ScoreEvent
from tests.gateway.people import ALICE_ID, body

# Ties on the time a record occurred: the cursor must still split them exactly.
DAYS = ["18", "18", "19", "19", "19", "20", "21"]


def _walk(client, path: str, limit: int) -> list:
    seen, url = [], f"{path}?limit={limit}"
    for _ in range(50):
        page = body(client.get(url))
        seen.extend(page["results"])
        assert len(page["results"]) <= limit
        if page["next"] is None:
            return seen
        url = f"{path}?limit={limit}&before={page['next']}"
    raise AssertionError("the walk did not end")


def test_events_by_cursor_show_every_record_once_newest_first(people):
    for day in DAYS:
        people.deduct(occurred_at=f"2026-11-{day}T08:30:00+08:00")
    client = people.client(people.alice)
    walked = [e["id"] for e in _walk(client, "/api/v1/me/events", 2)]
    expected = list(
        ScoreEvent.objects.filter(citizen=people.alice.citizen)
        .order_by("-occurred_at", "-id")
        .values_list("id", flat=True)
    )
    assert len(expected) == len(DAYS)
    assert walked == expected
    # The offset pages agree with the cursor pages.
    assert [e["id"] for e in body(client.get("/api/v1/me/events?limit=200"))["results"]] == walked


def test_accesses_by_cursor_show_every_read_once_newest_first(people):
    department = people.world.client(people.world.key_a)
    for _ in range(7):
        response = department.get(f"/api/v1/citizens/{ALICE_ID}/score?purpose=licensing_review")
        assert response.status_code == 200
    client = people.client(people.alice)
    walked = _walk(client, "/api/v1/me/accesses", 3)
    assert len(walked) == 7
    times = [a["time"] for a in walked]
    assert times == sorted(times, reverse=True)
    everything = body(client.get("/api/v1/me/accesses?limit=200"))
    assert walked == everything["results"]
    # Each cursor page is itself a recorded read, naming the cursor it started from.
    cursor_reads = AuditEntry.objects.filter(
        action=AuditAction.ACCESSES_READ_BY_CITIZEN, details__has_key="before"
    )
    assert cursor_reads.count() == 2


@pytest.mark.parametrize("path", ["/api/v1/me/events", "/api/v1/me/accesses"])
@pytest.mark.parametrize("cursor", ["x", "0", "-3", "1.5", "9" * 25])
def test_a_bad_cursor_is_a_400_naming_it(people, path, cursor):
    before = AuditEntry.objects.count()
    response = people.client(people.alice).get(f"{path}?before={cursor}")
    assert response.status_code == 400
    payload = body(response)
    assert payload["error"] == "invalid"
    assert [p["path"] for p in payload["problems"]] == ["/before"]
    assert AuditEntry.objects.count() == before


def test_someone_elses_record_is_no_cursor(people):
    other = people.deduct(identity="320583199201018121")
    people.deduct()
    response = people.client(people.alice).get(f"/api/v1/me/events?before={other.pk}")
    assert response.status_code == 400
    assert str(other.pk) not in response.content.decode()


def test_the_portal_goes_on_by_cursor_and_back_to_the_newest(people):
    for day in DAYS * 8:  # 56 records: more than one portal page of 50
        people.deduct(occurred_at=f"2026-11-{day}T08:30:00+08:00")
    portal = Client()
    portal.force_login(people.alice.user)
    first = portal.get(reverse("portal:events"))
    assert first.status_code == 200
    older = re.search(r'href="\?(before=\d+)"', first.content.decode())
    assert older, "the first page links to the older records by cursor"
    second = portal.get(reverse("portal:events") + "?" + older.group(1))
    assert second.status_code == 200
    shown = {e["id"] for e in first.context["events"]} | {e["id"] for e in second.context["events"]}
    assert len(shown) == len(DAYS) * 8
    assert 'href="?"' in second.content.decode()  # back to the newest
