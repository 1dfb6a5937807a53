"""The score store: residents, the append-only ledger, current scores, submissions, keys."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey
from simple_history.models import HistoricalRecords

from compliance.models import Department, Rule

STARTING_SCORE = 100
MIN_SCORE = 0
MAX_SCORE = 200


def clamp_score(points_sum: int) -> int:
    return max(MIN_SCORE, min(MAX_SCORE, STARTING_SCORE + points_sum))


class DepartmentAPIKey(AbstractAPIKey):
    """A hashed, revocable, expiring key a department's system authenticates with."""

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="api_keys")
    history = HistoricalRecords(excluded_fields=["hashed_key"])

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("department API key")
        verbose_name_plural = _("department API keys")


class Citizen(models.Model):
    """A resident, known by an encrypted identity number and its blind index."""

    identity_ciphertext = models.BinaryField(_("identity number (encrypted)"))
    identity_index = models.CharField(_("blind index"), max_length=64, unique=True)
    identity_masked = models.CharField(_("identity number (masked)"), max_length=18)
    registered_at = models.DateTimeField(_("registered at"))
    history = HistoricalRecords(excluded_fields=["identity_ciphertext"])

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")

    def __str__(self) -> str:
        return self.identity_masked


class Score(models.Model):
    """The current score, kept in the same transaction as every ledger change."""

    citizen = models.OneToOneField(
        Citizen, on_delete=models.PROTECT, primary_key=True, related_name="score"
    )
    points_sum = models.IntegerField(_("sum of counted points"), default=0)
    score = models.SmallIntegerField(_("score"), default=STARTING_SCORE)
    updated_at = models.DateTimeField(_("updated at"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("score")
        verbose_name_plural = _("scores")

    def __str__(self) -> str:
        return f"{self.citizen_id}: {self.score}"


class Submission(models.Model):
    """One accepted batch; its stored response answers replays of the same idempotency key."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    idempotency_key = models.CharField(_("idempotency key"), max_length=128)
    body_sha256 = models.CharField(_("body SHA-256"), max_length=64)
    received_at = models.DateTimeField(_("received at"))
    record_count = models.PositiveIntegerField(_("records"))
    response = models.JSONField(_("response"), default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["department", "idempotency_key"], name="submission_idempotency_unique"
            )
        ]
        verbose_name = _("submission")
        verbose_name_plural = _("submissions")


class EventStatus(models.TextChoices):
    ACTIVE = "active", _("active")
    DISPUTED = "disputed", _("disputed")
    REVERSED = "reversed", _("reversed")
    EXPIRED = "expired", _("expired")


class EventKind(models.TextChoices):
    RECORD = "record", _("record")
    REVERSAL = "reversal", _("reversal")
    CORRECTION = "correction", _("correction")
    REPAIR = "repair", _("credit repair")


class ScoreEvent(models.Model):
    """One ledger row. Points are never edited: changes are compensating rows.

    The score counts every row that has not expired. A reversed record stays in
    the ledger beside the compensating row that cancels it.
    """

    citizen = models.ForeignKey(Citizen, on_delete=models.PROTECT, related_name="events")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="events")
    submission = models.ForeignKey(
        Submission, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    record_index = models.PositiveIntegerField(null=True, blank=True)
    kind = models.CharField(max_length=16, choices=EventKind.choices, default=EventKind.RECORD)
    compensates = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="compensations"
    )
    points = models.SmallIntegerField(_("points"))
    occurred_at = models.DateTimeField(_("occurred at"))
    recorded_at = models.DateTimeField(_("recorded at"))
    expires_at = models.DateTimeField(_("stops counting at"), null=True, blank=True)
    evidence = models.JSONField(_("evidence"), default=dict)
    data = models.JSONField(_("details"), default=dict)
    status = models.CharField(
        _("status"), max_length=16, choices=EventStatus.choices, default=EventStatus.ACTIVE
    )

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["citizen", "occurred_at"]),
            models.Index(fields=["status", "expires_at"]),
        ]
        verbose_name = _("score event")
        verbose_name_plural = _("score events")

    def __str__(self) -> str:
        return f"event {self.pk} ({self.points:+d})"
