"""Ledger primitives shared by every service that changes a score.

Callers run these inside their own transaction and write their audit entry last.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from django.db import connection
from simple_history.utils import bulk_create_with_history

from gateway.identity import mask_identity_number, vault
from gateway.models import Citizen, Score


def citizens_resolve(identity_numbers: Iterable[str], *, now: dt.datetime) -> dict[str, int]:
    """Map identity numbers to citizen ids, registering residents the store has not seen."""
    identity_vault = vault()
    index_of = {number: identity_vault.blind_index(number) for number in set(identity_numbers)}
    existing = dict(
        Citizen.objects.filter(identity_index__in=index_of.values()).values_list(
            "identity_index", "id"
        )
    )
    # Sorted so concurrent registrations take index locks in one order.
    missing = sorted((index, number) for number, index in index_of.items() if index not in existing)
    if missing:
        created = bulk_create_with_history(
            [
                Citizen(
                    identity_ciphertext=identity_vault.encrypt(number),
                    identity_index=index,
                    identity_masked=mask_identity_number(number),
                    registered_at=now,
                )
                for index, number in missing
            ],
            Citizen,
            default_date=now,
            default_change_reason="registered by first record",
        )
        for citizen in created:
            existing[citizen.identity_index] = citizen.pk
        bulk_create_with_history(
            [Score(citizen_id=citizen.pk, updated_at=now) for citizen in created],
            Score,
            default_date=now,
            default_change_reason="registered",
        )
    return {number: existing[index] for number, index in index_of.items()}


def citizen_find(identity_number: str) -> Citizen | None:
    return Citizen.objects.filter(identity_index=vault().blind_index(identity_number)).first()


def scores_apply(deltas: Mapping[int, int], *, now: dt.datetime, reason: str) -> None:
    """Add point deltas to current scores atomically, clamping to 0..200, with history.

    One statement for the whole batch; on PostgreSQL the rows are first locked in
    id order so concurrent batches over the same residents cannot deadlock.
    """
    items = sorted((citizen_id, delta) for citizen_id, delta in deltas.items() if delta)
    if not items:
        return
    table = Score._meta.db_table
    values = ", ".join(["(%s, %s)"] * len(items))
    params: list[object] = [now]
    for citizen_id, delta in items:
        params.extend((citizen_id, delta))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT citizen_id FROM {table} WHERE citizen_id = ANY(%s) "  # noqa: S608
                "ORDER BY citizen_id FOR UPDATE",
                [[citizen_id for citizen_id, _ in items]],
            )
            sql = (
                f"UPDATE {table} AS s SET points_sum = s.points_sum + v.delta, "  # noqa: S608
                "score = GREATEST(0, LEAST(200, 100 + s.points_sum + v.delta)), updated_at = %s "
                f"FROM (VALUES {values}) AS v(citizen_id, delta) "
                "WHERE s.citizen_id = v.citizen_id RETURNING s.citizen_id, s.points_sum, s.score"
            )
        else:
            sql = (
                f"UPDATE {table} SET points_sum = {table}.points_sum + v.delta, "  # noqa: S608
                f"score = max(0, min(200, 100 + {table}.points_sum + v.delta)), updated_at = %s "
                "FROM (SELECT column1 AS citizen_id, column2 AS delta "
                f"FROM (VALUES {values})) AS v "
                f"WHERE {table}.citizen_id = v.citizen_id "
                f"RETURNING {table}.citizen_id, {table}.points_sum, {table}.score"
            )
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    history_model = Score.history.model
    history_model.objects.bulk_create(
        [
            history_model(
                citizen_id=citizen_id,
                points_sum=points_sum,
                score=score,
                updated_at=now,
                history_date=now,
                history_type="~",
                history_change_reason=reason,
            )
            for citizen_id, points_sum, score in rows
        ]
    )
