"""The offline verifier with witnesses: an export checked against what witnesses cosigned."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from audit.keys import verifier_key
from audit.services import integrate_all
from tests.audit.test_cosignatures import (
    Witnesses,
    log,
    post,
    rewrite_history,
    save_witness_state,
)

REPO = Path(__file__).resolve().parents[2]


def offline(tmp_path, *args: str) -> subprocess.CompletedProcess:
    export = tmp_path / "log.export"
    call_command("audit_export", str(export), stdout=io.StringIO())
    return subprocess.run(
        [sys.executable, "-m", "audit.verify", str(export), "--public-key", verifier_key(), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def witnesses(settings):
    found = Witnesses(2)
    settings.AUDIT_WITNESS_KEYS = found.verifiers
    return found


@pytest.mark.django_db
class TestOfflineWithWitnesses:
    def test_an_export_carries_cosignatures_and_verifies_with_a_quorum(self, witnesses, tmp_path):
        checkpoint = log(5)
        cosigned = witnesses.cosign(checkpoint.note, 0, 1)
        assert post(cosigned).status_code == 201
        save_witness_state(tmp_path / "w.state", cosigned)
        result = offline(
            tmp_path,
            "--witness-key", witnesses.verifiers[0], "--witness-key", witnesses.verifiers[1],
            "--witnessed", str(tmp_path / "w.state"),
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr

    def test_no_quorum_fails(self, witnesses, tmp_path):
        checkpoint = log(3)
        post(witnesses.cosign(checkpoint.note, 0))
        args = ["--witness-key", witnesses.verifiers[0], "--witness-key", witnesses.verifiers[1]]
        result = offline(tmp_path, *args)
        assert result.returncode == 1 and "no_quorum" in result.stdout
        assert offline(tmp_path, *args, "--witness-quorum", "1").returncode == 0

    def test_bad_witness_options_are_usage_errors(self, witnesses, tmp_path):
        log(2)
        assert offline(tmp_path, "--witnessed", str(tmp_path / "w")).returncode == 2
        bad = offline(tmp_path, "--witness-key", "nonsense")
        assert bad.returncode == 2 and "bad witness options" in bad.stderr
        missing = offline(
            tmp_path, "--witness-key", witnesses.verifiers[0], "--witnessed", str(tmp_path / "no")
        )
        assert missing.returncode == 2 and "does not exist" in missing.stderr


@pytest.mark.django_db(transaction=True)
def test_a_rewritten_history_fails_offline_given_the_witness_state(settings, tmp_path):
    witnesses = Witnesses(1)
    settings.AUDIT_WITNESS_KEYS = witnesses.verifiers
    checkpoint = log(6)
    cosigned = witnesses.cosign(checkpoint.note, 0)
    assert post(cosigned).status_code == 201
    save_witness_state(tmp_path / "w.state", cosigned)
    key = ["--witness-key", witnesses.verifiers[0]]
    assert offline(tmp_path, *key, "--witnessed", str(tmp_path / "w.state")).returncode == 0

    rewrite_history(2, "court")
    integrate_all()  # the insider signs a fresh checkpoint of the rewritten log
    assert offline(tmp_path).returncode == 0  # without witnesses: the hole
    caught = offline(tmp_path, *key, "--witnessed", str(tmp_path / "w.state"))
    assert caught.returncode == 1 and "inconsistent" in caught.stdout
    assert "no_quorum" in offline(tmp_path, *key).stdout
