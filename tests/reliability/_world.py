"""Set up and inspect a reliability run's database, in a process of its own.

Usage: python tests/reliability/_world.py setup|inspect IN.json OUT.json
(with DATABASE_URL, GATEWAY_VAR_DIR and DJANGO_SETTINGS_MODULE in the environment).

``setup`` migrates the fresh database and creates two departments, their rules and
keys. ``inspect`` reads back what the suites assert on: every submission with its
ledger rows, the residents' stored scores, and the audit entries per action.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections import Counter
from pathlib import Path


def setup(_payload: dict) -> dict:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from audit.actions import ActorKind
    from compliance.models import Rule, RuleStatus
    from compliance.services import catalogue_object_save, department_create, grant_set
    from gateway.services.keys import department_key_create

    actor = {"actor_kind": ActorKind.SYSTEM, "actor_id": "reliability"}
    police = department_create(code="traffic_police", title_zh="交警", title_en="Traffic", **actor)
    tax = department_create(code="tax", title_zh="税务", title_en="Tax", **actor)
    effective_from = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=400)
    rules = {
        "traffic.failure_to_yield": (-3, [police]),
        "traffic.red_light": (-6, [police]),
        "tax.late_filing": (-5, [tax]),
        "volunteer.service_hours": (2, [police, tax]),
    }
    for code, (points, departments) in rules.items():
        rule = Rule(
            code=code,
            version=1,
            title_zh=f"{code} 规则",
            title_en=f"{code} rule",
            points=points,
            legal_basis_law="《中华人民共和国道路交通安全法》",
            legal_basis_article="第四十七条",
            status=RuleStatus.PUBLISHED,
            comment_opens_on=effective_from - dt.timedelta(days=40),
            comment_closes_on=effective_from - dt.timedelta(days=2),
            published_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=401),
            effective_from=effective_from,
            retention_years=5,
        )
        catalogue_object_save(rule, **actor)
        grant_set(rule, departments, **actor)
    keys = {
        department.code: department_key_create(
            department=department, name="reliability", expires_at=None, **actor
        )[1]
        for department in (police, tax)
    }
    return {"keys": keys, "rules": {code: points for code, (points, _) in rules.items()}}


def inspect(payload: dict) -> dict:
    from django.db.models import Count

    from audit.actions import AuditAction
    from audit.models import AuditEntry
    from gateway.identity import vault
    from gateway.models import Citizen, Score, ScoreEvent, Submission
    from gateway.services.audit_boundary import idempotency_digest

    # Idempotency keys are stored as keyed digests: name them by the keys the caller sent.
    key_of = {idempotency_digest(key): key for key in payload.get("keys", [])}
    rows_per_submission = dict(
        ScoreEvent.objects.values("submission_id")
        .annotate(n=Count("id"))
        .values_list("submission_id", "n")
    )
    submissions = [
        {
            "id": str(pk),
            "department": code,
            "key": key_of.get(key, key),
            "record_count": record_count,
            "ledger_rows": rows_per_submission.get(pk, 0),
            "body_sha256": body_sha256,
            "response": response if payload.get("responses") else None,
        }
        for pk, code, key, record_count, body_sha256, response in Submission.objects.values_list(
            "id", "department__code", "idempotency_key", "record_count", "body_sha256", "response"
        )
    ]
    accepted_refs = Counter(
        AuditEntry.objects.filter(action=AuditAction.SUBMISSION_ACCEPTED).values_list(
            "object_ref", flat=True
        )
    )
    identity_vault = vault()
    index_to_number = {
        identity_vault.blind_index(number): number for number in payload.get("residents", [])
    }
    scores = {}
    for index, points_sum, score in Score.objects.values_list(
        "citizen__identity_index", "points_sum", "score"
    ):
        scores[index_to_number.get(index, f"unknown:{index}")] = [points_sum, score]
    return {
        "submissions": submissions,
        "ledger_total": ScoreEvent.objects.count(),
        "ledger_without_submission": ScoreEvent.objects.filter(submission__isnull=True).count(),
        "orphan_ledger_rows": sum(n for pk, n in rows_per_submission.items() if pk is not None)
        - sum(item["ledger_rows"] for item in submissions),
        "citizens": Citizen.objects.count(),
        "scores": scores,
        "accepted_entries": {ref: n for ref, n in accepted_refs.items()},
        "audit_actions": {
            str(action): n
            for action, n in Counter(AuditEntry.objects.values_list("action", flat=True)).items()
        },
        "audit_size": AuditEntry.objects.count(),
    }


def main() -> None:
    command, source, target = sys.argv[1:4]
    import django

    django.setup()
    payload = json.loads(Path(source).read_text(encoding="utf-8"))
    answer = {"setup": setup, "inspect": inspect}[command](payload)
    Path(target).write_text(json.dumps(answer, ensure_ascii=False, default=str), "utf-8")


if __name__ == "__main__":
    main()
