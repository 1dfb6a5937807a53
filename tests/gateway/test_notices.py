"""Deduction notices (CRR 15; ZJ 28, SH 32, GB22) and the evidence a deduction rests on."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.actions import AuditAction
from audit.models import AuditEntry
from compliance import law
from gateway.models import Notification, NotificationKind, ScoreEvent
from gateway.services.notices import local_day, notice_text, notices_create_for_events
from gateway.validation import Why
from tests import factories
from tests.conftest import body_json
from tests.gateway.test_repairs import (
    ANN_ID,
    BEN_ID,
    body,
    make_residents,
)


@pytest.fixture
def residents(world):
    return make_residents(world)


class TestNotice:
    def test_the_resident_is_told_what_why_and_both_remedies(self, residents):
        event = residents.deduct()
        notice = Notification.objects.get(kind=NotificationKind.DEDUCTION_NOTICE)
        assert notice.citizen_id == event.citizen_id
        assert notice.event_id == event.pk
        assert notice.payload == {
            "rule": "traffic.failure_to_yield",
            "rule_version": 1,
            "points": -3,
            "served_until": "2031-11-20",
            "object_by": "2031-11-20",
            "appeal_at": "/api/v1/me/appeals",
            "repair_at": "/api/v1/me/repairs",
            "counts_for_departments_from": notice.payload["counts_for_departments_from"],
        }
        told_from = notice.created_at + dt.timedelta(days=law.NOTICE_BEFORE_DISCLOSURE_DAYS)
        assert notice.payload["counts_for_departments_from"] == local_day(told_from).isoformat()

        zh_title, zh_body = notice_text(notice, "zh-hans")
        en_title, en_body = notice_text(notice, "en")
        for part in (
            "苏公交决字〔2026〕第123号",
            "苏州市公安局交通警察支队",
            "2026-11-21",
            "一般程序行政处罚决定",
            "《中华人民共和国道路交通安全法》第四十七条",
            "扣3分",
            "提出异议",
            "信用修复",
            "2031-11-20",
        ):
            assert part in zh_body, part
        assert "1个工作日内" in zh_body and "5个工作日内" in zh_body
        # The portal's pages for this record, never the API's paths.
        record = f"/portal/events/#event-{event.pk}"
        assert zh_body.count(record) == 2 and en_body.count(record) == 2
        assert "/api/" not in zh_body and "/api/" not in en_body
        for part in ("How to object", "How to repair your credit", "SH 36", "SH 38", "CRR 15"):
            assert part in en_body, part
        assert "How to" not in zh_body and "如何" not in en_body
        assert zh_title.startswith("信用扣分告知") and en_title.startswith("Notice of a credit")
        # Title and body carry both languages, so e-mail does too.
        assert zh_title in notice.title and en_title in notice.title
        assert zh_body in notice.body and en_body in notice.body

    def test_the_resident_reads_the_notice_with_the_record(self, residents):
        event = residents.deduct()
        events = body(residents.client(residents.ann).get("/api/v1/me/events"))["results"]
        assert [e["id"] for e in events] == [event.pk]
        notice = Notification.objects.get(citizen=residents.ann.citizen)
        assert "how to object" in notice.body.lower()
        assert "repair" in notice.body.lower()

    def test_a_reward_brings_no_deduction_notice(self, residents):
        residents.reward()
        assert not Notification.objects.exists()

    def test_the_portal_delivery_is_audited(self, residents):
        residents.deduct()
        entry = AuditEntry.objects.get(action=AuditAction.NOTICE_DELIVERED)
        assert entry.details["channel"] == "portal"
        assert entry.details["notices"] == 1
        assert entry.object_ref.startswith("submission:")

    def test_e_mail_goes_after_commit_only_to_residents_with_an_address(
        self, residents, django_capture_on_commit_callbacks
    ):
        records = [factories.deduction_record(ANN_ID), factories.deduction_record(BEN_ID)]
        with django_capture_on_commit_callbacks(execute=True):
            response = residents.world.submit(residents.world.key_a, records)
            assert response.status_code == 201
            assert mail.outbox == []
        assert [message.to for message in mail.outbox] == [["ann@example.org"]]
        assert "信用扣分告知" in mail.outbox[0].subject
        assert "How to object" in mail.outbox[0].body
        emailed = Notification.objects.exclude(emailed_at=None)
        assert [n.citizen_id for n in emailed] == [residents.ann.citizen_id]
        entry = AuditEntry.objects.get(
            action=AuditAction.NOTICE_DELIVERED, details__channel="email"
        )
        assert entry.subject == residents.ann.citizen.identity_index

    def test_a_refused_batch_leaves_no_notice(self, residents):
        records = [
            factories.deduction_record(ANN_ID),
            factories.deduction_record(BEN_ID, occurred_at="not a date"),
        ]
        assert residents.world.submit(residents.world.key_a, records).status_code == 400
        assert not Notification.objects.exists()

    def test_a_thousand_records_make_their_notices_in_one_insert(self, world):
        records = [
            factories.deduction_record(factories.identity_number(serial=i)) for i in range(1000)
        ]
        with CaptureQueriesContext(connection) as queries:
            response = world.submit(world.key_a, records)
        assert response.status_code == 201, response.content[:500]
        inserts = [q for q in queries if 'INSERT INTO "gateway_notification"' in q["sql"]]
        # One bulk insert; SQLite splits it by its limit on query parameters.
        limit = connection.features.max_query_params
        assert len(inserts) <= (1 if limit is None else math.ceil(1000 * 12 / limit))
        assert Notification.objects.count() == 1000
        # Nothing per record: the whole submission takes a bounded number of statements.
        assert len(queries) < 200, len(queries)

    def test_it_makes_no_query_per_event(self, world, django_assert_max_num_queries):
        world.submit(world.key_a, [factories.deduction_record(ANN_ID)] * 3)
        events = list(ScoreEvent.objects.select_related("rule", "department"))
        Notification.objects.all().delete()
        with django_assert_max_num_queries(3):
            entry = notices_create_for_events(events * 50, now=events[0].recorded_at)
        assert entry.details["notices"] == 150
        assert Notification.objects.count() == 150


class TestEvidence:
    """Each refusal is a 400 naming the rule of law; nothing is stored, nobody is told."""

    @pytest.mark.parametrize(
        ("evidence", "path", "reason"),
        [
            ({"procedure": "summary"}, "/records/0/evidence/procedure", Why.SUMMARY_PROCEDURE),
            ({"document": ""}, "/records/0/evidence/document", Why.DOCUMENT_REQUIRED),
            ({"document": "   "}, "/records/0/evidence/document", Why.DOCUMENT_REQUIRED),
            ({"issued_by": ""}, "/records/0/evidence/issued_by", Why.DOCUMENT_REQUIRED),
            ({"issued_by": None}, "/records/0/evidence/issued_by", Why.DOCUMENT_REQUIRED),
            ({"procedure": None}, "/records/0/evidence/procedure", Why.DOCUMENT_REQUIRED),
            ({"issued_on": None}, "/records/0/evidence/issued_on", Why.DOCUMENT_REQUIRED),
            ({"issued_on": "2026-11-19"}, "/records/0/evidence/issued_on", Why.DOCUMENT_BEFORE_ACT),
            ({"issued_on": "2099-01-01"}, "/records/0/evidence/issued_on", Why.DOCUMENT_IN_FUTURE),
        ],
    )
    def test_a_deduction_rests_on_a_legally_effective_document(self, world, evidence, path, reason):
        record = factories.deduction_record(ANN_ID)
        record["evidence"].update(evidence)
        record["evidence"] = {k: v for k, v in record["evidence"].items() if v is not None}
        response = world.submit(world.key_a, [record])
        assert response.status_code == 400
        assert {"record": 0, "path": path, "message": str(reason)} in body_json(response)[
            "problems"
        ]
        assert any(law in str(reason) for law in ("SH 9", "SH 11", "ZJ 11"))
        assert not ScoreEvent.objects.exists()
        assert not Notification.objects.exists()

    def test_a_document_older_than_the_rule_is_refused(self, world):
        factories.rule("traffic.new_rule", departments=[world.dept_a], effective_from=_day(20))
        record = factories.deduction_record(ANN_ID, rule="traffic.new_rule")
        record["occurred_at"] = "2026-11-20T00:30:00+08:00"
        record["evidence"]["issued_on"] = "2026-11-20"
        assert world.submit(world.key_a, [record]).status_code == 201
        early = factories.deduction_record(ANN_ID, rule="traffic.new_rule")
        early["occurred_at"] = "2026-11-19T23:00:00+08:00"
        response = world.submit(world.key_a, [early])
        assert response.status_code == 400
        assert "SH 10" in body_json(response)["problems"][0]["message"]

    def test_an_act_past_its_period_is_refused(self, world):
        factories.rule(
            "tax.old_arrears", departments=[world.dept_a], effective_from=_day(1, 2015, 1)
        )
        record = factories.deduction_record(ANN_ID, rule="tax.old_arrears")
        record["occurred_at"] = "2020-01-01T08:00:00+08:00"
        record["evidence"]["issued_on"] = "2020-02-01"
        response = world.submit(world.key_a, [record])
        assert response.status_code == 400
        message = body_json(response)["problems"][0]["message"]
        assert "SH 35" in message and "ZJ 16" in message


def _day(day: int, year: int = 2026, month: int = 11):
    import datetime as dt

    return dt.date(year, month, day)
