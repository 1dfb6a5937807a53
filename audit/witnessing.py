"""Witness cosignatures of checkpoints: storing them, and checking the log against them."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit import note, witness
from audit.keys import verifier_key
from audit.models import Checkpoint, Cosignature

# How far ahead of our clock a cosignature's timestamp may be (C2SP tlog-cosignature
# lets verifiers refuse future timestamps; this allows for clock skew only).
MAX_CLOCK_SKEW_SECONDS = 300


class Msg:
    """Refusal messages as constants, so tests can hold the code to them."""

    MALFORMED = _("The body is not a signed checkpoint note: %(detail)s")
    NOT_TEXT = _("Send the cosigned note as text/plain in UTF-8.")
    TOO_LARGE = _("The cosigned note is larger than %(limit)d bytes.")
    BAD_LOG_SIGNATURE = _("The note does not carry a valid signature by this log's key.")
    UNKNOWN_CHECKPOINT = _("This log holds no checkpoint with this body (size %(size)d).")
    NO_COSIGNATURE = _("The note carries no cosignature.")
    UNKNOWN_WITNESS = _("The cosignature by %(name)s is not by a configured witness key.")
    FORGED = _(
        "The cosignature by %(name)s does not verify over this checkpoint "
        "(forged, or copied from another checkpoint)."
    )
    FUTURE = _("The cosignature by %(name)s is dated in the future.")


class CosignatureRefused(Exception):
    """A posted cosigned note that is not stored; carries its HTTP status and code."""

    def __init__(self, status: int, code: str, message):
        super().__init__(str(message))
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class CosignatureOutcome:
    checkpoint: Checkpoint
    stored: list[str] = field(default_factory=list)  # witness names newly stored
    duplicates: list[str] = field(default_factory=list)  # already held: no second effect


MAX_NOTE_BYTES = 64 * 1024


def log_verifier_keys() -> list[str]:
    return [verifier_key(), *settings.AUDIT_RETIRED_VERIFIER_KEYS]


def configured_witness_keys() -> list[witness.CosignerKey]:
    return [witness.parse_cosigner_key(key) for key in settings.AUDIT_WITNESS_KEYS]


def _log_key_ids(keys: Iterable[str]) -> set[tuple[str, bytes]]:
    parsed = [note.parse_verifier_key(key) for key in keys]
    return {(key.name, key.key_id) for key in parsed}


def _stored_checkpoint(body: str, size: int) -> Checkpoint | None:
    for checkpoint in Checkpoint.objects.filter(size=size).order_by("-id"):
        if witness.split_note(checkpoint.note)[0] == body:
            return checkpoint
    return None


@transaction.atomic
def cosignature_add(note_text: str) -> CosignatureOutcome:
    """Store the witness cosignatures of a posted cosigned checkpoint note.

    The note must be a stored checkpoint with a valid log signature; every other line
    must be a cosignature that verifies under a configured witness key. Cosignatures
    already held are ignored; each new one is stored with its audit entry.
    """
    try:
        body, lines = witness.split_note(note_text)
        parsed = note.parse_checkpoint(body)
    except note.NoteError as exc:
        raise CosignatureRefused(400, "invalid", Msg.MALFORMED % {"detail": exc}) from exc
    log_keys = log_verifier_keys()
    for key in log_keys:
        try:
            note.open_note(note_text, key)
            break
        except note.NoteError:
            continue
    else:
        raise CosignatureRefused(403, "bad_log_signature", Msg.BAD_LOG_SIGNATURE)
    checkpoint = _stored_checkpoint(body, parsed.size)
    if checkpoint is None:
        raise CosignatureRefused(
            404, "unknown_checkpoint", Msg.UNKNOWN_CHECKPOINT % {"size": parsed.size}
        )

    log_ids = _log_key_ids(log_keys)
    latest_allowed = time.time() + MAX_CLOCK_SKEW_SECONDS
    valid: list[witness.CosignatureLine] = []
    for found in witness.cosignatures_of(body, lines, configured_witness_keys()):
        if (found.name, found.key_id) in log_ids:
            continue
        if found.key is None:
            message = Msg.UNKNOWN_WITNESS % {"name": found.name}
            raise CosignatureRefused(403, "unknown_witness", message)
        if not found.valid:
            raise CosignatureRefused(403, "forged_cosignature", Msg.FORGED % {"name": found.name})
        if found.timestamp > latest_allowed:
            raise CosignatureRefused(400, "invalid", Msg.FUTURE % {"name": found.name})
        valid.append(found)
    if not valid:
        raise CosignatureRefused(400, "no_cosignature", Msg.NO_COSIGNATURE)

    outcome = CosignatureOutcome(checkpoint)
    now = timezone.now()
    for found in valid:
        try:
            # A savepoint, so a concurrent post of the same cosignature is a duplicate.
            with transaction.atomic():
                Cosignature.objects.create(
                    checkpoint=checkpoint,
                    witness_name=found.name,
                    key_id=found.key_id.hex(),
                    timestamp=found.timestamp,
                    signature_line=found.line,
                    received_at=now,
                )
        except IntegrityError:
            outcome.duplicates.append(found.name)
            continue
        outcome.stored.append(found.name)
    # No log entry: a cosignature is the log's own metadata, like a checkpoint, and an
    # entry per cosignature would give the witness a new checkpoint to cosign, for ever.
    # The cosignatures table is append-only like the log.
    return outcome


# --- reads ------------------------------------------------------------------------------


def cosigned_note(checkpoint: Checkpoint) -> str:
    """A checkpoint's signed note with its witnesses' cosignature lines appended."""
    lines = [c.signature_line + "\n" for c in checkpoint.cosignatures.all()]
    return checkpoint.note + "".join(lines)


def latest_cosigned_note() -> str | None:
    """The latest checkpoint's signed note with its witnesses' cosignature lines."""
    checkpoint = (
        Checkpoint.objects.order_by("-size", "-id").prefetch_related("cosignatures").first()
    )
    return None if checkpoint is None else cosigned_note(checkpoint)


def cosigned_notes_oldest_first() -> Iterator[str]:
    queryset = Checkpoint.objects.order_by("size", "id").prefetch_related("cosignatures")
    for checkpoint in queryset.iterator(chunk_size=500):
        yield cosigned_note(checkpoint)
