"""The integrator: one leader, checkpoints on a clock, recovery from database outages."""

from __future__ import annotations

import threading

import pytest
from django.db import OperationalError, connection, connections, transaction

from audit import integrator as integrator_module
from audit.actions import ActorKind, AuditAction
from audit.integrator import Integrator, LeaderLock
from audit.models import AuditEntry, Checkpoint, LogHead
from audit.services import AuditRecord, audit_append


def act(count: int = 1) -> None:
    with transaction.atomic():
        audit_append(
            [
                AuditRecord(
                    action=AuditAction.ADMIN_LOGIN, actor_kind=ActorKind.ADMIN, actor_id=f"a{i}"
                )
                for i in range(count)
            ]
        )


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.django_db
class TestStep:
    def test_it_sequences_a_batch_and_signs_at_most_once_a_second(self):
        clock = FakeClock()
        worker = Integrator(batch_size=3, clock=clock)
        act(5)
        assert worker.step() == 3
        assert Checkpoint.objects.get().size == 3
        assert worker.step() == 2
        # Less than a second since the last checkpoint: sequenced, not yet signed.
        assert LogHead.objects.get().size == 5
        assert Checkpoint.objects.count() == 1
        clock.now += 1.0
        assert worker.step() == 0
        assert Checkpoint.objects.latest().size == 5
        clock.now += 5
        worker.step()
        assert Checkpoint.objects.count() == 2  # nothing new: no new checkpoint

    def test_a_batch_that_fails_midway_leaves_everything_queued(self, monkeypatch):
        act(4)
        from audit import services

        def broken(*args, **kwargs):
            raise OperationalError("disk full")

        monkeypatch.setattr(services.TreeNode.objects, "bulk_create", broken)
        with pytest.raises(OperationalError):
            services.integrate_pending()
        assert AuditEntry.objects.filter(sequence__isnull=True).count() == 4
        assert LogHead.objects.get().size == 0
        monkeypatch.undo()
        assert services.integrate_pending().sequenced == 4


@pytest.mark.django_db(transaction=True)
class TestLeadership:
    def test_only_one_leads_and_another_takes_over(self):
        first = LeaderLock(connections["default"])
        assert first.acquire()
        other_connection = connections.create_connection("default")
        try:
            second = LeaderLock(other_connection)
            assert not second.acquire()
            first.release()
            assert second.acquire()
            second.release()
        finally:
            other_connection.close()

    def test_run_integrates_until_stopped_and_survives_an_outage(self, monkeypatch):
        act(3)
        stop = threading.Event()
        worker = Integrator(poll_interval=0.01)
        real_step = worker.step
        calls = {"n": 0}

        def flaky_step():
            calls["n"] += 1
            if calls["n"] == 1:
                raise OperationalError("server closed the connection unexpectedly")
            sequenced = real_step()
            if LogHead.objects.get().size == 3 and Checkpoint.objects.filter(size=3).exists():
                stop.set()
            return sequenced

        monkeypatch.setattr(worker, "step", flaky_step)
        monkeypatch.setattr(integrator_module, "RETRY_AFTER", (0.01,))
        thread = threading.Thread(target=worker.run, args=(stop,))
        thread.start()
        thread.join(timeout=30)
        assert not thread.is_alive()
        assert calls["n"] >= 2
        assert list(AuditEntry.objects.order_by("sequence").values_list("sequence", flat=True)) == [
            0, 1, 2
        ]  # fmt: skip
        assert not worker.lock.held  # released on stop
        connection.close()
