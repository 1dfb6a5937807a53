"""What a regulator and a reviewer see: hashes in hex, proofs, verification, findings, visits."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.test import Client
from django.urls import reverse

from audit import selectors
from audit.actions import AuditAction
from audit.models import AuditEntry, Checkpoint
from audit.services import integrate_all, verification_run
from gateway.models import AppealOutcome
from gateway.services.appeals import appeal_decide

HEX_SHORT = re.compile(r'<code title="([0-9a-f]{64})">([0-9a-f]{12})…</code>')


def regulator_client(people) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(people.reg.user)
    return client


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_an_entry_shows_its_hashes_in_hex_and_its_verified_inclusion_proof(people):
    people.file(people.deduct())
    integrate_all()
    client = regulator_client(people)
    entry = AuditEntry.objects.filter(sequence__isnull=False).order_by("sequence")[1]
    html = page(client.get(reverse("admin:audit_auditentry_change", args=[entry.pk])))
    assert "b&#x27;" not in html and "\\x" not in html  # no Python byte strings
    shown = HEX_SHORT.findall(html)
    assert (bytes(entry.leaf_hash).hex(), bytes(entry.leaf_hash).hex()[:12]) in shown
    # The leaf hash once, not twice.
    assert html.count(bytes(entry.leaf_hash).hex()) == 2  # its title and its copy button
    assert 'data-copy="' + bytes(entry.leaf_hash).hex() + '"' in html
    assert "audit/admin.js" in html and "<script>" not in html
    assert "audit-ok" in html and "verified against the latest checkpoint" in html
    checkpoint = Checkpoint.objects.order_by("-size").first()
    assert bytes(checkpoint.root_hash).hex() in html


def test_an_entry_whose_content_changed_fails_its_check(people):
    people.deduct()
    integrate_all()
    entry = AuditEntry.objects.filter(sequence__isnull=False).order_by("sequence").first()
    assert selectors.entry_proof(entry).verified
    # The log's tables refuse updates (triggers): a row read back changed is what a
    # database edited behind the gateway's back would show.
    entry.actor_id = "someone-else"
    proof = selectors.entry_proof(entry)
    assert not proof.verified and proof.problem == "leaf"


def test_an_entry_not_yet_integrated_says_so(people):
    people.deduct()
    entry = AuditEntry.objects.filter(sequence__isnull=True).first()
    html = page(
        regulator_client(people).get(reverse("admin:audit_auditentry_change", args=[entry.pk]))
    )
    assert "audit-failed" in html and "queued for the integrator" in html


def test_the_index_shows_the_last_verification(people):
    people.deduct()
    integrate_all()
    client = regulator_client(people)
    html = page(client.get(reverse("admin:index")))
    assert "has not been verified yet" in html
    verification_run()
    html = page(client.get(reverse("admin:index")))
    assert "audit-verification-status" in html and "audit-ok" in html
    assert reverse("admin:findings") in html


def test_the_findings_report_shows_tables_charts_and_exports_csv(people):
    appeal = people.file(people.deduct())
    appeal_decide(appeal=appeal, reviewer=people.rev_tax.user, outcome="overturned", reason="x")
    client = regulator_client(people)
    html = page(client.get(reverse("admin:findings")))
    assert html.count("<svg") >= 6
    assert "Deductions by rule" in html and "Objections" in html
    assert str(AppealOutcome.OVERTURNED.label) in html
    response = client.get(reverse("admin:findings_csv"))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    tables = {row[0] for row in rows[1:]}
    assert {"deductions_by_rule", "appeal_outcomes", "decisions"} <= tables


def test_the_findings_report_is_for_regulators_only(people):
    client = Client()
    client.force_login(people.rev_tax.user)
    response = client.get(reverse("admin:findings"))
    assert response.status_code in (302, 403)


@pytest.mark.parametrize("pages", [("queue", "review", "queue"), ("review", "review")])
def test_one_reviewer_visit_is_one_access(people, pages):
    appeal = people.file(people.deduct())
    client = Client()
    client.force_login(people.rev_tax.user)
    for name in pages:
        args = [appeal.pk] if name == "review" else []
        assert client.get(reverse(f"portal:{name}", args=args)).status_code == 200
    reads = AuditEntry.objects.filter(
        action=AuditAction.DATA_READ_BY_REVIEWER, object_ref=f"appeal:{appeal.pk}"
    )
    assert reads.count() == 1
    # A new visit (a new login) is a new access.
    again = Client()
    again.force_login(people.rev_tax.user)
    again.get(reverse("portal:review", args=[appeal.pk]))
    assert reads.count() == 2
