"""The demo city as `make demo` loads it, and the README's examples run against it verbatim.

The examples are read out of README.md ("The demo city"), so they cannot drift from what
the gateway answers: each ``sh`` block runs in bash with curl against a live test server
seeded by ``seed_demo``, with only the server's address and the credentials file's place
put in for the demo's.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from audit.merkle import verify_consistency, verify_inclusion
from compliance.models import EligibilityThreshold
from fixtures import demo_data
from gateway.identity import vault
from gateway.models import (
    Account,
    Appeal,
    AppealOutcome,
    AppealStatus,
    Citizen,
    RepairApplication,
    RepairStatus,
    Role,
    Score,
)
from gateway.selectors import department_snapshot, events_disclosed_to_departments, score_snapshot

README = Path(__file__).resolve().parents[1] / "README.md"
DEMO_URL = "http://127.0.0.1:8000"
CREDENTIALS = "var/demo-credentials.json"


def readme_blocks() -> list[str]:
    text = README.read_text()
    section = text[text.index("### The demo city") : text.index("## The department API")]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.S)


def json_values(text: str) -> list:
    decoder, values, at = json.JSONDecoder(), [], 0
    while at < len(text.strip()):
        while text[at].isspace():
            at += 1
        value, at = decoder.raw_decode(text, at)
        values.append(value)
        if at >= len(text.strip()):
            break
    return values


@pytest.fixture
def seeded(settings, tmp_path, transactional_db):
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", "--quiet-credentials")
    return tmp_path


def citizen(story: str) -> Citizen:
    number = demo_data.story_residents(demo_data.synthetic_residents())[story]["citizen_id"]
    return Citizen.objects.get(identity_index=vault().blind_index(number))


def test_the_demo_tells_a_story(seeded):
    # Five years of history, not one day's.
    years = Counter(event.occurred_at.year for event in citizen("open").events.all()) + Counter(
        event.occurred_at.year for event in citizen("high").events.all()
    )
    assert len(years) >= 5
    # Each demo login belongs to a story resident.
    logins = {a.user.username: a for a in Account.objects.filter(role=Role.CITIZEN)}
    assert logins["resident1"].citizen == citizen("open")
    assert logins["resident2"].citizen == citizen("high")
    assert logins["resident3"].citizen == citizen("low")
    # Above and below each threshold.
    scores = {s: Score.objects.get(citizen=citizen(s)).score for s in demo_data.STORIES}
    for threshold in EligibilityThreshold.objects.all():
        assert scores["high"] >= threshold.minimum_score > scores["low"]
    assert 105 <= scores["open"] < 110
    everyone = list(Score.objects.values_list("score", flat=True))
    for threshold in EligibilityThreshold.objects.all():
        assert sum(s >= threshold.minimum_score for s in everyone) >= 2
        assert sum(s < threshold.minimum_score for s in everyone) >= 3
    # An open objection before a demo reviewer, an overturned one, a repair.
    open_appeal = Appeal.objects.get(citizen=citizen("open"))
    assert open_appeal.status == AppealStatus.PENDING
    assert open_appeal.reviewer.username.startswith("reviewer_")
    assert Appeal.objects.get(citizen=citizen("high")).outcome == AppealOutcome.OVERTURNED
    repair = RepairApplication.objects.get(citizen=citizen("low"))
    assert repair.status == RepairStatus.CONFIRMED


def test_a_second_run_tells_nothing_twice(seeded):
    appeals, repairs = Appeal.objects.count(), RepairApplication.objects.count()
    call_command("seed_demo", "--quiet-credentials")
    assert (Appeal.objects.count(), RepairApplication.objects.count()) == (appeals, repairs)


@pytest.mark.skipif(shutil.which("curl") is None, reason="the README's examples use curl")
def test_the_readme_examples_run_verbatim_against_the_demo(seeded, live_server):
    variables, submission, read, proofs = readme_blocks()

    def run(block: str) -> list:
        script = (variables + block).replace(DEMO_URL, live_server.url)
        script = script.replace(CREDENTIALS, str(seeded / "demo-credentials.json"))
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return json_values(done.stdout)

    [accepted] = run(submission)
    assert accepted["accepted"] == 1, accepted
    assert re.fullmatch(r"[0-9a-f]{64}", accepted["receipt"]["leaf_hash"])
    [replayed] = run(submission)
    assert replayed == accepted

    sample = citizen("open")
    resident_before = score_snapshot(sample.pk, now=timezone.now()).score
    [score] = run(read)
    # What departments are told: the story's deductions within their publication period,
    # and not yet the one the example submitted, whose notice comes first (CRR 15); the
    # resident's own score counts it at once.
    now = timezone.now()
    assert score["score"] == department_snapshot(sample.pk, now=now).score, score
    assert resident_before == score_snapshot(sample.pk, now=now).score
    event = sample.events.order_by("-pk").first()
    assert event.rule.code == "traffic.failure_to_yield"
    assert event.pk not in events_disclosed_to_departments(sample.pk, now)

    checkpoint, inclusion, consistency = run(proofs)
    assert checkpoint["size"] >= 8, checkpoint
    hexes = bytes.fromhex
    assert verify_inclusion(
        hexes(inclusion["leaf_hash"]),
        0,
        8,
        [hexes(h) for h in inclusion["proof"]],
        hexes(inclusion["root_hash"]),
    )
    assert verify_consistency(
        4,
        8,
        hexes(consistency["from_root_hash"]),
        hexes(consistency["to_root_hash"]),
        [hexes(h) for h in consistency["proof"]],
    )
    assert consistency["to_root_hash"] == inclusion["root_hash"]
