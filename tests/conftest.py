from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from unittest import mock

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from compliance import law
from compliance.models import Disclosure
from tests import factories


@dataclass
class World:
    """Two departments with keys, a rule only A may apply, and purposes A was granted."""

    dept_a: object
    dept_b: object
    key_a: str
    key_b: str
    rule: object
    reward: object
    loan_purpose: object
    review_purpose: object

    def client(self, key: str | None, language: str = "en") -> APIClient:
        # Integrators choose the language of messages with Accept-Language; these
        # tests read English (Chinese is the default and has tests of its own).
        client = APIClient(HTTP_ACCEPT_LANGUAGE=language)
        if key:
            client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
        return client

    def submit(
        self, key: str, records: list[dict], idem: str | None = None, raw: bytes | None = None
    ):
        payload = raw if raw is not None else factories.body(records, idem)
        return self.client(key).generic(
            "POST", "/api/v1/submissions", payload, content_type="application/json"
        )


@pytest.fixture
def world(db) -> World:
    dept_a = factories.department("traffic_police")
    dept_b = factories.department("tax")
    rule = factories.rule("traffic.failure_to_yield", points=-3, departments=[dept_a])
    reward = factories.rule("volunteer.service_hours", points=2, departments=[dept_a, dept_b])
    loan = factories.purpose(
        "loan_eligibility", discloses=Disclosure.ELIGIBILITY, departments=[dept_a]
    )
    review = factories.purpose("licensing_review", discloses=Disclosure.SCORE, departments=[dept_a])
    return World(
        dept_a=dept_a,
        dept_b=dept_b,
        key_a=factories.api_key(dept_a),
        key_b=factories.api_key(dept_b),
        rule=rule,
        reward=reward,
        loan_purpose=loan,
        review_purpose=review,
    )


def after_notice_period():
    """The clock once a deduction recorded now may be told to departments: its notice
    delivered and the notice period passed (CRR 15)."""
    moment = timezone.now() + dt.timedelta(days=law.NOTICE_BEFORE_DISCLOSURE_DAYS, seconds=1)
    return mock.patch("django.utils.timezone.now", return_value=moment)


def body_json(response) -> dict:
    return json.loads(response.content)


def named_path(document, pointer: str) -> str:
    """POINTER with each ``#N`` (a member named by its position) replaced by the N-th name.

    What a department does to find the member a refusal points at without naming it.
    """
    node, named = document, []
    for token in pointer[1:].split("/"):
        if isinstance(node, dict) and token.startswith("#") and token[1:].isdigit():
            token = list(node)[int(token[1:])]
            named.append(token.replace("~", "~0").replace("/", "~1"))
            node = node[token]
            continue
        named.append(token)
        name = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict):
            node = node.get(name)
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            node = None
    return "/" + "/".join(named)


# The append-only tables (the log, refusal records, history) refuse DELETE and TRUNCATE,
# which is how pytest-django empties the database after a transactional test. Such tests
# drop the triggers just before that flush (as only a database administrator could), and
# the next test puts them back.
_dropped_tables: list[str] = []


def _is_transactional(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    if marker is not None and (marker.kwargs.get("transaction") or marker.args[:1] == (True,)):
        return True
    return bool({"transactional_db", "live_server"} & set(request.fixturenames))


@pytest.fixture(autouse=True)
def _audit_triggers_around_flush(request, django_db_blocker):
    global _dropped_tables
    from django.db import connection

    from audit import triggers

    if _dropped_tables:
        with django_db_blocker.unblock():
            triggers.unprotect(connection, _dropped_tables)
            triggers.reinstall(connection, _dropped_tables)
        _dropped_tables = []
    if not _is_transactional(request):
        yield
        return
    # Set the database up from here, so this teardown runs before its flush.
    request.getfixturevalue("transactional_db")
    yield
    with django_db_blocker.unblock():
        tables = triggers.protected_tables(connection)
        triggers.unprotect(connection, tables)
    _dropped_tables = tables
