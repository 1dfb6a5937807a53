"""The score store: residents, the append-only ledger, current scores, submissions, keys."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey

from compliance.history import history
from compliance.law import MAX_SCORE, MIN_SCORE, STARTING_SCORE
from compliance.models import Department, Rule


def clamp_score(points_sum: int) -> int:
    return max(MIN_SCORE, min(MAX_SCORE, STARTING_SCORE + points_sum))


class DepartmentAPIKey(AbstractAPIKey):
    """A hashed, revocable, expiring key a department's system authenticates with."""

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="api_keys")
    history = history(excluded_fields=["hashed_key"])

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("department API key")
        verbose_name_plural = _("department API keys")


class DepartmentSigningKey(models.Model):
    """An Ed25519 public key a department signs submissions with; its private key never
    reaches the gateway. Added and revoked only by gateway.services.signing."""

    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="signing_keys"
    )
    key_id = models.CharField(_("key id"), max_length=32, unique=True)
    public_key = models.CharField(_("public key (base64)"), max_length=44)
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    added_at = models.DateTimeField(_("added at"))

    class Meta:
        ordering = ["department", "added_at"]
        verbose_name = _("department signing key")
        verbose_name_plural = _("department signing keys")

    def __str__(self) -> str:
        return f"{self.department_id}/{self.key_id}"


class AccountToken(AbstractAPIKey):
    """A person's API token (residents' app, reviewers): hashed, shown once, expiring."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("account token")
        verbose_name_plural = _("account tokens")


class Citizen(models.Model):
    """A resident, known by an encrypted identity number and its blind index."""

    identity_ciphertext = models.BinaryField(_("identity number (encrypted)"))
    identity_index = models.CharField(_("blind index"), max_length=64, unique=True)
    identity_masked = models.CharField(_("identity number (masked)"), max_length=18)
    registered_at = models.DateTimeField(_("registered at"))
    history = history(excluded_fields=["identity_ciphertext"])

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
    # The audit entry that committed this row's current state (gateway.services.binding).
    audit_entry = models.CharField(
        _("vouched by audit entry"), max_length=32, blank=True, db_index=True, editable=False
    )
    history = history(excluded_fields=["audit_entry"])

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
    # The signed form: key id, signature parameters, value and covered components.
    signature_key_id = models.CharField(_("signing key id"), max_length=32, blank=True)
    signature = models.JSONField(_("signature"), null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["department", "idempotency_key"], name="submission_idempotency_unique"
            )
        ]
        verbose_name = _("submission")
        verbose_name_plural = _("submissions")

    def __str__(self) -> str:
        return f"{self.department_id}/{self.idempotency_key}"


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
    # A continuing act's end; empty when it ended as it occurred. Periods count from it.
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"))
    expires_at = models.DateTimeField(_("stops counting at"), null=True, blank=True)
    evidence = models.JSONField(_("evidence"), default=dict)
    data = models.JSONField(_("details"), default=dict)
    status = models.CharField(
        _("status"), max_length=16, choices=EventStatus.choices, default=EventStatus.ACTIVE
    )
    # The audit entry that committed this row's current state (gateway.services.binding).
    audit_entry = models.CharField(
        _("vouched by audit entry"), max_length=32, blank=True, db_index=True, editable=False
    )

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            # A resident's records in the order they are listed, so a page (from the
            # start or after a cursor) is one index range.
            models.Index(
                fields=["citizen", "occurred_at", "id"], name="gateway_event_citizen_order"
            ),
            models.Index(fields=["status", "expires_at"]),
        ]
        verbose_name = _("score event")
        verbose_name_plural = _("score events")

    def __str__(self) -> str:
        return f"event {self.pk} ({self.points:+d})"


# --- people: residents' accounts, reviewers and regulators ------------------------------


class Role(models.TextChoices):
    CITIZEN = "citizen", _("resident")
    REVIEWER = "reviewer", _("reviewer")
    REGULATOR = "regulator", _("regulator")


class Account(models.Model):
    """Ties a login to a role: a resident's own record, or a reviewer's department."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="account"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    citizen = models.OneToOneField(
        Citizen, on_delete=models.PROTECT, null=True, blank=True, related_name="account"
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The language of e-mails to this person; empty for the site's default (LANGUAGE_CODE).
    language = models.CharField(
        _("language"), max_length=16, choices=settings.LANGUAGES, blank=True, default=""
    )
    history = history()

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role="citizen") | models.Q(citizen__isnull=False),
                name="citizen_account_has_citizen",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role})"


# --- objections (异议): SH 36, ZJ 30-31 ------------------------------------------------


class AppealStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    ESCALATED = "escalated", _("overdue: escalated to the regulator")
    DECIDED = "decided", _("decided")
    UNDER_REVIEW = "under_review", _("under review by the regulator")
    REVIEWED = "reviewed", _("reviewed by the regulator")


class AppealOutcome(models.TextChoices):
    UPHELD = "upheld", _("upheld: the record stands")
    CORRECTED = "corrected", _("corrected: the points were changed")
    OVERTURNED = "overturned", _("overturned: the record was reversed")


class Appeal(models.Model):
    event = models.ForeignKey(ScoreEvent, on_delete=models.PROTECT, related_name="appeals")
    citizen = models.ForeignKey(Citizen, on_delete=models.PROTECT, related_name="appeals")
    statement = models.TextField(_("statement"))
    status = models.CharField(
        _("status"), max_length=16, choices=AppealStatus.choices, default=AppealStatus.PENDING
    )
    filed_at = models.DateTimeField(_("filed at"))
    decision_due = models.DateField(_("decision due"))
    # Kept so the due date can be recomputed when the working-day calendar changes.
    decision_working_days = models.PositiveSmallIntegerField(_("working days to decide"), default=5)
    decision_due_computed = models.BooleanField(
        _("due date from a computed holiday schedule"), default=False
    )
    extended_at = models.DateTimeField(_("extended at"), null=True, blank=True)
    extension_reason = models.TextField(_("extension reason"), blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_appeals",
    )
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=AppealOutcome.choices, blank=True
    )
    decision_reason = models.TextField(_("reasons"), blank=True)
    corrected_points = models.SmallIntegerField(_("corrected points"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="decided_appeals",
    )
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    review_requested_at = models.DateTimeField(_("review requested at"), null=True, blank=True)
    review_statement = models.TextField(_("review request"), blank=True)
    # The regulator's review (ZJ 30) is kept beside the first decision, not over it.
    review_outcome = models.CharField(
        _("review outcome"), max_length=16, choices=AppealOutcome.choices, blank=True
    )
    review_reason = models.TextField(_("review reasons"), blank=True)
    review_corrected_points = models.SmallIntegerField(
        _("points after review"), null=True, blank=True
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reviewed_appeals",
    )
    history = history()

    class Meta:
        ordering = ["decision_due", "id"]
        permissions = [("decide_appeal", "Can decide this appeal")]
        indexes = [models.Index(fields=["status", "decision_due"])]
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")

    def __str__(self) -> str:
        return f"appeal {self.pk} on event {self.event_id}"


# --- credit repair: SH 38, GB22 ------------------------------------------------------


class RepairStatus(models.TextChoices):
    PENDING = "pending", _("awaiting the department")
    CONFIRMED = "confirmed", _("confirmed: removed from the score")
    REFUSED = "refused", _("refused")


class RepairApplication(models.Model):
    event = models.ForeignKey(ScoreEvent, on_delete=models.PROTECT, related_name="repairs")
    citizen = models.ForeignKey(Citizen, on_delete=models.PROTECT, related_name="repairs")
    statement = models.TextField(_("what was rectified"))
    reference = models.CharField(_("proof of rectification"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=RepairStatus.choices, default=RepairStatus.PENDING
    )
    applied_at = models.DateTimeField(_("applied at"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("reasons"), blank=True)
    removal_due = models.DateField(_("removal due"), null=True, blank=True)
    removal_due_computed = models.BooleanField(
        _("due date from a computed holiday schedule"), default=False
    )
    removed_at = models.DateTimeField(_("removed at"), null=True, blank=True)
    compensation = models.OneToOneField(
        ScoreEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    history = history()

    class Meta:
        ordering = ["-applied_at"]
        verbose_name = _("credit repair application")
        verbose_name_plural = _("credit repair applications")

    # --- what residents are told ---------------------------------------------------------

    def __str__(self) -> str:
        return f"repair {self.pk} of event {self.event_id}"


class NotificationKind(models.TextChoices):
    DEDUCTION_NOTICE = "deduction_notice", _("notice of a deduction")
    APPEAL_FILED = "appeal_filed", _("objection received")
    APPEAL_EXTENDED = "appeal_extended", _("objection deadline extended")
    APPEAL_DECIDED = "appeal_decided", _("objection decided")
    APPEAL_ESCALATED = "appeal_escalated", _("objection escalated to the regulator")
    APPEAL_REVIEW = "appeal_review", _("regulator review")
    REPAIR_DECIDED = "repair_decided", _("credit repair decided")
    EVENT_EXPIRED = "event_expired", _("record no longer served")
    DEADLINE_CHANGED = "deadline_changed", _("deadline recomputed")
    EVENT_REVOKED = "event_revoked", _("decision revoked")
    ELIGIBILITY_REVIEW = "eligibility_review", _("review of an eligibility answer")
    EVENT_FINAL = "event_final", _("decision became final")


class Notification(models.Model):
    citizen = models.ForeignKey(Citizen, on_delete=models.PROTECT, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=32, choices=NotificationKind.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"))
    payload = models.JSONField(_("details"), default=dict)
    created_at = models.DateTimeField(_("created at"))
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)
    event = models.ForeignKey(
        ScoreEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="notifications"
    )
    appeal = models.ForeignKey(
        Appeal, on_delete=models.PROTECT, null=True, blank=True, related_name="notifications"
    )
    repair = models.ForeignKey(
        RepairApplication,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notifications",
    )
    eligibility_review = models.ForeignKey(
        "EligibilityReview",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notifications",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["citizen", "created_at"])]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return self.title


# --- revoked decisions: SH 37 ------------------------------------------------------------


class RevocationOutcome(models.TextChoices):
    REVOKED = "revoked", _("revoked")
    CHANGED = "changed", _("changed")


class Revocation(models.Model):
    """A department's report that the decision behind a deduction was revoked or changed."""

    event = models.OneToOneField(ScoreEvent, on_delete=models.PROTECT, related_name="revocation")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(_("outcome"), max_length=16, choices=RevocationOutcome.choices)
    document = models.CharField(_("revoking document"), max_length=200)
    issued_by = models.CharField(_("issued by"), max_length=200)
    issued_on = models.DateField(_("issued on"))
    reported_at = models.DateTimeField(_("reported at"))
    removal_due = models.DateField(_("removal due"))
    removal_due_computed = models.BooleanField(
        _("due date from a computed holiday schedule"), default=False
    )

    class Meta:
        ordering = ["-reported_at"]
        verbose_name = _("revoked decision")
        verbose_name_plural = _("revoked decisions")

    def __str__(self) -> str:
        return f"revocation of event {self.event_id}"


# --- a person's review of an automated eligibility answer: PIPL 24 ----------------------


class EligibilityReviewStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    ESCALATED = "escalated", _("overdue: escalated to the regulator")
    DECIDED = "decided", _("decided")


class EligibilityReviewOutcome(models.TextChoices):
    UPHELD = "upheld", _("upheld: the automated answer stands")
    CHANGED = "changed", _("changed: a person gave a different answer")


class EligibilityReview(models.Model):
    """A resident's request that a person review an automated eligibility answer (PIPL 24).

    The answer as it was explained (score compared, threshold, the records counted, as
    of when) is kept with the request, so the reviewer decides on what the resident saw.
    """

    citizen = models.ForeignKey(
        Citizen, on_delete=models.PROTECT, related_name="eligibility_reviews"
    )
    threshold = models.ForeignKey(
        "compliance.EligibilityThreshold", on_delete=models.PROTECT, related_name="+"
    )
    minimum_score = models.PositiveSmallIntegerField(_("minimum score"))
    score = models.SmallIntegerField(_("score compared"))
    answer = models.BooleanField(_("automated answer"))
    as_of = models.DateTimeField(_("answer as of"))
    # The explanation the resident was given: record ids, rules, points; no free text.
    explanation = models.JSONField(_("explanation"), default=dict)
    statement = models.TextField(_("statement"))
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=EligibilityReviewStatus.choices,
        default=EligibilityReviewStatus.PENDING,
    )
    filed_at = models.DateTimeField(_("filed at"))
    decision_due = models.DateField(_("decision due"))
    decision_working_days = models.PositiveSmallIntegerField(_("working days to decide"))
    decision_due_computed = models.BooleanField(
        _("due date from a computed holiday schedule"), default=False
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_eligibility_reviews",
    )
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=EligibilityReviewOutcome.choices, blank=True
    )
    reviewed_answer = models.BooleanField(_("answer after review"), null=True, blank=True)
    decision_reason = models.TextField(_("reasons"), blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="decided_eligibility_reviews",
    )
    history = history()

    class Meta:
        ordering = ["decision_due", "id"]
        indexes = [models.Index(fields=["status", "decision_due"])]
        verbose_name = _("review of an eligibility answer")
        verbose_name_plural = _("reviews of eligibility answers")

    def __str__(self) -> str:
        return f"eligibility review {self.pk}"
