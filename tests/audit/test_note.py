"""C2SP signed notes and checkpoints with Ed25519."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.note import (
    Checkpoint,
    NoteError,
    NoteFormatError,
    NoteSignatureError,
    UnknownKeyError,
    checkpoint_body,
    key_id,
    load_private_key_pem,
    load_private_key_seed,
    load_public_key_pem,
    open_note,
    parse_checkpoint,
    parse_verifier_key,
    private_key_seed,
    public_key_bytes,
    sign_note,
    verifier_key,
)

NAME = "audit.city.example/credit-log"
SEED = bytes(range(32))
ROOT = hashlib.sha256(b"root").digest()


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(SEED)


@pytest.fixture
def vkey(key) -> str:
    return verifier_key(NAME, key.public_key())


@pytest.fixture
def body() -> str:
    return checkpoint_body(NAME, 1234, ROOT)


def test_checkpoint_body_layout(body):
    assert body == f"{NAME}\n1234\n{base64.b64encode(ROOT).decode()}\n"
    assert parse_checkpoint(body) == Checkpoint(NAME, 1234, ROOT)
    with_ext = checkpoint_body(NAME, 0, ROOT, ["ext one", "ext two"])
    assert with_ext.endswith("\next one\next two\n")
    assert parse_checkpoint(with_ext).extensions == ("ext one", "ext two")


def test_round_trip(key, vkey, body):
    note = sign_note(body, NAME, key)
    assert open_note(note, vkey) == body
    assert open_note(note, parse_verifier_key(vkey)) == body
    assert parse_checkpoint(open_note(note, vkey)) == Checkpoint(NAME, 1234, ROOT)


def test_signature_line_layout(key, body):
    note = sign_note(body, NAME, key)
    text, sep, sig_block = note.partition("\n\n")
    assert sep and text + "\n" == body
    assert sig_block.count("\n") == 1 and sig_block.endswith("\n")
    assert sig_block.startswith("\u2014 " + NAME + " ")
    raw = base64.b64decode(sig_block.rstrip("\n").split(" ")[2], validate=True)
    assert len(raw) == 4 + 64
    public = public_key_bytes(key)
    assert raw[:4] == hashlib.sha256(NAME.encode() + b"\n\x01" + public).digest()[:4]
    assert raw[:4] == key_id(NAME, public)
    # The signature is a plain Ed25519 signature over the body bytes (raises if not).
    key.public_key().verify(raw[4:], body.encode())


def test_verifier_key_layout(key, vkey):
    public = public_key_bytes(key)
    name, hex_id, encoded = vkey.split("+", 2)
    assert name == NAME
    assert hex_id == key_id(NAME, public).hex() and len(hex_id) == 8
    assert base64.b64decode(encoded) == b"\x01" + public
    parsed = parse_verifier_key(vkey)
    assert (parsed.name, parsed.key_id, parsed.public_key) == (NAME, bytes.fromhex(hex_id), public)
    assert str(parsed) == vkey
    assert verifier_key(NAME, key) == verifier_key(NAME, public) == vkey


def test_signing_is_deterministic(key, body):
    assert sign_note(body, NAME, key) == sign_note(body, NAME, key)


def _resign_line(note: str, new_line: str) -> str:
    body, _, _ = note.partition("\n\n")
    return body + "\n\n" + new_line + "\n"


def test_tampered_body_rejected(key, vkey, body):
    note = sign_note(body, NAME, key)
    forged = note.replace("\n1234\n", "\n1235\n")
    with pytest.raises(NoteSignatureError):
        open_note(forged, vkey)
    root_b64 = base64.b64encode(ROOT).decode()
    other = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
    with pytest.raises(NoteSignatureError):
        open_note(note.replace(root_b64, other), vkey)


def test_wrong_key_rejected(key, vkey, body):
    other = Ed25519PrivateKey.generate()
    note = sign_note(body, NAME, other)  # same name, different key: different key id
    with pytest.raises(UnknownKeyError):
        open_note(note, vkey)
    # Same name and key id, but the signature is made by another key.
    good = sign_note(body, NAME, key)
    sig = base64.b64decode(good.rstrip("\n").rsplit(" ", 1)[1])
    bad_sig = sig[:4] + other.sign(body.encode())
    forged = _resign_line(good, f"\u2014 {NAME} {base64.b64encode(bad_sig).decode()}")
    with pytest.raises(NoteSignatureError):
        open_note(forged, vkey)


def test_other_signers_are_ignored(key, vkey, body):
    witness = Ed25519PrivateKey.generate()
    note = sign_note(body, NAME, key)
    witness_line = sign_note(body, "witness.example", witness).partition("\n\n")[2]
    cosigned = note + witness_line
    assert open_note(cosigned, vkey) == body
    # A note signed only by someone else is not accepted.
    with pytest.raises(UnknownKeyError):
        open_note(body + "\n" + witness_line, vkey)


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda n: n[:-1], id="no-final-newline"),
        pytest.param(lambda n: n.replace("\n\n", "\n"), id="no-blank-line"),
        pytest.param(lambda n: n.replace("\u2014 ", "- "), id="ascii-dash"),
        pytest.param(lambda n: n.replace("\u2014 ", "\u2014"), id="no-space-after-dash"),
        pytest.param(lambda n: n[:-10] + "\n", id="truncated-signature"),
        pytest.param(lambda n: n[:-6] + "!!!=\n", id="bad-base64"),
        pytest.param(lambda n: n[:-2] + " \n", id="space-in-signature"),
        pytest.param(lambda n: n.rstrip("\n").rsplit(" ", 1)[0] + " AAAA\n", id="too-short"),
        pytest.param(lambda n: n + "\n", id="trailing-blank-line"),
        pytest.param(lambda n: n.replace("\n", "\r\n"), id="crlf"),
        pytest.param(lambda n: "", id="empty"),
        pytest.param(lambda n: n.split("\n\n")[0] + "\n", id="no-signatures"),
    ],
)
def test_malformed_notes_rejected(key, vkey, body, mutate):
    note = sign_note(body, NAME, key)
    with pytest.raises(NoteError):
        open_note(mutate(note), vkey)


def test_truncated_signature_bytes_rejected(key, vkey, body):
    note = sign_note(body, NAME, key)
    raw = base64.b64decode(note.rstrip("\n").rsplit(" ", 1)[1])
    short = _resign_line(note, f"\u2014 {NAME} {base64.b64encode(raw[:-1]).decode()}")
    with pytest.raises(NoteSignatureError):
        open_note(short, vkey)


def test_errors_are_value_errors():
    assert issubclass(NoteError, ValueError)
    for cls in (NoteFormatError, NoteSignatureError, UnknownKeyError):
        assert issubclass(cls, NoteError)


@pytest.mark.parametrize("name", ["", "has space", "has+plus", "tab\tname", "new\nline"])
def test_bad_key_names_rejected(key, body, name):
    with pytest.raises(NoteFormatError):
        sign_note(body, name, key)
    with pytest.raises(NoteFormatError):
        verifier_key(name, key.public_key())


@pytest.mark.parametrize(
    "text",
    [
        "",
        "name+1234abcd",
        "name+1234abc+AQ==",
        "name+zzzzzzzz+AQ==",
        "has space+00000000+AQ==",
        "name+00000000+!!!!",
    ],
)
def test_bad_verifier_keys_rejected(text):
    with pytest.raises(NoteFormatError):
        parse_verifier_key(text)


def test_verifier_key_with_wrong_id_or_algorithm_rejected(key, vkey):
    name, hex_id, encoded = vkey.split("+", 2)
    wrong_id = f"{int(hex_id, 16) ^ 1:08x}"
    with pytest.raises(NoteFormatError):
        parse_verifier_key(f"{name}+{wrong_id}+{encoded}")
    with pytest.raises(NoteFormatError):
        parse_verifier_key(f"other-name+{hex_id}+{encoded}")
    raw = base64.b64decode(encoded)
    wrong_alg = base64.b64encode(b"\x02" + raw[1:]).decode()
    with pytest.raises(NoteFormatError):
        parse_verifier_key(f"{name}+{hex_id}+{wrong_alg}")
    with pytest.raises(NoteFormatError):
        open_note("x\n\n\u2014 n AAAAAAAA\n", "not a key")


@pytest.mark.parametrize(
    "text",
    [
        "origin\n12\n",  # no root line
        "origin\n012\nROOT\n",  # leading zero
        "origin\n+12\nROOT\n",
        "origin\n-1\nROOT\n",
        "origin\n 12\nROOT\n",
        "origin\n1e3\nROOT\n",
        "origin\n\u0661\u0662\nROOT\n",  # non-ASCII digits
        "origin\n18446744073709551616\nROOT\n",  # 2**64
        "origin\n12\nSHORT\n",
        "origin\n12\n" + base64.b64encode(bytes(31)).decode() + "\n",
        "origin\n12\n" + base64.b64encode(bytes(33)).decode() + "\n",
        "origin\n12\nROOT",  # no final newline
        "origin\n12\nROOT\n\n",  # empty line
        "\n12\nROOT\n",  # empty origin
        "origin\n12\nROOT\n\nextra\n",
        "origin\r\n12\nROOT\n",
    ],
)
def test_parse_checkpoint_is_strict(text):
    root = base64.b64encode(ROOT).decode()
    with pytest.raises(NoteFormatError):
        parse_checkpoint(text.replace("ROOT", root))


def test_parse_checkpoint_rejects_non_canonical_base64():
    # Same 32 bytes, but unused low bits of the last character set: not canonical.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    root = base64.b64encode(ROOT).decode()
    tweaked = root[:-2] + alphabet[alphabet.index(root[-2]) ^ 1] + "="
    assert base64.b64decode(tweaked) == ROOT
    with pytest.raises(NoteFormatError):
        parse_checkpoint(f"o\n1\n{tweaked}\n")


def test_checkpoint_body_validates():
    with pytest.raises(NoteFormatError):
        checkpoint_body("", 1, ROOT)
    with pytest.raises(NoteFormatError):
        checkpoint_body("a\nb", 1, ROOT)
    with pytest.raises(NoteFormatError):
        checkpoint_body("o", -1, ROOT)
    with pytest.raises(NoteFormatError):
        checkpoint_body("o", 1, b"short")
    with pytest.raises(NoteFormatError):
        checkpoint_body("o", 1, ROOT, [""])


def test_sign_note_validates_body(key):
    for bad in ("", "no newline", "a\n\nb\n", "\nx\n", "ctl\x00\n"):
        with pytest.raises(NoteFormatError):
            sign_note(bad, NAME, key)


def test_key_loading(key):
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    assert private_key_seed(load_private_key_pem(pem)) == SEED
    assert private_key_seed(load_private_key_pem(pem.decode())) == SEED
    seed_b64 = base64.b64encode(SEED).decode()
    assert private_key_seed(load_private_key_seed(seed_b64)) == SEED
    assert private_key_seed(load_private_key_seed(seed_b64.encode() + b"\n")) == SEED
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert (
        load_public_key_pem(public_pem)
        == public_key_bytes(key)
        == public_key_bytes(key.public_key())
    )
    with pytest.raises(NoteFormatError):
        load_private_key_seed(base64.b64encode(bytes(31)))
    with pytest.raises(NoteFormatError):
        load_private_key_seed("not base64!")
    with pytest.raises(NoteFormatError):
        load_private_key_pem(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    with pytest.raises(NoteFormatError):
        load_public_key_pem(b"garbage")
