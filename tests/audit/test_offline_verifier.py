"""The offline verifier, run as ``python -m audit.verify`` on export files."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.canonical import GENESIS_PREVIOUS_HASH, encode_entry
from audit.merkle import EMPTY_ROOT, root_from_leaf_hashes
from audit.note import checkpoint_body, sign_note, verifier_key
from audit.verify import read_export, verify_export, verify_log

REPO = Path(__file__).resolve().parents[2]
ORIGIN = "audit.city.example/credit-log"
SIGNING_KEY = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"test signing key").digest())
VKEY = verifier_key(ORIGIN, SIGNING_KEY.public_key())
N = 40
CHECKPOINTS = (10, 25, 40)


# --- helpers: build logs and export files independently of audit.verify ----------------


def _leaf(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def _fields(i: int, note: str = "") -> dict:
    return {
        "action": "credit.score.read",
        "actor": f"clerk-{i % 7}",
        "basis": "municipal-credit-ordinance-12",
        "note": note,
        "purpose": "loan-eligibility",
        "request_id": hashlib.sha256(b"request %d" % i).hexdigest()[:32],
        "subject": hashlib.sha256(b"citizen %d" % (i % 11)).hexdigest()[:32],
        "ts": f"2025-03-01T10:{i // 60 % 60:02d}:{i % 60:02d}Z",
    }


def chain(fields: list[dict], start: int = 0, previous: bytes = GENESIS_PREVIOUS_HASH):
    """Encode ``fields`` as a correctly chained run of entries."""
    entries = []
    for offset, f in enumerate(fields):
        entry = encode_entry(start + offset, previous, f)
        entries.append(entry)
        previous = _leaf(entry)
    return entries


def make_log(n: int = N) -> list[bytes]:
    return chain([_fields(i) for i in range(n)])


def checkpoint(entries: list[bytes], size: int, key=SIGNING_KEY, name=ORIGIN) -> str:
    root = root_from_leaf_hashes([_leaf(e) for e in entries[:size]])
    return sign_note(checkpoint_body(ORIGIN, size, root), name, key)


def export_bytes(entries, checkpoints, *, size=None, origin=ORIGIN, vkey=VKEY) -> bytes:
    header = {
        "origin": origin,
        "size": len(entries) if size is None else size,
        "checkpoints": list(checkpoints),
        "verifier_key": vkey,
    }
    out = [b"audit-export v1\n", json.dumps(header).encode("utf-8") + b"\n"]
    for e in entries:
        out.append(struct.pack(">I", len(e)) + e)
    return b"".join(out)


def run_verify(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "audit.verify", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def log() -> list[bytes]:
    return make_log()


@pytest.fixture
def good_checkpoints(log) -> list[str]:
    return [checkpoint(log, s) for s in CHECKPOINTS]


@pytest.fixture
def verify_file(tmp_path):
    def verify(data: bytes, key: str = VKEY) -> subprocess.CompletedProcess:
        path = tmp_path / "audit.export"
        path.write_bytes(data)
        return run_verify(str(path), "--public-key", key)

    return verify


def assert_fail_at(result: subprocess.CompletedProcess, index: int, *words: str) -> None:
    assert result.returncode == 1, (result.stdout, result.stderr)
    line = result.stdout.strip()
    assert line.startswith(f"FAIL at index {index}:"), line
    assert "\n" not in line
    for word in words:
        assert word in line, line


# --- the command line -------------------------------------------------------------------


def test_good_log_is_ok(verify_file, log, good_checkpoints):
    result = verify_file(export_bytes(log, good_checkpoints))
    assert result.returncode == 0, (result.stdout, result.stderr)
    line = result.stdout.strip()
    assert line.startswith("OK ")
    assert f"{N} entries" in line and "3 checkpoints" in line
    assert root_from_leaf_hashes([_leaf(e) for e in log]).hex() in line


def test_edited_entry_is_named(verify_file, log, good_checkpoints):
    entries = list(log)
    # Same position and link, different body: entry 17's leaf hash changes.
    entries[17] = encode_entry(17, entries[17][9:41], _fields(17, note="amended"))
    result = verify_file(export_bytes(entries, good_checkpoints))
    assert_fail_at(result, 17, "entry 17")


def test_reordered_entries(verify_file, log, good_checkpoints):
    entries = list(log)
    entries[20], entries[21] = entries[21], entries[20]
    assert_fail_at(verify_file(export_bytes(entries, good_checkpoints)), 20, "sequence")


def test_deleted_entry(verify_file, log, good_checkpoints):
    entries = log[:30] + log[31:]
    assert_fail_at(verify_file(export_bytes(entries, good_checkpoints)), 30, "sequence")


def test_deleted_first_entry(verify_file, log, good_checkpoints):
    assert_fail_at(verify_file(export_bytes(log[1:], good_checkpoints)), 0)


def test_truncated_tail_after_checkpoint(verify_file, log, good_checkpoints):
    result = verify_file(export_bytes(log[:33], good_checkpoints))
    assert_fail_at(result, 33, "missing")


def test_truncated_to_exactly_a_checkpoint_is_caught_by_the_later_one(verify_file, log):
    checkpoints = [checkpoint(log, s) for s in CHECKPOINTS]
    assert_fail_at(verify_file(export_bytes(log[:25], checkpoints)), 25, "missing")


def test_forged_checkpoint(verify_file, log, good_checkpoints):
    impostor = Ed25519PrivateKey.generate()
    checkpoints = list(good_checkpoints)
    checkpoints[1] = checkpoint(log, 25, key=impostor)  # same name, different key
    result = verify_file(export_bytes(log, checkpoints))
    assert_fail_at(result, 10, "checkpoint 2")


def test_checkpoint_with_altered_root(verify_file, log, good_checkpoints):
    checkpoints = list(good_checkpoints)
    lines = checkpoints[2].split("\n")
    other_root = root_from_leaf_hashes([_leaf(e) for e in log[:39]])
    lines[2] = base64.b64encode(other_root).decode()
    checkpoints[2] = "\n".join(lines)
    result = verify_file(export_bytes(log, checkpoints))
    assert_fail_at(result, 25, "checkpoint 3", "signature")


def test_rewritten_and_rechained_history(verify_file, log, good_checkpoints):
    # An insider rewrites entry 30 and rebuilds the chain after it: every link checks
    # out, but the signed checkpoint for size 40 no longer matches entries [25, 40).
    fields = [_fields(i) for i in range(N)]
    fields[30] = _fields(30, note="rewritten")
    entries = chain(fields)
    assert entries[:30] == log[:30]
    result = verify_file(export_bytes(entries, good_checkpoints))
    assert_fail_at(result, 25, "[25, 40)")


def test_edited_last_entry(verify_file, log, good_checkpoints):
    entries = list(log)
    entries[-1] = encode_entry(N - 1, entries[-1][9:41], _fields(N - 1, note="changed"))
    assert_fail_at(verify_file(export_bytes(entries, good_checkpoints)), 25, "checkpoint 3")


def test_wrong_trusted_key(verify_file, log, good_checkpoints):
    other = verifier_key(ORIGIN, Ed25519PrivateKey.generate().public_key())
    result = verify_file(export_bytes(log, good_checkpoints), key=other)
    assert_fail_at(result, 0, "checkpoint 1")


def test_export_cut_inside_a_record(verify_file, log, good_checkpoints):
    data = export_bytes(log, good_checkpoints)
    cut = data[: len(data) - len(log[-1]) - 4 - len(log[-2]) // 2]  # inside record 38
    assert_fail_at(verify_file(cut), 38, "cut short")


def test_garbage_file(verify_file):
    result = verify_file(b"\x89PNG\r\n\x1a\n not an export at all")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "not an audit export" in result.stderr
    assert "Traceback" not in result.stderr


def test_garbage_header(verify_file):
    result = verify_file(b"audit-export v1\n{not json\n")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_missing_file(tmp_path):
    result = run_verify(str(tmp_path / "nope.export"), "--public-key", VKEY)
    assert result.returncode == 2
    assert "cannot read" in result.stderr and "Traceback" not in result.stderr


def test_bad_public_key_argument(verify_file, log, good_checkpoints):
    result = verify_file(export_bytes(log, good_checkpoints), key="not-a-key")
    assert result.returncode == 2
    assert "public-key" in result.stderr and "Traceback" not in result.stderr


def test_missing_arguments():
    result = run_verify()
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_public_key_from_files(tmp_path, log, good_checkpoints):
    export = tmp_path / "audit.export"
    export.write_bytes(export_bytes(log, good_checkpoints))
    key_file = tmp_path / "log.vkey"
    key_file.write_text(VKEY + "\n")
    pem_file = tmp_path / "log.pub.pem"
    pem_file.write_bytes(
        SIGNING_KEY.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    for key in (key_file, pem_file):
        result = run_verify(str(export), "--public-key", str(key))
        assert result.returncode == 0, (key, result.stdout, result.stderr)
        assert result.stdout.startswith("OK ")


# --- the reusable core, in process -------------------------------------------------------


def test_verify_log_accepts_memoryviews_and_generators(log, good_checkpoints):
    result = verify_log((memoryview(e) for e in log), good_checkpoints, VKEY)
    assert result.ok and result.size == N and result.checkpoints_checked == 3
    assert result.first_bad_index is None
    assert result.latest_root == root_from_leaf_hashes([_leaf(e) for e in log])
    assert result.latest_checkpoint_size == N


def test_unsigned_tail_is_reported_but_ok(log, good_checkpoints):
    more = chain([_fields(i) for i in range(N, N + 5)], start=N, previous=_leaf(log[-1]))
    result = verify_log(log + more, good_checkpoints, VKEY)
    assert result.ok
    assert "5 entries after the latest checkpoint" in result.message


def test_no_checkpoint(log):
    result = verify_log(log, [], VKEY)
    assert not result.ok and result.first_bad_index == 0
    assert verify_log(log, [], VKEY, require_checkpoint=False).ok


def test_empty_log():
    empty = sign_note(checkpoint_body(ORIGIN, 0, EMPTY_ROOT), ORIGIN, SIGNING_KEY)
    result = verify_log([], [empty], VKEY)
    assert result.ok and result.size == 0 and result.latest_root == EMPTY_ROOT


def test_checkpoint_growth_from_zero_and_repeats(log):
    empty = sign_note(checkpoint_body(ORIGIN, 0, EMPTY_ROOT), ORIGIN, SIGNING_KEY)
    notes = [empty, checkpoint(log, 1), checkpoint(log, 1), checkpoint(log, 7), checkpoint(log, N)]
    assert verify_log(log, notes, VKEY).ok


def test_checkpoints_out_of_order(log):
    result = verify_log(log, [checkpoint(log, 25), checkpoint(log, 10)], VKEY)
    assert not result.ok and result.first_bad_index == 10 and "smaller" in result.message


def test_origin_mismatch(log):
    note = sign_note(
        checkpoint_body(
            "someone.else/log", 10, root_from_leaf_hashes([_leaf(e) for e in log[:10]])
        ),
        ORIGIN,
        SIGNING_KEY,
    )
    result = verify_log(log, [checkpoint(log, 5), note], VKEY, origin=ORIGIN)
    assert not result.ok and result.first_bad_index == 5 and "origin" in result.message


def test_bad_version_byte(log, good_checkpoints):
    entries = list(log)
    entries[12] = b"\x02" + entries[12][1:]
    result = verify_log(entries, good_checkpoints, VKEY)
    assert not result.ok and result.first_bad_index == 12 and "version" in result.message


def test_short_entry(log, good_checkpoints):
    entries = list(log)
    entries[3] = entries[3][:20]
    result = verify_log(entries, good_checkpoints, VKEY)
    assert not result.ok and result.first_bad_index == 3


def test_first_entry_must_start_the_chain(log, good_checkpoints):
    entries = list(log)
    entries[0] = encode_entry(0, b"\x01" * 32, _fields(0))
    result = verify_log(entries, good_checkpoints, VKEY)
    assert not result.ok and result.first_bad_index == 0


def test_inserted_duplicate(log, good_checkpoints):
    entries = [*log[:8], log[7], *log[8:]]
    result = verify_log(entries, good_checkpoints, VKEY)
    assert not result.ok and result.first_bad_index == 8


def test_earliest_failure_wins(log, good_checkpoints):
    impostor = Ed25519PrivateKey.generate()
    checkpoints = list(good_checkpoints)
    checkpoints[2] = checkpoint(log, 40, key=impostor)  # bad, but covers [25, 40)
    entries = list(log)
    entries[5], entries[6] = entries[6], entries[5]
    result = verify_log(entries, checkpoints, VKEY)
    assert result.first_bad_index == 5
    entries = list(log)
    entries[33], entries[34] = entries[34], entries[33]
    result = verify_log(entries, checkpoints, VKEY)
    assert result.first_bad_index == 25 and "checkpoint 3" in result.message


def test_trailing_bytes_in_export(tmp_path, log, good_checkpoints):
    path = tmp_path / "x.export"
    path.write_bytes(export_bytes(log, good_checkpoints) + b"\x00\x00\x00\x05hello")
    result = verify_export(read_export(path), VKEY)
    assert not result.ok and result.first_bad_index == N and "unexpected" in result.message


def test_header_declares_more_entries_than_present(tmp_path, log, good_checkpoints):
    path = tmp_path / "x.export"
    path.write_bytes(export_bytes(log[:30], good_checkpoints[:2], size=N))
    result = verify_export(read_export(path), VKEY)
    assert not result.ok and result.first_bad_index == 30


# --- export format version 2: position-free entries, streamed ---------------------------------


def v2_log(n: int = N) -> list[bytes]:
    return [b"\x02" + json.dumps(_fields(i), sort_keys=True).encode() for i in range(n)]


def v2_export(tmp_path, entries, sizes, *, cut: int = 0, extra: bytes = b"") -> Path:
    from audit.verify import ExportWriter

    buf = io.BytesIO()
    writer = ExportWriter(
        buf, origin=ORIGIN, size=max(sizes), verifier_key=VKEY,
        exported_at="2026-12-03T10:00:00+08:00", checkpoints=len(sizes),
    )  # fmt: skip
    done = 0
    for size in sorted(sizes):
        writer.entries(entries[done:size])
        writer.checkpoint(checkpoint(entries, size))
        done = size
    data = buf.getvalue()
    path = tmp_path / "v2.export"
    path.write_bytes((data[:-cut] if cut else data) + extra)
    return path


def test_v2_export_verifies_from_the_command_line(tmp_path):
    path = v2_export(tmp_path, v2_log(), CHECKPOINTS)
    result = run_verify(str(path), "--public-key", VKEY)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"OK {ORIGIN}: {N} entries, 3 checkpoints verified")


def test_v2_rewritten_entry_is_caught_in_its_checkpoint_range(tmp_path):
    entries = v2_log()
    good = [checkpoint(entries, s) for s in CHECKPOINTS]
    entries[30] = b"\x02" + json.dumps(_fields(30, note="rewritten")).encode()
    result = verify_log(entries, good, VKEY)
    assert not result.ok and result.first_bad_index == 25
    assert "entries [25, 40) differ" in result.message


def test_v2_export_cut_short_or_with_trailing_bytes(tmp_path):
    from audit.verify import verify_export_file

    cut = verify_export_file(v2_export(tmp_path, v2_log(), CHECKPOINTS, cut=10), VKEY)
    assert not cut.ok and "ends before record" in cut.message
    trailing = verify_export_file(
        v2_export(tmp_path, v2_log(), CHECKPOINTS, extra=b"E\x00\x00\x00\x01x"), VKEY
    )
    assert not trailing.ok and "unexpected data" in trailing.message


def test_version_1_then_version_2_verifies_but_not_the_reverse():
    mixed = make_log(20) + v2_log(20)
    good = [checkpoint(mixed, s) for s in (10, 25, 40)]
    assert verify_log(mixed, good, VKEY).ok
    reversed_kinds = v2_log(20) + chain([_fields(i) for i in range(20)], start=20)
    bad = verify_log(reversed_kinds, [checkpoint(reversed_kinds, 40)], VKEY)
    assert not bad.ok and bad.first_bad_index == 0 and "version 1 entry after" in bad.message


def test_streaming_verifies_many_chunks_with_checkpoints_inside_them():
    from audit import verify as verify_module

    entries = v2_log(1000)
    sizes = (1, 7, 300, 301, 512, 999, 1000)
    notes = [checkpoint(entries, s) for s in sizes]
    original = verify_module.CHUNK
    verify_module.CHUNK = 64
    try:
        result = verify_log(iter(entries), iter(notes), VKEY)
    finally:
        verify_module.CHUNK = original
    assert result.ok and result.checkpoints_checked == len(sizes), result.line()
