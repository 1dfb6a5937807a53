"""POST /api/v1/submissions: every documented response and bad input."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone, translation

from audit.actions import AuditAction
from audit.models import AuditEntry
from compliance.models import ScreeningRefusal
from gateway.errors import Msg
from gateway.identity import mask_identity_number, vault
from gateway.models import Citizen, DepartmentAPIKey, Score, ScoreEvent, Submission
from gateway.services.keys import department_key_revoke
from gateway.validation import Why
from tests import factories
from tests.conftest import body_json

CITIZEN = "320505199003074510"


def score_of(identity: str) -> int:
    citizen = Citizen.objects.get(identity_index=vault().blind_index(identity))
    return Score.objects.get(citizen=citizen).score


class TestAccepted:
    def test_it_records_a_deduction_and_keeps_the_score(self, world):
        response = world.submit(world.key_a, [factories.deduction_record(CITIZEN)], "k-1")
        assert response.status_code == 201
        payload = body_json(response)
        assert payload["accepted"] == 1
        assert payload["events"][0]["points"] == -3
        assert payload["events"][0]["rule"] == "traffic.failure_to_yield"
        assert payload["events"][0]["rule_version"] == 1
        assert payload["events"][0]["status"] == "active"
        assert set(payload["receipt"]) == {"leaf_hash", "time", "origin", "max_merge_delay", "note"}
        assert "score" not in json.dumps(payload)
        assert score_of(CITIZEN) == 97

    def test_it_never_stores_the_identity_number_in_plaintext(self, world):
        world.submit(world.key_a, [factories.deduction_record(CITIZEN)])
        citizen = Citizen.objects.get()
        assert CITIZEN.encode() not in bytes(citizen.identity_ciphertext)
        assert citizen.identity_masked == "3205**********4510" == mask_identity_number(CITIZEN)
        assert vault().decrypt(citizen.identity_ciphertext) == CITIZEN
        assert CITIZEN not in json.dumps(list(ScoreEvent.objects.values("data", "evidence")))

    def test_a_batch_applies_every_record_with_points_from_the_rule(self, world):
        other = factories.identity_number(serial=7)
        records = [
            factories.deduction_record(CITIZEN),
            factories.deduction_record(CITIZEN),
            factories.deduction_record(other),
            {
                "citizen_id": other,
                "rule": "volunteer.service_hours",
                "occurred_at": "2026-11-01T09:00:00+08:00",
                "evidence": {"reference": "VF-2026-1", "issued_by": "志愿者总会"},
            },
        ]
        response = world.submit(world.key_a, records)
        assert response.status_code == 201, response.content
        assert body_json(response)["accepted"] == 4
        assert score_of(CITIZEN) == 94
        assert score_of(other) == 99
        assert Citizen.objects.count() == 2

    def test_the_score_stays_within_0_and_200(self, world):
        big_loss = factories.rule("court.unpaid_debt", points=-150, departments=[world.dept_a])
        big_gain = factories.rule("civil.model_family", points=150, departments=[world.dept_a])
        loss = factories.deduction_record(CITIZEN, rule=big_loss.code)
        world.submit(world.key_a, [loss, loss])
        assert score_of(CITIZEN) == 0
        gain = {
            "citizen_id": CITIZEN,
            "rule": big_gain.code,
            "occurred_at": "2026-11-01T09:00:00+08:00",
            "evidence": {"reference": "CA-1"},
        }
        world.submit(world.key_a, [gain, gain, gain, gain])
        assert score_of(CITIZEN) == 200

    def test_it_audits_the_accepted_submission_with_its_receipt(self, world):
        response = world.submit(world.key_a, [factories.deduction_record(CITIZEN)])
        receipt = body_json(response)["receipt"]
        entry = AuditEntry.objects.get(leaf_hash=bytes.fromhex(receipt["leaf_hash"]))
        assert entry.action == AuditAction.SUBMISSION_ACCEPTED
        assert receipt["note"].startswith(receipt["origin"] + "\nreceipt\n")
        assert bytes(entry.leaf_hash).hex() == receipt["leaf_hash"]
        assert entry.actor_id == "traffic_police"
        assert entry.subject == vault().blind_index(CITIZEN)
        assert CITIZEN not in json.dumps(entry.details)


class TestIdempotency:
    def test_a_replayed_submission_has_no_second_effect(self, world):
        records = [factories.deduction_record(CITIZEN)]
        first = world.submit(world.key_a, records, "same-key")
        second = world.submit(world.key_a, records, "same-key")
        assert second.status_code == 201
        assert body_json(second) == body_json(first)
        assert second["Idempotent-Replayed"] == "true"
        assert ScoreEvent.objects.count() == 1
        assert score_of(CITIZEN) == 97

    def test_the_same_key_with_a_different_body_is_a_conflict(self, world):
        world.submit(world.key_a, [factories.deduction_record(CITIZEN)], "same-key")
        other = factories.deduction_record(CITIZEN, occurred_at="2026-11-19T08:30:00+08:00")
        response = world.submit(world.key_a, [other], "same-key")
        assert response.status_code == 409
        assert body_json(response)["error"] == "idempotency_conflict"
        assert ScoreEvent.objects.count() == 1
        assert AuditEntry.objects.filter(action=AuditAction.SUBMISSION_REFUSED_CONFLICT).exists()

    def test_keys_are_scoped_to_the_department(self, world):
        reward = {
            "citizen_id": CITIZEN,
            "rule": "volunteer.service_hours",
            "occurred_at": "2026-11-01T09:00:00+08:00",
            "evidence": {"reference": "VF-1"},
        }
        assert world.submit(world.key_a, [reward], "shared").status_code == 201
        assert world.submit(world.key_b, [reward], "shared").status_code == 201
        assert Submission.objects.count() == 2


class TestProhibited:
    def test_it_refuses_prohibited_fields_anywhere_and_stores_nothing(self, world):
        record = factories.deduction_record(
            CITIZEN, data={"location": "干将路", "person": {"religion": "佛教"}}
        )
        record["evidence"]["血型"] = "AB"
        record["fingerprint"] = "Rk1SACAyMAAAAAE"
        response = world.submit(world.key_a, [factories.deduction_record(CITIZEN), record])
        assert response.status_code == 422
        payload = body_json(response)
        assert payload["error"] == "prohibited_data"
        found = {(v["record"], v["path"], v["category"]) for v in payload["violations"]}
        assert (1, "/records/1/data/person/religion", "religious_belief") in found
        assert (1, "/records/1/evidence/血型", "blood_type") in found
        assert (1, "/records/1/fingerprint", "fingerprint") in found
        assert "佛教" not in response.content.decode()
        assert "Rk1SACAyMAAAAAE" not in response.content.decode()
        assert ScoreEvent.objects.count() == 0
        assert Citizen.objects.count() == 0
        assert Submission.objects.count() == 0

    def test_the_refusal_is_recorded_without_the_body(self, world):
        raw = factories.body(
            [factories.deduction_record(CITIZEN, data={"medical_history": "糖尿病"})]
        )
        response = world.submit(world.key_a, [], raw=raw)
        assert response.status_code == 422
        refusal = ScreeningRefusal.objects.get()
        assert refusal.department == world.dept_a
        assert refusal.categories == ["medical_history"]
        assert refusal.paths == ["/records/0/data/medical_history"]
        assert refusal.policy_version == body_json(response)["policy_version"]
        import hashlib

        assert refusal.body_sha256 == hashlib.sha256(raw).hexdigest()
        entry = AuditEntry.objects.get(action=AuditAction.SUBMISSION_REFUSED_PROHIBITED)
        assert "糖尿病" not in json.dumps(entry.details, ensure_ascii=False)
        assert CITIZEN not in json.dumps(entry.details)


def _problem_paths(response) -> set[str]:
    return {p["path"] for p in body_json(response)["problems"]}


class TestInvalid:
    @pytest.mark.parametrize(
        ("mutate", "path"),
        [
            (lambda r: r.update(citizen_id="320505199003074518"), "/records/1/citizen_id"),
            (lambda r: r.update(citizen_id="32050519900307451"), "/records/1/citizen_id"),
            (lambda r: r.update(citizen_id="320505199013074512"), "/records/1/citizen_id"),
            (lambda r: r.update(citizen_id=320505199003074510), "/records/1/citizen_id"),
            (lambda r: r.pop("citizen_id"), "/records/1/citizen_id"),
            (lambda r: r.update(rule="traffic.no_such_rule"), "/records/1/rule"),
            (lambda r: r.update(rule="DROP TABLE"), "/records/1/rule"),
            (lambda r: r.pop("rule"), "/records/1/rule"),
            (lambda r: r.pop("occurred_at"), "/records/1/occurred_at"),
            (lambda r: r.update(occurred_at="2026-11-20 08:30"), "/records/1/occurred_at"),
            (lambda r: r.update(occurred_at="yesterday"), "/records/1/occurred_at"),
            (lambda r: r.update(occurred_at="2099-01-01T00:00:00+08:00"), "/records/1/occurred_at"),
            (lambda r: r.update(points=-30), "/records/1/points"),
            (lambda r: r.update(data=["x"]), "/records/1/data"),
            (lambda r: r.update(evidence="doc"), "/records/1/evidence"),
        ],
    )
    def test_it_names_the_problem_and_stores_nothing(self, world, mutate, path):
        record = factories.deduction_record(CITIZEN)
        mutate(record)
        response = world.submit(world.key_a, [factories.deduction_record(CITIZEN), record])
        assert response.status_code == 400, response.content
        payload = body_json(response)
        assert payload["error"] == "invalid"
        assert path in _problem_paths(response)
        assert all(p.get("record") == 1 for p in payload["problems"])
        assert CITIZEN not in response.content.decode()
        assert ScoreEvent.objects.count() == 0
        assert AuditEntry.objects.filter(action=AuditAction.SUBMISSION_REFUSED_INVALID).exists()

    @pytest.mark.parametrize(
        ("raw", "path"),
        [
            (b"{not json", ""),
            (b"[]", ""),
            (b'{"records": []}', "/idempotency_key"),
            (b'{"idempotency_key": "k", "records": []}', "/records"),
            (b'{"idempotency_key": "k", "records": {}}', "/records"),
            (b'{"idempotency_key": "bad key!", "records": [{}]}', "/idempotency_key"),
            (b'{"idempotency_key": "k", "records": [1]}', "/records/0"),
            (b'{"idempotency_key": "k", "records": [{}], "extra": 1}', "/extra"),
            (b"\xff\xfe{}", ""),
            (
                b'{"idempotency_key": "k", "records": [{"citizen_id": "\\ud800"}]}',
                "/records/0/citizen_id",
            ),
        ],
    )
    def test_malformed_bodies_get_a_400(self, world, raw, path):
        response = world.submit(world.key_a, [], raw=raw)
        assert response.status_code == 400, response.content
        assert body_json(response)["error"] == "invalid"
        assert path in _problem_paths(response)

    @pytest.mark.parametrize("depth", [40, 900, 10_000, 200_000])
    def test_deep_nesting_is_refused_quickly(self, world, depth):
        raw = b'{"idempotency_key": "k", "records": [' + b"[" * depth + b"]" * depth + b"]}"
        response = world.submit(world.key_a, [], raw=raw)
        assert response.status_code == 400
        assert "nested" in body_json(response)["message"]

    def test_a_one_megabyte_key_is_refused_without_being_echoed(self, world):
        key = "k" * 1_000_000
        raw = json.dumps({"idempotency_key": "k", "records": [{key: 1}]}).encode()
        response = world.submit(world.key_a, [], raw=raw)
        assert response.status_code == 400
        assert len(response.content) < 2_000

    def test_a_huge_array_is_refused(self, world):
        record = factories.deduction_record(CITIZEN, data={"items": list(range(100_000))})
        response = world.submit(world.key_a, [record])
        assert response.status_code == 400
        assert "/records/0/data/items" in _problem_paths(response)

    def test_an_empty_batch_is_refused(self, world):
        response = world.submit(world.key_a, [])
        assert response.status_code == 400
        assert "/records" in _problem_paths(response)

    def test_an_oversized_batch_gets_413(self, world):
        records = [factories.deduction_record(CITIZEN)] * 1001
        response = world.submit(world.key_a, records)
        assert response.status_code == 413
        assert body_json(response)["error"] == "too_large"
        assert ScoreEvent.objects.count() == 0

    def test_an_oversized_body_gets_413(self, world, settings):
        settings.GATEWAY_MAX_BODY_BYTES = 2048
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
        record = factories.deduction_record(CITIZEN, data={"note": "x" * 4000})
        response = world.submit(world.key_a, [record])
        assert response.status_code == 413

    def test_a_non_json_content_type_gets_415(self, world):
        response = world.client(world.key_a).generic(
            "POST", "/api/v1/submissions", b"records=1", content_type="text/plain"
        )
        assert response.status_code == 415
        assert body_json(response)["error"] == "unsupported_media_type"

    def test_one_bad_record_refuses_the_whole_batch(self, world):
        records = [factories.deduction_record(CITIZEN) for _ in range(5)]
        records[3]["citizen_id"] = "320505199003074519"
        response = world.submit(world.key_a, records)
        assert response.status_code == 400
        assert [p["record"] for p in body_json(response)["problems"]] == [3]
        assert ScoreEvent.objects.count() == 0
        assert Citizen.objects.count() == 0


class TestEvidence:
    @pytest.mark.parametrize(
        ("evidence", "path", "reason"),
        [
            ({"procedure": "summary"}, "/records/0/evidence/procedure", Why.SUMMARY_PROCEDURE),
            (None, "/records/0/evidence", Why.DOCUMENT_REQUIRED),
            ({"document": None}, "/records/0/evidence/document", Why.DOCUMENT_REQUIRED),
            ({"issued_on": "2026-11-19"}, "/records/0/evidence/issued_on", Why.DOCUMENT_BEFORE_ACT),
            ({"issued_on": "2099-01-01"}, "/records/0/evidence/issued_on", Why.DOCUMENT_IN_FUTURE),
            ({"issued_on": "20261121"}, "/records/0/evidence/issued_on", Why.BAD_DATE),
            ({"procedure": "oral"}, "/records/0/evidence/procedure", Why.BAD_PROCEDURE),
        ],
    )
    def test_a_deduction_needs_a_legally_effective_document(self, world, evidence, path, reason):
        record = factories.deduction_record(CITIZEN)
        if evidence is None:
            record.pop("evidence")
        else:
            record["evidence"].update(evidence)
            record["evidence"] = {k: v for k, v in record["evidence"].items() if v is not None}
        response = world.submit(world.key_a, [record])
        assert response.status_code == 400
        problems = body_json(response)["problems"]
        assert {"record": 0, "path": path, "message": str(reason)} in problems

    def test_a_document_dated_before_its_rule_took_effect_is_refused(self, world):
        factories.rule(
            "traffic.red_light", departments=[world.dept_a], effective_from=dt.date(2026, 11, 20)
        )
        record = factories.deduction_record(CITIZEN, rule="traffic.red_light")
        record["occurred_at"] = "2026-11-20T00:30:00+08:00"
        record["evidence"]["issued_on"] = "2026-11-20"
        assert world.submit(world.key_a, [record]).status_code == 201
        # The act fell before the rule existed: no version was in force.
        early = factories.deduction_record(CITIZEN, rule="traffic.red_light")
        early["occurred_at"] = "2026-11-19T08:00:00+08:00"
        response = world.submit(world.key_a, [early])
        assert response.status_code == 400
        assert body_json(response)["problems"][0]["message"] == str(Why.RULE_NOT_IN_FORCE)

    def test_a_reward_needs_its_source(self, world):
        record = {
            "citizen_id": CITIZEN,
            "rule": "volunteer.service_hours",
            "occurred_at": "2026-11-01T09:00:00+08:00",
            "evidence": {},
        }
        response = world.submit(world.key_a, [record])
        assert response.status_code == 400
        assert "/records/0/evidence/reference" in _problem_paths(response)

    def test_an_act_older_than_its_period_is_refused(self, world):
        factories.rule(
            "tax.arrears", departments=[world.dept_a], effective_from=dt.date(2015, 1, 1)
        )
        record = factories.deduction_record(CITIZEN, rule="tax.arrears")
        record["occurred_at"] = "2019-01-01T08:00:00+08:00"
        record["evidence"]["issued_on"] = "2019-02-01"
        response = world.submit(world.key_a, [record])
        assert response.status_code == 400
        assert "SH 35" in body_json(response)["problems"][0]["message"]


class TestAuthentication:
    def test_a_missing_key_gets_401(self, world):
        response = world.submit(None, [factories.deduction_record(CITIZEN)])
        assert response.status_code == 401
        assert body_json(response)["error"] == "unauthenticated"
        assert response["WWW-Authenticate"] == "Api-Key"

    @pytest.mark.parametrize("key", ["nonsense", "abc.def", "x" * 500, "."])
    def test_a_wrong_key_gets_401(self, world, key):
        assert world.submit(key, [factories.deduction_record(CITIZEN)]).status_code == 401

    def test_a_revoked_key_gets_401(self, world):
        api_key = DepartmentAPIKey.objects.get(prefix=world.key_a.split(".")[0])
        department_key_revoke(api_key=api_key, actor_kind="system", actor_id="tests")
        assert world.submit(world.key_a, [factories.deduction_record(CITIZEN)]).status_code == 401
        assert AuditEntry.objects.filter(action=AuditAction.KEY_REVOKED).exists()

    def test_an_expired_key_gets_401(self, world):
        key = factories.api_key(world.dept_a, expires_at=timezone.now() - dt.timedelta(seconds=1))
        assert world.submit(key, [factories.deduction_record(CITIZEN)]).status_code == 401

    def test_a_rule_outside_the_departments_authority_gets_403(self, world):
        response = world.submit(world.key_b, [factories.deduction_record(CITIZEN)])
        assert response.status_code == 403
        payload = body_json(response)
        assert payload["error"] == "rule_not_authorized"
        assert payload["problems"][0]["path"] == "/records/0/rule"
        assert ScoreEvent.objects.count() == 0
        assert AuditEntry.objects.filter(action=AuditAction.SUBMISSION_REFUSED_RULE).exists()

    def test_a_draft_rule_cannot_be_applied(self, world):
        factories.rule("traffic.draft", departments=[world.dept_a], status="draft")
        response = world.submit(
            world.key_a, [factories.deduction_record(CITIZEN, rule="traffic.draft")]
        )
        assert response.status_code == 400
        assert body_json(response)["problems"][0]["message"] == str(Why.UNKNOWN_RULE)


def test_messages_are_constants_in_both_languages():
    with translation.override("en"):
        assert "SH 14" in str(Msg.PROHIBITED)
    with translation.override("zh-hans"):
        assert "第十四条" in str(Msg.PROHIBITED)


def test_prohibited_data_behind_a_nul_is_still_a_prohibited_refusal(world):
    record = factories.deduction_record(CITIZEN, data={"religion\u0000": "x", "note": "a\u0000b"})
    response = world.submit(world.key_a, [record])
    assert response.status_code == 422
    violation = body_json(response)["violations"][0]
    assert violation["category"] == "religious_belief"
    assert violation["path"] == "/records/0/data/religion\\u0000"
    assert ScreeningRefusal.objects.get().paths == ["/records/0/data/religion\\u0000"]
    assert ScoreEvent.objects.count() == 0
