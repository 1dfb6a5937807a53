"""The fast insert path reports database errors as Django does, so submissions retry them.

Found by the concurrency suite: on PostgreSQL, rows go in with COPY through psycopg's
own cursor, whose errors were not translated. Two batches registering the same new
resident at once then ended in a 500 (a bare psycopg UniqueViolation), where the
submission's retry loop expects django.db.IntegrityError.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from gateway.identity import vault
from gateway.models import Citizen, Score
from gateway.services.bulk import db_datetime, insert_rows
from gateway.services.ledger import residents_resolve
from tests import factories
from tests.conftest import body_json


@pytest.mark.django_db
def test_a_duplicate_row_is_an_integrity_error_on_every_database():
    number = factories.identity_number(serial=1)
    residents_resolve([number], now=timezone.now(), audit_entry="")
    row = (b"x", vault().blind_index(number), "masked", db_datetime(timezone.now()))
    fields = ("identity_ciphertext", "identity_index", "identity_masked", "registered_at")
    with pytest.raises(IntegrityError) as raised, transaction.atomic():
        insert_rows(Citizen, fields, [row], returning_pk=True)
    if connection.vendor == "postgresql":
        assert getattr(raised.value.__cause__, "sqlstate", None) == "23505"
    assert Citizen.objects.count() == 1


def _lock_waiters() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_a_resident_registered_by_a_concurrent_batch_is_retried_not_a_500(world):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time: the second never sees the first's rows")
    number = factories.identity_number(serial=2)
    registered, failures = threading.Event(), []

    def register_then_commit_once_the_batch_waits():
        try:
            with transaction.atomic():
                residents_resolve([number], now=timezone.now(), audit_entry="")
                registered.set()
                deadline = time.monotonic() + 20
                while _lock_waiters() == 0:
                    if time.monotonic() > deadline:
                        failures.append("the batch never waited for the registration")
                        break
                    time.sleep(0.02)
        except Exception as exc:
            failures.append(repr(exc))
            registered.set()
        finally:
            connection.close()

    other = threading.Thread(target=register_then_commit_once_the_batch_waits)
    other.start()
    assert registered.wait(timeout=20)
    # Blocks on the new resident's unique index entry until the other transaction commits.
    response = world.submit(world.key_a, [factories.deduction_record(number)], "race-1")
    other.join(timeout=30)
    assert not failures
    assert response.status_code == 201, response.content
    assert body_json(response)["accepted"] == 1
    citizen = Citizen.objects.get(identity_index=vault().blind_index(number))
    assert Score.objects.get(citizen=citizen).score == 97
