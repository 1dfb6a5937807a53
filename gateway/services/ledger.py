"""Ledger primitives shared by every service that changes a score.

Callers run these inside their own transaction and write their audit entry last.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db import connection

from compliance.law import MAX_SCORE, MIN_SCORE, STARTING_SCORE
from gateway.identity import mask_identity_number, vault
from gateway.models import Citizen, Score
from gateway.services.bulk import db_datetime, insert_rows


@dataclass(frozen=True, slots=True)
class Resident:
    id: int
    identity_index: str


def residents_resolve(
    identity_numbers: Iterable[str], *, now: dt.datetime, audit_entry: str
) -> dict[str, Resident]:
    """Map identity numbers to residents, registering those the store has not seen.

    A new resident gets a Citizen row (encrypted number, blind index, mask), a Score row
    at the starting score, and the history rows of both, in one statement each. The new
    Score rows name ``audit_entry``, the entry of the act that registers them.
    """
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
        now_db = db_datetime(now)
        ids = insert_rows(
            Citizen,
            ("identity_ciphertext", "identity_index", "identity_masked", "registered_at"),
            [
                (identity_vault.encrypt(number), index, mask_identity_number(number), now_db)
                for index, number in missing
            ],
            returning_pk=True,
        )
        insert_rows(
            Citizen.history.model,
            ("id", "identity_index", "identity_masked", "registered_at", "history_date",
             "history_type", "history_change_reason"),
            [
                (pk, index, mask_identity_number(number), now_db, now_db, "+",
                 "registered by first record")
                for pk, (index, number) in zip(ids, missing, strict=True)
            ],
        )  # fmt: skip
        insert_rows(
            Score,
            ("citizen", "points_sum", "score", "updated_at", "audit_entry"),
            [(pk, 0, STARTING_SCORE, now_db, audit_entry) for pk in ids],
        )
        insert_rows(
            Score.history.model,
            ("citizen", "points_sum", "score", "updated_at", "history_date", "history_type",
             "history_change_reason"),
            [(pk, 0, STARTING_SCORE, now_db, now_db, "+", "registered") for pk in ids],
        )  # fmt: skip
        for pk, (index, _number) in zip(ids, missing, strict=True):
            existing[index] = pk
    return {number: Resident(existing[index], index) for number, index in index_of.items()}


def citizens_resolve(
    identity_numbers: Iterable[str], *, now: dt.datetime, audit_entry: str
) -> dict[str, int]:
    """Map identity numbers to citizen ids, registering residents the store has not seen."""
    return {
        number: resident.id
        for number, resident in residents_resolve(
            identity_numbers, now=now, audit_entry=audit_entry
        ).items()
    }


def citizen_find(identity_number: str) -> Citizen | None:
    return Citizen.objects.filter(identity_index=vault().blind_index(identity_number)).first()


def scores_apply(
    deltas: Mapping[int, int], *, now: dt.datetime, reason: str, audit_entry: str
) -> None:
    """Add point deltas to current scores atomically, clamping to 0..200, with history.

    One statement for the whole batch; on PostgreSQL the rows are first locked in
    id order so concurrent batches over the same residents cannot deadlock. Each row
    changed names ``audit_entry``, the entry that will commit its new state.
    """
    items = sorted((citizen_id, delta) for citizen_id, delta in deltas.items() if delta)
    if not items:
        return
    table = Score._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            ids = [citizen_id for citizen_id, _ in items]
            cursor.execute(
                f"SELECT citizen_id FROM {table} WHERE citizen_id = ANY(%s) "  # noqa: S608
                "ORDER BY citizen_id FOR UPDATE",
                [ids],
            )
            # Two array parameters, whatever the batch size.
            sql = (
                f"UPDATE {table} AS s SET points_sum = s.points_sum + v.delta, "  # noqa: S608
                f"score = GREATEST({MIN_SCORE}, LEAST({MAX_SCORE}, {STARTING_SCORE} "
                "+ s.points_sum + v.delta)), updated_at = %s, "
                "audit_entry = %s "
                "FROM unnest(%s::bigint[], %s::integer[]) AS v(citizen_id, delta) "
                "WHERE s.citizen_id = v.citizen_id RETURNING s.citizen_id, s.points_sum, s.score"
            )
            params: list[object] = [now, audit_entry, ids, [delta for _, delta in items]]
        else:
            values = ", ".join(["(%s, %s)"] * len(items))
            params = [now, audit_entry]
            for citizen_id, delta in items:
                params.extend((citizen_id, delta))
            sql = (
                f"UPDATE {table} SET points_sum = {table}.points_sum + v.delta, "  # noqa: S608
                f"score = max({MIN_SCORE}, min({MAX_SCORE}, {STARTING_SCORE} "
                f"+ {table}.points_sum + v.delta)), updated_at = %s, "
                "audit_entry = %s "
                "FROM (SELECT column1 AS citizen_id, column2 AS delta "
                f"FROM (VALUES {values})) AS v "
                f"WHERE {table}.citizen_id = v.citizen_id "
                f"RETURNING {table}.citizen_id, {table}.points_sum, {table}.score"
            )
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    now_db = db_datetime(now)
    insert_rows(
        Score.history.model,
        ("citizen", "points_sum", "score", "updated_at", "history_date", "history_type",
         "history_change_reason"),
        [(citizen_id, points_sum, score, now_db, now_db, "~", reason[:100])
         for citizen_id, points_sum, score in rows],
    )  # fmt: skip
