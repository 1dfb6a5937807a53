"""The append-only audit log, its Merkle nodes and signed checkpoints.

Rows here are only ever inserted; database triggers (see migrations) refuse
UPDATE, DELETE and TRUNCATE, and the Merkle tree with signed checkpoints lets a
regulator detect an insider who drops the triggers anyway.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.actions import ActorKind, AuditAction


class LogHead(models.Model):
    """The single row the integrator extends: the tree's size and frontier.

    Only the integrator (one at a time, see ``audit.integrator``) locks and writes it;
    audited acts never touch it, so they take no global lock.
    """

    size = models.BigIntegerField(default=0)
    last_leaf_hash = models.BinaryField(default=bytes(32))
    # The compact range (frontier) of the tree: perfect-subtree roots, concatenated.
    frontier = models.BinaryField(default=b"")

    class Meta:
        verbose_name = _("log head")

    def __str__(self) -> str:
        return f"log head at {self.size}"


class AuditEntry(models.Model):
    """One entry of the log.

    An audited act inserts its entry with ``sequence`` NULL, in the act's own
    transaction: the unsequenced entries are the integrator's queue. The integrator
    later sets ``sequence`` once (the triggers refuse every other change) and extends
    the tree. The leaf hash is fixed at insert (format version 2 has no position in it).
    """

    id = models.BigAutoField(primary_key=True)
    sequence = models.BigIntegerField(_("index"), null=True, blank=True, unique=True)
    entry_id = models.CharField(_("entry id"), max_length=32, unique=True)
    format_version = models.PositiveSmallIntegerField(default=2)
    recorded_at = models.DateTimeField(_("time"))
    actor_kind = models.CharField(_("actor kind"), max_length=16, choices=ActorKind.choices)
    actor_id = models.CharField(_("actor"), max_length=150, db_index=True)
    action = models.PositiveSmallIntegerField(_("action"), choices=AuditAction.choices)
    subject = models.CharField(
        _("resident (blind index)"), max_length=64, blank=True, db_index=True
    )
    purpose = models.CharField(_("purpose"), max_length=64, blank=True)
    legal_basis = models.CharField(_("legal basis"), max_length=300, blank=True)
    object_ref = models.CharField(_("object"), max_length=200, blank=True)
    details = models.JSONField(_("details"), default=dict)
    # Version 1 entries only: the leaf hash of the entry before (a hash chain).
    previous_hash = models.BinaryField(_("previous leaf hash"), default=b"", blank=True)
    leaf_hash = models.BinaryField(_("leaf hash"), db_index=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["action", "id"], name="audit_entry_action_id"),
            models.Index(fields=["recorded_at"], name="audit_entry_recorded_at"),
            models.Index(fields=["subject", "id"], name="audit_entry_subject_id"),
            # One index for each filter and search of the regulator's change list, each
            # ending in the list's order (id), so a page is an index range, not a sort.
            models.Index(fields=["actor_kind", "id"], name="audit_entry_actor_kind_id"),
            models.Index(fields=["actor_id", "id"], name="audit_entry_actor_id_id"),
            models.Index(fields=["object_ref", "id"], name="audit_entry_object_id"),
            models.Index(fields=["purpose", "id"], name="audit_entry_purpose_id"),
            # The integrator's queue: entries not yet given an index.
            models.Index(
                fields=["id"],
                name="audit_entry_unsequenced",
                condition=models.Q(sequence__isnull=True),
            ),
        ]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")

    def __str__(self) -> str:
        index = "pending" if self.sequence is None else self.sequence
        return f"#{index} {self.get_action_display()}"


class TreeNode(models.Model):
    """A perfect subtree's hash (level >= 1), stored as it completes, to serve proofs fast."""

    # (level << 56) | index: one integer key, so a proof's nodes come back in one query.
    node_id = models.BigIntegerField(primary_key=True)
    hash = models.BinaryField()

    def __str__(self) -> str:
        return f"node {self.node_id >> 56}/{self.node_id & ((1 << 56) - 1)}"

    @staticmethod
    def key(level: int, index: int) -> int:
        return (level << 56) | index


class Checkpoint(models.Model):
    """A signed note (C2SP tlog-checkpoint) over the tree at one size."""

    size = models.BigIntegerField(_("size"), db_index=True)
    root_hash = models.BinaryField(_("root hash"))
    note = models.TextField(_("signed note"))
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        ordering = ["-size", "-id"]
        get_latest_by = "id"
        verbose_name = _("checkpoint")
        verbose_name_plural = _("checkpoints")

    def __str__(self) -> str:
        return f"checkpoint @ {self.size}"


class VerificationRun(models.Model):
    """The outcome of one audit_verify run, shown to regulators in the admin."""

    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"))
    ok = models.BooleanField(_("verified"))
    size = models.BigIntegerField(_("entries checked"))
    checkpoints_checked = models.PositiveIntegerField(_("checkpoints checked"))
    first_bad_index = models.BigIntegerField(_("first bad index"), null=True, blank=True)
    message = models.TextField(_("message"))

    class Meta:
        ordering = ["-id"]
        get_latest_by = "id"
        verbose_name = _("verification run")
        verbose_name_plural = _("verification runs")

    def __str__(self) -> str:
        return self.message


class Cosignature(models.Model):
    """A witness's C2SP cosignature (cosignature/v1) of a stored checkpoint."""

    checkpoint = models.ForeignKey(
        Checkpoint,
        on_delete=models.PROTECT,
        related_name="cosignatures",
        verbose_name=_("checkpoint"),
    )
    witness_name = models.CharField(_("witness"), max_length=200)
    key_id = models.CharField(_("key id"), max_length=8)
    # POSIX seconds, as the witness signed them (the cosignature's own timestamp).
    timestamp = models.BigIntegerField(_("signed at (POSIX seconds)"))
    signature_line = models.TextField(_("signature line"))
    received_at = models.DateTimeField(_("received at"))

    class Meta:
        ordering = ["checkpoint_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["checkpoint", "witness_name", "key_id"],
                name="audit_cosignature_one_per_witness",
            )
        ]
        verbose_name = _("cosignature")
        verbose_name_plural = _("cosignatures")

    def __str__(self) -> str:
        return f"{self.witness_name} on checkpoint {self.checkpoint_id}"
