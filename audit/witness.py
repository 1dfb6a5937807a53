"""A witness for the audit log, and the check that a log was witnessed (Django-free).

A witness is run by someone other than the log's operator (a regulator, on another
machine). It remembers the largest checkpoint it has seen, accepts a new one only with a
consistency proof from it, and cosigns it (C2SP ``tlog-cosignature``, ``cosignature/v1``)::

    python -m audit.witness keygen --name witness.example/w1 --out witness.key
    python -m audit.witness run --url https://credit.example --log-key 'origin+1a2b3c4d+AR...' \\
        --key-file witness.key --state witness.state [--once] [--interval 1]

A cosignature line is ``— <name> base64(key id || timestamp || signature)``: the key id
is SHA-256(name || 0x0A || 0x04 || public key)[:4], the timestamp eight big-endian bytes
of POSIX seconds, and the Ed25519 signature is over::

    cosignature/v1\\n
    time <timestamp>\\n
    <the checkpoint body>

Because the signed message holds the whole body, a cosignature cannot be moved onto
another checkpoint, and a log that rolls back or forks is refused by every honest witness.
:func:`check_witnessed` turns the cosignatures (and the witnesses' own state files) into
a verdict on the log a database holds, so deleting checkpoints and rewriting history with
recomputed hashes no longer passes.

This module imports only the standard library, ``cryptography`` and the Django-free
``audit.note`` and ``audit.merkle``: a regulator can copy it with those two files.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import os
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from audit import merkle, note

__all__ = [
    "ALG_COSIGNATURE_V1",
    "CosignatureLine",
    "CosignerKey",
    "WitnessCheck",
    "WitnessError",
    "check_witnessed",
    "checkpoint_sizes",
    "cosign",
    "cosignatures_of",
    "cosigner_verifier_key",
    "main",
    "parse_cosigner_key",
    "split_note",
]

#: Signature type byte of Ed25519 cosignature/v1 (C2SP signed-note / tlog-cosignature).
ALG_COSIGNATURE_V1 = 0x04
COSIGNATURE_HEADER = "cosignature/v1\n"
_KEY_SIZE = 32
_SIG_SIZE = 64
_TIMESTAMP_SIZE = 8
_COSIGNATURE_SIZE = 4 + _TIMESTAMP_SIZE + _SIG_SIZE
_MAX_TIMESTAMP = (1 << 63) - 1

# Exit codes of ``python -m audit.witness`` (argparse itself exits 2 on bad usage).
EXIT_OK = 0
EXIT_CONFIG = 3  # key file, log key or state file unusable
EXIT_UNREACHABLE = 4  # the log did not answer (``--once``; otherwise retried)
EXIT_BAD_LOG = 5  # the checkpoint or proof is malformed or not signed by the log's key
EXIT_ROLLBACK = 6  # the log shows a smaller tree than the witness has seen
EXIT_FORK = 7  # the log shows another tree at a size, or one not consistent with it
EXIT_REFUSED = 8  # the gateway refused the cosignature

_HTTP_TIMEOUT = 10
_MAX_RESPONSE = 1 << 20
_MAX_BACKOFF = 60.0


class WitnessError(Exception):
    """A failure of the witness, with the exit code it ends with."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


# --- cosigner keys and cosignatures -----------------------------------------------------


def _key_id(name: str, public_key: bytes) -> bytes:
    data = name.encode("utf-8") + b"\n" + bytes((ALG_COSIGNATURE_V1,)) + public_key
    return hashlib.sha256(data).digest()[:4]


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not name:
        raise note.NoteFormatError("witness name must be a non-empty string")
    if "+" in name or any(ch.isspace() for ch in name) or not name.isprintable():
        raise note.NoteFormatError("witness name must not contain whitespace or '+'")
    return name


@dataclass(frozen=True, slots=True)
class CosignerKey(note.Verifier):
    """A witness's verifier key for cosignature/v1 (a note verifier of another type)."""

    def __str__(self) -> str:
        return cosigner_verifier_key(self.name, self.public_key)


def cosigner_verifier_key(name: str, public_key: bytes | Ed25519PrivateKey) -> str:
    """``<name>+<hex key id>+<base64(0x04 || public key)>``."""
    _check_name(name)
    if not isinstance(public_key, bytes | bytearray):
        public_key = note.public_key_bytes(public_key)
    encoded = base64.b64encode(bytes((ALG_COSIGNATURE_V1,)) + bytes(public_key)).decode()
    return f"{name}+{_key_id(name, bytes(public_key)).hex()}+{encoded}"


def parse_cosigner_key(text: str) -> CosignerKey:
    """Parse a witness verifier key; the key id must match its name and key."""
    if not isinstance(text, str):
        raise note.NoteFormatError("witness key must be a string")
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise note.NoteFormatError("witness key must be <name>+<key id>+<key>")
    name, hex_id, encoded = parts
    _check_name(name)
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise note.NoteFormatError("witness key is not valid base64") from exc
    if len(raw) != 1 + _KEY_SIZE or raw[0] != ALG_COSIGNATURE_V1:
        raise note.NoteFormatError("witness key is not an Ed25519 cosignature/v1 key")
    public = raw[1:]
    kid = _key_id(name, public)
    if kid.hex() != hex_id:
        raise note.NoteFormatError("witness key id does not match its name and key")
    return CosignerKey(name, kid, public, Ed25519PublicKey.from_public_bytes(public))


def cosigned_message(body: str, timestamp: int) -> bytes:
    return f"{COSIGNATURE_HEADER}time {timestamp}\n{body}".encode()


def cosign(body: str, name: str, private_key: Ed25519PrivateKey, timestamp: int) -> str:
    """The cosignature line (without its newline) of ``name`` over a checkpoint body."""
    _check_name(name)
    if not 0 <= timestamp <= _MAX_TIMESTAMP:
        raise ValueError("timestamp out of range")
    kid = _key_id(name, note.public_key_bytes(private_key))
    signature = private_key.sign(cosigned_message(body, timestamp))
    raw = kid + timestamp.to_bytes(_TIMESTAMP_SIZE, "big") + signature
    return f"{note.SIG_PREFIX}{name} {base64.b64encode(raw).decode()}"


def split_note(note_text: str) -> tuple[str, list[str]]:
    """A signed note's body and its signature lines (without newlines), loosely checked."""
    if not isinstance(note_text, str):
        raise note.NoteFormatError("note must be a string")
    split = note_text.rfind("\n\n")
    if split < 0 or not note_text.endswith("\n"):
        raise note.NoteFormatError("note has no signature block")
    body = note_text[: split + 1]
    lines = note_text[split + 2 : -1].split("\n")
    if len(lines) > note.MAX_SIGNATURES:
        raise note.NoteFormatError("too many signatures")
    for line in lines:
        if not line.startswith(note.SIG_PREFIX) or line.count(" ") != 2:
            raise note.NoteFormatError("malformed signature line")
    return body, lines


@dataclass(frozen=True, slots=True)
class CosignatureLine:
    """A signature line of a note, as far as cosignatures go."""

    line: str
    name: str
    key_id: bytes
    timestamp: int | None  # None: not shaped like a cosignature/v1
    key: CosignerKey | None  # the configured key it names, if any
    valid: bool  # verifies over this note's body under that key


def cosignatures_of(
    body: str, lines: Iterable[str], keys: Iterable[CosignerKey]
) -> list[CosignatureLine]:
    """Classify each signature line against the configured witness keys.

    A line counts only if it names a configured key (name and key id) and its
    signature verifies over *this* body: a forged line, a line by an unknown key, or a
    cosignature copied from another checkpoint is returned with ``valid=False``.
    """
    by_id = {(key.name, key.key_id): key for key in keys}
    found = []
    for line in lines:
        name, _, encoded = line[len(note.SIG_PREFIX) :].partition(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        kid = raw[:4]
        key = by_id.get((name, kid))
        timestamp = None
        valid = False
        if len(raw) == _COSIGNATURE_SIZE:
            timestamp = int.from_bytes(raw[4 : 4 + _TIMESTAMP_SIZE], "big")
            if key is not None and timestamp <= _MAX_TIMESTAMP:
                valid = key.verify(cosigned_message(body, timestamp), raw[4 + _TIMESTAMP_SIZE :])
        found.append(CosignatureLine(line, name, kid, timestamp, key, valid))
    return found


def _log_verifiers(log_keys: str | Iterable[str]) -> list[note.Verifier]:
    if isinstance(log_keys, str):
        log_keys = [log_keys]
    return [note.parse_verifier_key(key) for key in log_keys]


def _open_by_log(note_text: str, verifiers: Sequence[note.Verifier]) -> note.Checkpoint:
    """The checkpoint of a note that verifies under one of the log's keys."""
    last_error: note.NoteError = note.UnknownKeyError("no log key given")
    for verifier in verifiers:
        try:
            body = note.open_note(note_text, verifier)
        except note.NoteError as exc:
            last_error = exc
            continue
        return note.parse_checkpoint(body)
    raise last_error


# --- the verdict on a log -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WitnessCheck:
    """The outcome of :func:`check_witnessed`; ``reason`` is a stable code when not ok."""

    ok: bool
    reason: str
    message: str
    size: int | None = None  # the newest witnessed checkpoint's size

    def line(self) -> str:
        if self.ok:
            return f"witnessed OK: {self.message}"
        return f"FAIL ({self.reason}): {self.message}"


def checkpoint_sizes(notes: Iterable[str]) -> set[int]:
    """Tree sizes of the checkpoint notes that parse (for computing roots in one pass)."""
    sizes = set()
    for text in notes:
        try:
            body, _ = split_note(text)
            sizes.add(note.parse_checkpoint(body).size)
        except note.NoteError:
            continue
    return sizes


def check_witnessed(
    stored_notes: Iterable[str],
    *,
    log_keys: str | Iterable[str],
    witness_keys: Iterable[str],
    quorum: int,
    root_at: Callable[[int], bytes | None],
    witnessed: Iterable[str] = (),
) -> WitnessCheck:
    """Check the log a database holds against what its witnesses cosigned.

    ``stored_notes``: the database's checkpoint notes (oldest first), each with the
    cosignature lines stored beside it. ``witnessed``: cosigned notes kept outside the
    database (each witness's state file holds the last one it signed). ``root_at(size)``
    is the root of the first ``size`` entries as the database holds them now, or None if
    the log is shorter. Returns ok, or the first failure among: ``no_quorum`` (no
    checkpoint is cosigned by ``quorum`` configured witnesses), ``rollback`` (a witnessed
    checkpoint is larger than the log), ``inconsistent`` (the log's root at a witnessed
    size differs), ``missing_checkpoint`` (a witnessed checkpoint is not in the database),
    ``bad_witnessed_note`` (an external note not signed by the log and a witness).
    Raises ValueError for a malformed key or a quorum outside 1..number of keys.
    """
    verifiers = _log_verifiers(log_keys)
    keys = [parse_cosigner_key(key) for key in witness_keys]
    if len({(key.name, key.key_id) for key in keys}) != len(keys):
        raise ValueError("the same witness key is given twice")
    if isinstance(quorum, bool) or not isinstance(quorum, int) or not 1 <= quorum <= len(keys):
        raise ValueError("the quorum must be between 1 and the number of witness keys")

    # Which witnesses vouch for each checkpoint body; which bodies the database holds.
    signers: dict[str, set[tuple[str, bytes]]] = {}
    checkpoints: dict[str, note.Checkpoint] = {}
    stored_bodies: set[str] = set()
    evidence: list[str] = []
    for text in stored_notes:
        try:
            checkpoint = _open_by_log(text, verifiers)
            body, lines = split_note(text)
        except note.NoteError:
            continue  # audit_verify already fails on a checkpoint the log did not sign
        stored_bodies.add(body)
        checkpoints[body] = checkpoint
        for found in cosignatures_of(body, lines, keys):
            if found.valid:
                signers.setdefault(body, set()).add((found.name, found.key_id))
    for number, text in enumerate(witnessed, 1):
        try:
            checkpoint = _open_by_log(text, verifiers)
            body, lines = split_note(text)
        except note.NoteError as exc:
            return WitnessCheck(
                False, "bad_witnessed_note", f"witnessed note {number} is not the log's: {exc}"
            )
        valid = {(f.name, f.key_id) for f in cosignatures_of(body, lines, keys) if f.valid}
        if not valid:
            return WitnessCheck(
                False,
                "bad_witnessed_note",
                f"witnessed note {number} carries no valid cosignature by a configured witness",
            )
        checkpoints[body] = checkpoint
        signers.setdefault(body, set()).update(valid)
        evidence.append(body)

    quorate = [body for body, who in signers.items() if len(who) >= quorum]
    if not quorate:
        return WitnessCheck(
            False,
            "no_quorum",
            f"no checkpoint is cosigned by {quorum} of the {len(keys)} configured witnesses",
        )
    newest = max(quorate, key=lambda body: checkpoints[body].size)
    # One honest witness's cosignature is proof of what the log showed, quorum or not.
    for body in sorted({newest, *evidence}, key=lambda b: -checkpoints[b].size):
        checkpoint = checkpoints[body]
        root = root_at(checkpoint.size)
        if root is None:
            return WitnessCheck(
                False,
                "rollback",
                f"a witnessed checkpoint has {checkpoint.size} entries, more than the log holds",
                checkpoint.size,
            )
        if bytes(root) != checkpoint.root_hash:
            return WitnessCheck(
                False,
                "inconsistent",
                f"the log's first {checkpoint.size} entries do not have the witnessed root "
                f"{checkpoint.root_hash.hex()}: history was rewritten",
                checkpoint.size,
            )
        if body not in stored_bodies:
            return WitnessCheck(
                False,
                "missing_checkpoint",
                f"the witnessed checkpoint at size {checkpoint.size} is missing from the database",
                checkpoint.size,
            )
    size = checkpoints[newest].size
    return WitnessCheck(
        True,
        "",
        f"checkpoint at size {size} cosigned by {len(signers[newest])} witness(es) "
        f"(quorum {quorum}) and consistent with the log",
        size,
    )


# --- the witness process ------------------------------------------------------------------


@dataclass
class State:
    origin: str
    size: int
    root_hash: bytes
    note: str
    posted: bool

    def to_json(self) -> str:
        return json.dumps(
            {
                "origin": self.origin,
                "size": self.size,
                "root_hash": self.root_hash.hex(),
                "note": self.note,
                "posted": self.posted,
            },
            indent=2,
        )


def load_state(path: Path) -> State | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise WitnessError(EXIT_CONFIG, f"cannot read state file {path}: {exc}") from exc
    try:
        data = json.loads(text)
        state = State(
            origin=str(data["origin"]),
            size=int(data["size"]),
            root_hash=bytes.fromhex(data["root_hash"]),
            note=str(data["note"]),
            posted=bool(data.get("posted", False)),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise WitnessError(EXIT_CONFIG, f"state file {path} is corrupt: {exc}") from exc
    if state.size < 0 or len(state.root_hash) != merkle.HASH_SIZE:
        raise WitnessError(EXIT_CONFIG, f"state file {path} is corrupt")
    return state


def save_state(path: Path, state: State) -> None:
    """Write temp + fsync + rename, so a crash leaves the old state or the new, never half."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(state.to_json())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_key_file(path: Path) -> tuple[str, Ed25519PrivateKey]:
    """A witness key file: ``name`` on the first line, the base64 Ed25519 seed on the second."""
    try:
        name, seed = Path(path).read_text(encoding="utf-8").split("\n")[:2]
        return _check_name(name.strip()), note.load_private_key_seed(seed)
    except (OSError, ValueError) as exc:
        raise WitnessError(EXIT_CONFIG, f"cannot load witness key file {path}: {exc}") from exc


class _Unreachable(WitnessError):
    def __init__(self, message: str):
        super().__init__(EXIT_UNREACHABLE, message)


def _http(url: str, data: bytes | None = None, content_type: str = "") -> tuple[int, bytes]:
    """(status, body); raises _Unreachable when the log does not answer or answers 5xx."""
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")  # noqa: S310
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=_HTTP_TIMEOUT) as response:  # noqa: S310
            return response.status, response.read(_MAX_RESPONSE)
    except urllib.error.HTTPError as exc:
        if exc.code >= 500:
            raise _Unreachable(f"log unreachable: {url} answered {exc.code}") from exc
        return exc.code, exc.read(_MAX_RESPONSE)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise _Unreachable(f"log unreachable: {url}: {reason}") from exc


class Witness:
    """One witness: its key, the log it watches, and its state file."""

    def __init__(self, base_url: str, log_key: str, key_file: Path, state_file: Path):
        if not base_url.startswith(("http://", "https://")):
            raise WitnessError(EXIT_CONFIG, f"--url must be an http(s) URL, not {base_url!r}")
        self.base = base_url.rstrip("/")
        try:
            self.log_verifier = note.parse_verifier_key(log_key)
        except note.NoteError as exc:
            raise WitnessError(EXIT_CONFIG, f"bad --log-key: {exc}") from exc
        self.name, self.private_key = load_key_file(key_file)
        self.state_file = Path(state_file)

    def fetch_checkpoint(self) -> str:
        status, body = _http(f"{self.base}/checkpoint")
        if status == 404:  # a log without the tiles API: its JSON endpoint
            status, body = _http(f"{self.base}/api/v1/audit/checkpoint")
            if status == 200:
                try:
                    return json.loads(body)["note"]
                except (ValueError, KeyError, TypeError) as exc:
                    raise WitnessError(EXIT_BAD_LOG, "malformed checkpoint response") from exc
            if status == 404:
                # A new log has signed nothing yet: wait for it as for an unreachable one.
                raise _Unreachable(f"the log at {self.base} has no checkpoint yet")
        if status != 200:
            raise WitnessError(EXIT_BAD_LOG, f"the log answered {status} for its checkpoint")
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise WitnessError(EXIT_BAD_LOG, "the checkpoint is not UTF-8") from exc

    def fetch_consistency(self, old: int, new: int) -> list[bytes]:
        query = urllib.parse.urlencode({"from": old, "to": new})
        status, body = _http(f"{self.base}/api/v1/audit/proof/consistency?{query}")
        if status != 200:
            raise WitnessError(
                EXIT_BAD_LOG, f"the log answered {status} for a consistency proof {old}->{new}"
            )
        try:
            data = json.loads(body)
            if data["from"] != old or data["to"] != new:
                raise ValueError("the proof is for other sizes")
            return [bytes.fromhex(item) for item in data["proof"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise WitnessError(EXIT_BAD_LOG, f"the consistency proof is malformed: {exc}") from exc

    def step(self, now: Callable[[], float] = time.time) -> str:
        """Fetch, check, cosign, save, post. Returns a one-line report; raises WitnessError."""
        state = load_state(self.state_file)
        text = self.fetch_checkpoint()
        try:
            body = note.open_note(text, self.log_verifier)
            checkpoint = note.parse_checkpoint(body)
        except note.NoteError as exc:
            raise WitnessError(EXIT_BAD_LOG, f"bad log signature or checkpoint: {exc}") from exc

        if state is not None:
            if checkpoint.origin != state.origin:
                raise WitnessError(
                    EXIT_BAD_LOG,
                    f"the checkpoint is for origin {checkpoint.origin!r}, not {state.origin!r}",
                )
            if checkpoint.size < state.size:
                raise WitnessError(
                    EXIT_ROLLBACK,
                    f"ROLLBACK: the log shows size {checkpoint.size}, "
                    f"but this witness has cosigned size {state.size}",
                )
            if checkpoint.size == state.size:
                if checkpoint.root_hash != state.root_hash:
                    raise WitnessError(
                        EXIT_FORK,
                        f"FORK: the log shows another root at size {checkpoint.size}: "
                        f"{checkpoint.root_hash.hex()} instead of {state.root_hash.hex()}",
                    )
                if state.posted and split_note(state.note)[0] == body:
                    return f"unchanged at size {checkpoint.size}"
            elif state.size > 0:
                proof = self.fetch_consistency(state.size, checkpoint.size)
                if not merkle.verify_consistency(
                    state.size, checkpoint.size, state.root_hash, checkpoint.root_hash, proof
                ):
                    raise WitnessError(
                        EXIT_FORK,
                        f"FORK: the checkpoint at size {checkpoint.size} is not consistent "
                        f"with the cosigned size {state.size}",
                    )

        line = cosign(body, self.name, self.private_key, int(now()))
        cosigned = text + line + "\n"
        # Persist what is about to be signed before releasing it: a witness that crashed
        # after posting must never cosign a conflicting tree on restart.
        new_state = State(checkpoint.origin, checkpoint.size, checkpoint.root_hash, cosigned, False)
        save_state(self.state_file, new_state)
        status, response = _http(
            f"{self.base}/api/v1/audit/cosignatures",
            cosigned.encode("utf-8"),
            "text/plain; charset=utf-8",
        )
        if status not in (200, 201):
            detail = response[:300].decode("utf-8", errors="replace")
            raise WitnessError(EXIT_REFUSED, f"the log refused the cosignature: {status} {detail}")
        new_state.posted = True
        save_state(self.state_file, new_state)
        return f"cosigned {checkpoint.origin} at size {checkpoint.size}"


def run(
    witness: Witness,
    *,
    once: bool,
    interval: float,
    sleep: Callable[[float], None] = time.sleep,
    out=None,
    err=None,
) -> int:
    """Poll until a failure other than an unreachable log; back off while it is unreachable."""
    out = out or sys.stdout
    err = err or sys.stderr
    delay = interval
    while True:
        try:
            print(f"witness: {witness.step()}", file=out, flush=True)
            delay = interval
        except _Unreachable as exc:
            print(f"witness: {exc}", file=err, flush=True)
            if once:
                return exc.code
            delay = min(max(delay * 2, interval, 0.5), _MAX_BACKOFF)
            sleep(delay)
            continue
        except WitnessError as exc:
            print(f"witness: {exc}", file=err, flush=True)
            return exc.code
        if once:
            return EXIT_OK
        sleep(interval)


def keygen(name: str, out: Path) -> str:
    """Write a new key file (refusing to overwrite one) and return its verifier key."""
    _check_name(name)
    key = Ed25519PrivateKey.generate()
    seed = base64.b64encode(note.private_key_seed(key)).decode()
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise WitnessError(EXIT_CONFIG, f"cannot create key file {out}: {exc}") from exc
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(f"{name}\n{seed}\n")
    return cosigner_verifier_key(name, key)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m audit.witness", description="Witness and cosign the audit log."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("keygen", help="make a witness key; prints its verifier key")
    gen.add_argument("--name", required=True, help="the witness's name, e.g. witness.example/w1")
    gen.add_argument("--out", required=True, type=Path, help="the key file to create")
    watch = commands.add_parser("run", help="fetch, check and cosign the log's checkpoints")
    watch.add_argument("--url", required=True, help="the gateway's base URL")
    watch.add_argument("--log-key", required=True, help="the log's verifier key")
    watch.add_argument("--key-file", required=True, type=Path)
    watch.add_argument("--state", required=True, type=Path)
    watch.add_argument("--once", action="store_true", help="one round, then exit")
    watch.add_argument("--interval", type=float, default=1.0, help="seconds between rounds")
    return parser


def main(argv: Sequence[str] | None = None, *, sleep: Callable[[float], None] = time.sleep) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "keygen":
            print(keygen(args.name, args.out))
            return EXIT_OK
        if args.interval <= 0:
            raise WitnessError(EXIT_CONFIG, "--interval must be positive")
        witness = Witness(args.url, args.log_key, args.key_file, args.state)
    except (WitnessError, note.NoteError) as exc:
        print(f"witness: {exc}", file=sys.stderr)
        return getattr(exc, "code", EXIT_CONFIG)
    try:
        return run(witness, once=args.once, interval=args.interval, sleep=sleep)
    except KeyboardInterrupt:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
