"""Management commands: create_department_key, recompute_scores, seed_demo."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from audit.actions import AuditAction
from audit.models import AuditEntry
from compliance.models import Department, Rule
from gateway.models import Citizen, Score, ScoreEvent
from gateway.services.scores import scores_find_drift
from tests import factories

CITIZEN = "320505199003074510"


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


class TestCreateDepartmentKey:
    def test_it_prints_a_working_key_on_its_last_line(self, world):
        key = run("create_department_key", "tax").strip().splitlines()[-1]
        reward = {
            "citizen_id": CITIZEN,
            "rule": "volunteer.service_hours",
            "occurred_at": "2026-11-01T09:00:00+08:00",
            "evidence": {"reference": "VF-1"},
        }
        assert world.submit(key, [reward]).status_code == 201
        assert AuditEntry.objects.filter(action=AuditAction.KEY_CREATED).count() == 3

    def test_an_unknown_department_is_an_error(self, db):
        with pytest.raises(CommandError, match="unknown department"):
            run("create_department_key", "nobody")

    def test_a_negative_expiry_is_an_error(self, world):
        with pytest.raises(CommandError):
            run("create_department_key", "tax", "--expires-in-days", "-1")


class TestRecomputeScores:
    def test_no_drift_after_ordinary_use(self, world):
        world.submit(world.key_a, [factories.deduction_record(CITIZEN)] * 3)
        assert "no drift" in run("recompute_scores")

    def test_drift_is_reported_and_repaired(self, world):
        world.submit(world.key_a, [factories.deduction_record(CITIZEN)])
        # An out-of-band edit, as a faulty script or an insider could make.
        with connection.cursor() as cursor:
            cursor.execute("UPDATE gateway_score SET points_sum = 50, score = 150")
        with pytest.raises(CommandError, match="1 score"):
            run("recompute_scores")
        assert "repaired 1" in run("recompute_scores", "--fix")
        assert scores_find_drift() == []
        assert Score.objects.get().score == 97

    def _three_drifted(self, world) -> list[int]:
        others = ["320505198506125215", "320583199201018121"]
        world.submit(world.key_a, [factories.deduction_record(n) for n in (CITIZEN, *others)])
        with connection.cursor() as cursor:
            cursor.execute("UPDATE gateway_score SET points_sum = 50, score = 150")
        return sorted(Score.objects.values_list("citizen_id", flat=True))

    def test_it_works_in_chunks_each_repaired_in_its_own_transaction(self, world):
        ids = self._three_drifted(world)
        assert len(ids) == 3
        before = AuditEntry.objects.filter(action=AuditAction.SCORE_RECOMPUTED).count()
        assert "repaired 3" in run("recompute_scores", "--fix", "--chunk-size", "2")
        # Two chunks (2 + 1 residents): two repairs, each vouched for by its own entry.
        recomputed = AuditEntry.objects.filter(action=AuditAction.SCORE_RECOMPUTED)
        assert recomputed.count() == before + 2
        assert sorted(e.details["repaired"] for e in recomputed.order_by("id")[before:]) == [1, 2]
        assert scores_find_drift() == []
        assert set(Score.objects.values_list("score", flat=True)) == {97}

    def test_a_resumed_run_finishes_the_job(self, world):
        ids = self._three_drifted(world)
        # Interrupted after the first resident: resumed after its id, the rest is repaired.
        assert "repaired 2" in run("recompute_scores", "--fix", "--after", str(ids[0]))
        assert [d.citizen_id for d in scores_find_drift()] == [ids[0]]
        assert "repaired 1" in run("recompute_scores", "--fix")
        assert scores_find_drift() == []

    def test_a_bad_chunk_size_or_start_is_refused(self, world):
        for args in (("--chunk-size", "0"), ("--after", "-1"), ("--after", "x")):
            with pytest.raises(CommandError):
                run("recompute_scores", *args)


class TestSeedDemo:
    def test_it_loads_the_demo_city_once(self, db, settings, tmp_path):
        settings.VAR_DIR = tmp_path
        first = run("seed_demo")
        assert Department.objects.count() >= 20
        assert Rule.objects.filter(status="published").count() >= 15
        assert Citizen.objects.count() == 200
        events = ScoreEvent.objects.count()
        assert "Api-Key" in first
        assert "regulator" in first and "resident1" in first

        second = run("seed_demo")
        assert ScoreEvent.objects.count() == events
        # The same credentials are printed again, not new ones.
        assert [line for line in first.splitlines() if "traffic_police" in line] == [
            line for line in second.splitlines() if "traffic_police" in line
        ]
        assert (tmp_path / "demo-credentials.json").stat().st_mode & 0o077 == 0
