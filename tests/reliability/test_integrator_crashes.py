"""The integrator under SIGKILL, with two of them racing: nothing lost, nothing sequenced twice.

A producer process writes audited acts (small transactions) for a while; two integrator
processes run at once, and one of them is SIGKILLed at random moments and restarted.
Afterwards every entry the producer committed has exactly one index, the indexes have no
gap, and the log verifies against its checkpoints. RELIABILITY_SEED replays the kills.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from tests.reliability.harness import REPO, database_kinds, gateway

pytestmark = pytest.mark.slow

PRODUCER = """
import time
from django.db import transaction
from audit.services import AuditRecord, audit_append
for batch in range({batches}):
    with transaction.atomic():
        audit_append([
            AuditRecord(action=600, actor_kind="admin", actor_id=f"p{{batch}}-{{i}}")
            for i in range({per_batch})
        ])
    time.sleep(0.005)
print("produced")
"""

INSPECT = """
from audit.models import AuditEntry, LogHead
total = AuditEntry.objects.count()
queued = AuditEntry.objects.filter(sequence__isnull=True).count()
sequences = sorted(AuditEntry.objects.exclude(sequence=None).values_list("sequence", flat=True))
print(total, queued, sequences == list(range(total)), LogHead.objects.get().size)
"""


def _inspect(gw) -> list[str]:
    return gw.manage("shell", "-c", INSPECT).stdout.strip().splitlines()[-1].split()


def _spawn(gw, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=gw.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


@pytest.mark.parametrize("kind", database_kinds())
def test_killed_and_racing_integrators_lose_nothing_and_duplicate_nothing(kind):
    seed = int(os.environ.get("RELIABILITY_SEED", random.SystemRandom().randrange(10**6)))
    rng = random.Random(seed)
    batches, per_batch = 400, 5
    with gateway(kind) as gw:
        gw.manage("migrate", "--noinput", timeout=600)
        producer = _spawn(gw, "shell", "-c", PRODUCER.format(batches=batches, per_batch=per_batch))
        integrators = [_spawn(gw, "audit_integrate", "--batch-size", "7") for _ in range(2)]
        kills = 0
        try:
            deadline = time.monotonic() + 120
            while producer.poll() is None and time.monotonic() < deadline:
                time.sleep(rng.uniform(0.1, 0.6))
                victim = rng.randrange(2)
                os.killpg(integrators[victim].pid, signal.SIGKILL)
                integrators[victim].wait(timeout=30)
                kills += 1
                integrators[victim] = _spawn(gw, "audit_integrate", "--batch-size", "7")
            assert producer.wait(timeout=120) == 0, producer.stderr.read()
            # Let the surviving integrators drain the queue.
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                out = _inspect(gw)
                if out[1] == "0":
                    break
                time.sleep(0.5)
        finally:
            for process in integrators:
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGTERM)
                    process.wait(timeout=30)
            if producer.poll() is None:
                os.killpg(producer.pid, signal.SIGKILL)
        total, queued, contiguous, head = _inspect(gw)
        context = f"(RELIABILITY_SEED={seed}, {kills} kills)"
        assert int(total) == batches * per_batch, context
        assert queued == "0", context
        assert contiguous == "True", context
        assert int(head) == batches * per_batch, context
        assert kills >= 3, context
        gw.manage("audit_checkpoint")
        verified = gw.manage("audit_verify")
        assert verified.stdout.startswith("OK"), verified.stdout + context
