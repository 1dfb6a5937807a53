"""verify-receipts FILE: every accepted batch's receipt, proved included in the log.

For each receipt the gateway answers ``GET /api/v1/audit/receipts/{leaf_hash}`` with
``{"leaf_hash", "status", "index", "tree_size", "inclusion_proof": [hex...],
"checkpoint"}``: 404 while unknown, no index or no checkpoint yet while pending. The
proof must lead from the leaf hash to the root of the checkpoint, the checkpoint must be
signed by the log's key, and cosigned by every witness key given (C2SP tlog-cosignature
v1).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from credit_gateway_client.proofs import (
    LogKey,
    ProofError,
    WitnessKey,
    open_checkpoint,
    verify_inclusion,
)
from credit_gateway_client.transport import Gateway

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class ReceiptReport:
    counts: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.counts["failed"] or self.counts["unknown"]:
            return 1
        return 4 if self.counts["pending"] else 0


def receipt_check(
    gateway: Gateway, log_key: LogKey, leaf_hash_hex: str, witnesses: tuple[WitnessKey, ...] = ()
) -> str:
    """'verified', 'pending' or 'unknown'; ProofError when the proof does not hold."""
    if not _HEX64.match(leaf_hash_hex):
        raise ProofError("the receipt's leaf hash is not 64 hex digits")
    answer = gateway.request("GET", f"/api/v1/audit/receipts/{leaf_hash_hex}")
    if answer.status == 404:
        return "unknown"
    if answer.status != 200 or not isinstance(answer.payload, dict):
        raise ProofError(f"the gateway answered {answer.status}")
    proof = answer.payload
    # Queued, or sequenced but not yet under a signed checkpoint.
    if proof.get("index") is None or not proof.get("checkpoint"):
        return "pending"
    checkpoint = open_checkpoint(proof.get("checkpoint") or "", log_key, witnesses)
    if proof.get("leaf_hash") != leaf_hash_hex or checkpoint.size != proof.get("tree_size"):
        raise ProofError("the proof is for another leaf or another tree size")
    try:
        path = [bytes.fromhex(node) for node in proof.get("inclusion_proof") or []]
    except (TypeError, ValueError):
        raise ProofError("the proof's hashes are not hex") from None
    verify_inclusion(
        proof["index"], checkpoint.size, bytes.fromhex(leaf_hash_hex), path, checkpoint.root
    )
    return "verified"


def verify_receipts(
    results: Path, gateway: Gateway, log_key: LogKey, witnesses: tuple[WitnessKey, ...] = ()
) -> ReceiptReport:
    report = ReceiptReport()
    seen = set()
    with Path(results).open(encoding="utf-8") as stream:
        for line in stream:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            receipt = entry.get("receipt") if entry.get("status") == 201 else None
            if not isinstance(receipt, dict) or receipt.get("leaf_hash") in seen:
                continue
            leaf = str(receipt.get("leaf_hash", ""))
            seen.add(leaf)
            try:
                outcome = receipt_check(gateway, log_key, leaf, witnesses)
            except ProofError as error:
                outcome = "failed"
                report.failures.append(f"batch {entry.get('batch')}: {error}")
            report.counts[outcome] += 1
    return report
