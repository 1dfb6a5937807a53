"""A fresh clone runs every test with nothing beside it."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VECTORS = REPO / "tests" / "audit" / "vectors" / "rfc6962"


def tracked_files() -> list[Path]:
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout.decode()
    return [REPO / name for name in listing.split("\0") if name]


def test_nothing_reads_outside_the_repository():
    outside = "../" + "shared"  # spelled in two so this file does not find itself
    readers = [
        str(path.relative_to(REPO))
        for path in tracked_files()
        if path.suffix in {".py", ".sh", ".toml", ".cfg", ".ini", ""}
        and path.is_file()
        and outside in path.read_text(encoding="utf-8", errors="replace")
    ]
    assert readers == []


def test_the_merkle_vectors_are_carried_with_their_licence():
    assert "Apache License" in (VECTORS / "LICENSE").read_text(encoding="utf-8")
    assert len(list((VECTORS / "inclusion").glob("**/*.json"))) > 10
    assert len(list((VECTORS / "consistency").glob("**/*.json"))) > 10
