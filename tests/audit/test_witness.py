"""The witness: its cosignature format, its refusals, and the verdict on a witnessed log."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import transaction

from audit import merkle, note, witness
from audit.actions import ActorKind, AuditAction
from audit.keys import verifier_key
from audit.models import Cosignature
from audit.services import AuditRecord, audit_append, integrate_all

REPO = Path(__file__).resolve().parents[2]
ORIGIN = "credit-gateway.example/audit-log"


# --- the format, checked against the spec's definitions rather than our own code ------------


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return note.public_key_bytes(key)


def test_the_verifier_key_follows_the_cosignature_v1_key_id_rule():
    key = Ed25519PrivateKey.generate()
    public = raw_public(key)
    text = witness.cosigner_verifier_key("witness.example/w1", key)
    name, hex_id, encoded = text.split("+", 2)
    expected = hashlib.sha256(b"witness.example/w1\n\x04" + public).digest()[:4]
    assert name == "witness.example/w1"
    assert hex_id == expected.hex()
    assert base64.b64decode(encoded) == b"\x04" + public
    parsed = witness.parse_cosigner_key(text)
    assert (parsed.name, parsed.key_id, parsed.public_key) == (name, expected, public)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t.replace("+", "-", 1),  # no key id
        lambda t: t.split("+", 2)[0] + "+00000000+" + t.split("+", 2)[2],  # wrong key id
        lambda t: "+".join(t.split("+", 2)[:2]) + "+AQ" + t.split("+", 2)[2][2:],  # log key type
        lambda t: t + "!",  # bad base64
        lambda t: "bad name+" + t.split("+", 1)[1],  # whitespace in the name
    ],
)
def test_a_malformed_witness_key_is_refused(mangle):
    text = witness.cosigner_verifier_key("w1", Ed25519PrivateKey.generate())
    with pytest.raises(note.NoteFormatError):
        witness.parse_cosigner_key(mangle(text))


def test_a_cosignature_is_a_timestamped_signature_over_header_time_and_body():
    key = Ed25519PrivateKey.generate()
    body = note.checkpoint_body(ORIGIN, 5, bytes(range(32)))
    line = witness.cosign(body, "w1", key, 1679315147)
    prefix, name, encoded = line.split(" ")
    raw = base64.b64decode(encoded)
    assert prefix == "—" and name == "w1" and len(raw) == 4 + 8 + 64
    assert raw[:4] == hashlib.sha256(b"w1\n\x04" + raw_public(key)).digest()[:4]
    assert int.from_bytes(raw[4:12], "big") == 1679315147
    message = f"cosignature/v1\ntime 1679315147\n{body}".encode()
    key.public_key().verify(raw[12:], message)  # raises if the message differs


# --- check_witnessed, over an in-memory log ---------------------------------------------------


class Log:
    """A log in memory with its own signing key, for the pure verdict."""

    def __init__(self, size: int):
        self.key = Ed25519PrivateKey.generate()
        self.verifier = note.verifier_key(ORIGIN, self.key)
        self.tree = merkle.MemoryTree(merkle.leaf_hash(b"entry %d" % i) for i in range(size))

    def note_at(self, size: int, root: bytes | None = None) -> str:
        body = note.checkpoint_body(ORIGIN, size, root or self.tree.root(size))
        return note.sign_note(body, ORIGIN, self.key)

    def root_at(self, size: int) -> bytes | None:
        return self.tree.root(size) if size <= self.tree.size else None


class Witnesses:
    def __init__(self, count: int):
        self.keys = [Ed25519PrivateKey.generate() for _ in range(count)]
        self.names = [f"witness.example/w{i}" for i in range(count)]
        self.verifiers = [
            witness.cosigner_verifier_key(n, k) for n, k in zip(self.names, self.keys, strict=True)
        ]

    def cosign(self, signed: str, *which: int, timestamp: int = 1_700_000_000) -> str:
        body = signed.split("\n\n")[0] + "\n"
        lines = [witness.cosign(body, self.names[i], self.keys[i], timestamp) for i in which]
        return signed + "".join(line + "\n" for line in lines)


def verdict(log, witnesses, stored, quorum=1, witnessed=()):
    return witness.check_witnessed(
        stored,
        log_keys=[log.verifier],
        witness_keys=witnesses.verifiers,
        quorum=quorum,
        root_at=log.root_at,
        witnessed=witnessed,
    )


def test_a_log_cosigned_by_the_quorum_passes():
    log, ws = Log(10), Witnesses(3)
    stored = [ws.cosign(log.note_at(4), 0), ws.cosign(log.note_at(10), 0, 2)]
    result = verdict(log, ws, stored, quorum=2)
    assert result.ok and result.size == 10


def test_without_a_quorum_the_log_fails():
    log, ws = Log(10), Witnesses(3)
    stored = [ws.cosign(log.note_at(4), 0), ws.cosign(log.note_at(10), 1)]
    result = verdict(log, ws, stored, quorum=2)
    assert (result.ok, result.reason) == (False, "no_quorum")


def test_a_forged_cosignature_does_not_count():
    log, ws = Log(10), Witnesses(2)
    good = ws.cosign(log.note_at(10), 0)
    prefix, name, encoded = good.rstrip("\n").split("\n")[-1].split(" ")
    raw = bytearray(base64.b64decode(encoded))
    raw[-1] ^= 1
    forged = log.note_at(10) + f"{prefix} {name} {base64.b64encode(bytes(raw)).decode()}\n"
    assert verdict(log, ws, [forged]).reason == "no_quorum"


def test_a_cosignature_by_an_unknown_key_does_not_count():
    log, ws, strangers = Log(10), Witnesses(1), Witnesses(1)
    assert verdict(log, ws, [strangers.cosign(log.note_at(10), 0)]).reason == "no_quorum"


def test_a_cosignature_replayed_from_another_checkpoint_does_not_count():
    log, ws = Log(10), Witnesses(1)
    old = ws.cosign(log.note_at(4), 0)
    replayed = log.note_at(10) + old.rstrip("\n").split("\n")[-1] + "\n"
    result = verdict(log, ws, [log.note_at(4), replayed])
    assert result.reason == "no_quorum"


def test_a_cosignature_on_a_note_the_log_did_not_sign_does_not_count():
    log, ws = Log(10), Witnesses(1)
    other = Log(10)
    assert verdict(log, ws, [ws.cosign(other.note_at(10), 0)]).reason == "no_quorum"


def test_a_witnessed_checkpoint_larger_than_the_log_is_a_rollback():
    log, ws = Log(10), Witnesses(1)
    bigger = Log(10)
    bigger.key, bigger.verifier = log.key, log.verifier
    bigger.tree.extend(merkle.leaf_hash(b"later %d" % i) for i in range(5))
    stored = [ws.cosign(log.note_at(10), 0)]
    result = verdict(log, ws, stored, witnessed=[ws.cosign(bigger.note_at(15), 0)])
    assert (result.reason, result.size) == ("rollback", 15)


def test_a_witnessed_root_the_log_no_longer_has_is_inconsistent():
    log, ws = Log(10), Witnesses(1)
    rewritten = log.note_at(10, root=bytes(32))
    result = verdict(log, ws, [], witnessed=[ws.cosign(rewritten, 0)])
    assert result.reason == "inconsistent"


def test_a_witnessed_checkpoint_missing_from_the_database_fails():
    log, ws = Log(10), Witnesses(1)
    stored = [ws.cosign(log.note_at(4), 0)]
    result = verdict(log, ws, stored, witnessed=[ws.cosign(log.note_at(10), 0)])
    assert (result.reason, result.size) == ("missing_checkpoint", 10)


def test_the_newest_quorum_checkpoint_must_be_stored_and_consistent():
    log, ws = Log(10), Witnesses(1)
    assert verdict(log, ws, [ws.cosign(log.note_at(10, root=bytes(32)), 0)]).reason == (
        "inconsistent"
    )


def test_a_witnessed_note_without_a_valid_cosignature_is_refused():
    log, ws = Log(10), Witnesses(1)
    stored = [ws.cosign(log.note_at(10), 0)]
    assert verdict(log, ws, stored, witnessed=[log.note_at(10)]).reason == "bad_witnessed_note"
    other = Log(10)
    result = verdict(log, ws, stored, witnessed=[ws.cosign(other.note_at(10), 0)])
    assert result.reason == "bad_witnessed_note"


@pytest.mark.parametrize("quorum", [0, 3, True])
def test_a_quorum_outside_the_keys_is_an_error(quorum):
    log, ws = Log(1), Witnesses(2)
    with pytest.raises(ValueError, match="quorum"):
        verdict(log, ws, [ws.cosign(log.note_at(1), 0, 1)], quorum=quorum)


# --- the witness process against the gateway ----------------------------------------------------


def append(count: int) -> None:
    records = [
        AuditRecord(
            action=AuditAction.ADMIN_LOGIN,
            actor_kind=ActorKind.ADMIN,
            actor_id="admin",
            details={"n": i},
        )
        for i in range(count)
    ]
    with transaction.atomic():
        audit_append(records)


@pytest.fixture
def witness_key(tmp_path, capsys):
    path = tmp_path / "witness.key"
    assert witness.main(["keygen", "--name", "regulator.example/witness", "--out", str(path)]) == 0
    return path, capsys.readouterr().out.strip()


@pytest.fixture
def gateway(live_server, settings, witness_key):
    settings.AUDIT_WITNESS_KEYS = [witness_key[1]]
    return live_server


def run_witness(gateway, witness_key, state, *extra, log_key=None):
    return witness.main(
        [
            "run",
            "--url",
            gateway.url,
            "--log-key",
            log_key or verifier_key(),
            "--key-file",
            str(witness_key[0]),
            "--state",
            str(state),
            "--once",
            *extra,
        ]
    )


def test_keygen_refuses_to_overwrite_a_key(witness_key, capsys):
    path, printed = witness_key
    assert witness.parse_cosigner_key(printed).name == "regulator.example/witness"
    assert path.stat().st_mode & 0o077 == 0
    before = path.read_bytes()
    code = witness.main(["keygen", "--name", "w", "--out", str(path)])
    assert code == witness.EXIT_CONFIG and path.read_bytes() == before
    assert "cannot create key file" in capsys.readouterr().err


@pytest.mark.django_db(transaction=True)
def test_the_witness_cosigns_and_follows_the_log(gateway, witness_key, tmp_path, capsys):
    state = tmp_path / "witness.state"
    append(3)
    first = integrate_all()
    assert run_witness(gateway, witness_key, state) == 0
    saved = json.loads(state.read_text())
    assert (saved["size"], saved["posted"]) == (3, True)
    assert saved["root_hash"] == bytes(first.root_hash).hex()
    assert Cosignature.objects.get().checkpoint_id == first.pk

    append(5)
    second = integrate_all()
    assert run_witness(gateway, witness_key, state) == 0
    # 3 entries, then 5 more: a cosignature adds no entry (nor a checkpoint to cosign).
    assert second.size == 8
    assert json.loads(state.read_text())["size"] == 8
    assert [c.checkpoint_id for c in Cosignature.objects.order_by("id")] == [first.pk, second.pk]
    # Nothing new: no second cosignature of the same checkpoint.
    assert run_witness(gateway, witness_key, state) == 0
    assert Cosignature.objects.count() == 2
    out = capsys.readouterr().out
    assert "cosigned credit-gateway.example/audit-log at size 8" in out
    assert "unchanged at size 8" in out


def write_state(path: Path, size: int, root: bytes, text: str = "") -> str:
    content = json.dumps(
        {"origin": ORIGIN, "size": size, "root_hash": root.hex(), "note": text, "posted": True}
    )
    path.write_text(content)
    return content


@pytest.mark.django_db(transaction=True)
def test_the_witness_refuses_a_rollback_and_keeps_its_state(gateway, witness_key, tmp_path, capsys):
    append(4)
    integrate_all()
    state = tmp_path / "witness.state"
    before = write_state(state, 9, bytes(32))
    assert run_witness(gateway, witness_key, state) == witness.EXIT_ROLLBACK
    assert state.read_text() == before
    assert "ROLLBACK" in capsys.readouterr().err
    assert not Cosignature.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_witness_refuses_another_root_at_the_same_size(gateway, witness_key, tmp_path, capsys):
    append(4)
    integrate_all()
    state = tmp_path / "witness.state"
    before = write_state(state, 4, bytes(32))
    assert run_witness(gateway, witness_key, state) == witness.EXIT_FORK
    assert state.read_text() == before
    assert "FORK" in capsys.readouterr().err


@pytest.mark.django_db(transaction=True)
def test_the_witness_refuses_a_tree_inconsistent_with_what_it_cosigned(
    gateway, witness_key, tmp_path, capsys
):
    append(6)
    integrate_all()
    state = tmp_path / "witness.state"
    before = write_state(state, 3, bytes(32))  # a root the log never had at size 3
    assert run_witness(gateway, witness_key, state) == witness.EXIT_FORK
    assert state.read_text() == before
    assert "not consistent" in capsys.readouterr().err
    assert not Cosignature.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_witness_refuses_a_checkpoint_not_signed_by_the_log(
    gateway, witness_key, tmp_path, capsys
):
    append(2)
    integrate_all()
    impostor = note.verifier_key(ORIGIN, Ed25519PrivateKey.generate())
    state = tmp_path / "witness.state"
    code = run_witness(gateway, witness_key, state, log_key=impostor)
    assert code == witness.EXIT_BAD_LOG
    assert "bad log signature" in capsys.readouterr().err
    assert not state.exists()


@pytest.mark.django_db(transaction=True)
def test_the_witness_reports_a_refused_cosignature(gateway, witness_key, tmp_path, settings):
    settings.AUDIT_WITNESS_KEYS = []  # the gateway does not know this witness
    append(2)
    integrate_all()
    state = tmp_path / "witness.state"
    assert run_witness(gateway, witness_key, state) == witness.EXIT_REFUSED
    # What it signed is remembered, and marked as not delivered.
    assert json.loads(state.read_text())["posted"] is False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_log_exits_with_once(witness_key, tmp_path, capsys):
    code = witness.main(
        [
            "run",
            "--url",
            f"http://127.0.0.1:{free_port()}",
            "--log-key",
            note.verifier_key("log", Ed25519PrivateKey.generate()),
            "--key-file",
            str(witness_key[0]),
            "--state",
            str(tmp_path / "s"),
            "--once",
        ]
    )
    assert code == witness.EXIT_UNREACHABLE
    assert "log unreachable" in capsys.readouterr().err


def test_an_unreachable_log_is_retried_with_backoff(witness_key, tmp_path):
    delays = []

    class Stop(Exception):
        pass

    def sleep(seconds):
        delays.append(seconds)
        if len(delays) == 5:
            raise Stop

    with pytest.raises(Stop):
        witness.main(
            [
                "run",
                "--url",
                f"http://127.0.0.1:{free_port()}",
                "--log-key",
                note.verifier_key("log", Ed25519PrivateKey.generate()),
                "--key-file",
                str(witness_key[0]),
                "--state",
                str(tmp_path / "s"),
                "--interval",
                "1",
            ],
            sleep=sleep,
        )
    assert delays == [2, 4, 8, 16, 32]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--url", "ftp://x", "--log-key", "k"], "--url"),
        (["--url", "http://127.0.0.1:1", "--log-key", "not a key"], "bad --log-key"),
        (["--url", "http://127.0.0.1:1", "--interval", "0"], "--interval"),
    ],
)
def test_bad_options_exit_with_a_message(witness_key, tmp_path, capsys, args, message):
    base = ["--log-key", note.verifier_key("log", Ed25519PrivateKey.generate())]
    code = witness.main(
        ["run", *base, "--key-file", str(witness_key[0]), "--state", str(tmp_path / "s"), *args]
    )
    assert code == witness.EXIT_CONFIG
    assert message in capsys.readouterr().err


def test_a_corrupt_state_file_or_key_file_is_a_config_error(witness_key, tmp_path, capsys):
    state = tmp_path / "state"
    state.write_text("{not json")
    log_key = note.verifier_key("log", Ed25519PrivateKey.generate())
    common = ["run", "--url", f"http://127.0.0.1:{free_port()}", "--log-key", log_key, "--once"]
    code = witness.main([*common, "--key-file", str(witness_key[0]), "--state", str(state)])
    assert code == witness.EXIT_CONFIG
    assert "corrupt" in capsys.readouterr().err
    bad_key = tmp_path / "bad.key"
    bad_key.write_text("w1\nnot base64\n")
    code = witness.main([*common, "--key-file", str(bad_key), "--state", str(tmp_path / "s")])
    assert code == witness.EXIT_CONFIG


def test_the_witness_runs_as_a_module_without_django(tmp_path):
    # A regulator runs it with Python and cryptography alone.
    script = (
        "import sys; sys.modules['django'] = None\n"
        "from audit.witness import main\n"
        f"sys.exit(main(['keygen', '--name', 'w1', '--out', {str(tmp_path / 'k')!r}]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("w1+")


@pytest.mark.django_db(transaction=True)
def test_a_log_without_a_checkpoint_is_waited_for(gateway, witness_key, tmp_path, capsys):
    append(2)
    state = tmp_path / "witness.state"
    assert run_witness(gateway, witness_key, state) == witness.EXIT_UNREACHABLE
    assert "no checkpoint yet" in capsys.readouterr().err
    assert not state.exists()
