"""Retries, signing on the wire, and verify-receipts, against a stub gateway."""

import base64
import json

import pytest
from client_test_support import log_key, sign_checkpoint
from credit_gateway_client.cli import main
from credit_gateway_client.proofs import LogKey, leaf_hash, node_hash
from credit_gateway_client.signing import Signer
from credit_gateway_client.transport import Gateway, GatewayUnavailable
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def gateway(stub, **kwargs):
    kwargs.setdefault("sleep", lambda seconds: None)
    return Gateway(stub.url, api_key="k.secret", lang="en", **kwargs)


def test_it_retries_429_503_and_dropped_connections_then_succeeds(stub):
    stub.answers = [
        (429, {"error": "throttled"}, {"Retry-After": "2"}),
        (503, {"error": "busy"}, {}),
        "drop",
        (201, {"accepted": 1}, {}),
    ]
    waits = []
    signer = Signer(Ed25519PrivateKey.generate())
    answer = gateway(stub, signer=signer, sleep=waits.append).submit(b'{"records":[]}')
    assert answer.status == 201
    assert len(stub.requests) == 4
    assert waits[0] >= 2  # Retry-After is honoured
    first, last = stub.requests[0]["headers"], stub.requests[-1]["headers"]
    assert last["Authorization"] == "Api-Key k.secret"
    assert last["Accept-Language"] == "en"
    assert last["Content-Digest"].startswith("sha-256=:")
    assert 'keyid="' in last["Signature-Input"] and first["Signature"]


def test_it_gives_up_after_the_last_attempt(stub):
    stub.default = (503, {"error": "busy"}, {})
    with pytest.raises(GatewayUnavailable):
        gateway(stub, max_attempts=3).submit(b"{}")
    assert len(stub.requests) == 3


def test_a_refusal_is_not_retried(stub):
    stub.answers = [(400, {"error": "invalid", "problems": []}, {})]
    assert gateway(stub).submit(b"{}").status == 400
    assert len(stub.requests) == 1


def test_an_unreachable_gateway_is_reported():
    unreachable = Gateway("http://127.0.0.1:9", sleep=lambda s: None, max_attempts=2)
    with pytest.raises(GatewayUnavailable):
        unreachable.submit(b"{}")


def tree_of_four(receipt_leaf):
    leaves = [leaf_hash(b"a"), receipt_leaf, leaf_hash(b"c"), leaf_hash(b"d")]
    root = node_hash(node_hash(leaves[0], leaves[1]), node_hash(leaves[2], leaves[3]))
    proof = [leaves[0].hex(), node_hash(leaves[2], leaves[3]).hex()]
    return root, proof


def results_file(tmp_path, leaves):
    path = tmp_path / "r.jsonl"
    lines = [{"file_sha256": "x", "file": "f.csv"}]
    lines += [
        {"batch": i, "status": 201, "receipt": {"leaf_hash": leaf.hex()}}
        for i, leaf in enumerate(leaves)
    ]
    lines.append({"batch": 9, "status": 400, "error": "invalid"})
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    return path


def run_verify(stub, path, key_text):
    return main(["--url", stub.url, "verify-receipts", str(path), "--log-key", key_text])


def test_verify_receipts_proves_inclusion_and_names_what_fails(stub, tmp_path, capsys):
    private, key_id, key_text = log_key()
    good = leaf_hash(b"batch-0")
    root, proof = tree_of_four(good)
    note = sign_checkpoint(private, key_id, "credit-gateway-audit", 4, root)
    stub.routes[f"/api/v1/audit/receipts/{good.hex()}"] = (
        200,
        {"leaf_hash": good.hex(), "index": 1, "tree_size": 4, "inclusion_proof": proof,
         "checkpoint": note},
        {},
    )  # fmt: skip
    path = results_file(tmp_path, [good])
    assert run_verify(stub, path, key_text) == 0
    assert "1 receipts verified" in capsys.readouterr().out

    forged = leaf_hash(b"forged")
    stub.routes[f"/api/v1/audit/receipts/{forged.hex()}"] = (
        200,
        {"leaf_hash": forged.hex(), "index": 1, "tree_size": 4, "inclusion_proof": proof,
         "checkpoint": note},
        {},
    )  # fmt: skip
    assert run_verify(stub, results_file(tmp_path, [good, forged]), key_text) == 1
    assert "FAIL batch 1" in capsys.readouterr().out


def test_pending_and_unknown_receipts_are_told_apart(stub, tmp_path, capsys):
    _, _, key_text = log_key()
    pending, unknown = leaf_hash(b"p"), leaf_hash(b"u")
    stub.routes[f"/api/v1/audit/receipts/{pending.hex()}"] = (
        200, {"leaf_hash": pending.hex(), "index": None}, {}
    )  # fmt: skip
    stub.routes[f"/api/v1/audit/receipts/{unknown.hex()}"] = (404, {"error": "not_found"}, {})
    assert run_verify(stub, results_file(tmp_path, [pending]), key_text) == 4
    assert run_verify(stub, results_file(tmp_path, [unknown]), key_text) == 1
    assert "1 unknown" in capsys.readouterr().out


def test_a_checkpoint_signed_by_another_key_fails(stub, tmp_path):
    _, _, key_text = log_key()
    other, other_id, _ = log_key()
    good = leaf_hash(b"batch-0")
    root, proof = tree_of_four(good)
    note = sign_checkpoint(other, other_id, "credit-gateway-audit", 4, root)
    stub.routes[f"/api/v1/audit/receipts/{good.hex()}"] = (
        200,
        {"leaf_hash": good.hex(), "index": 1, "tree_size": 4, "inclusion_proof": proof,
         "checkpoint": note},
        {},
    )  # fmt: skip
    assert run_verify(stub, results_file(tmp_path, [good]), key_text) == 1


def test_a_bad_log_key_is_a_usage_error(stub, tmp_path):
    assert run_verify(stub, results_file(tmp_path, []), "nonsense") == 2
    assert isinstance(LogKey, type)


def test_keygen_prints_the_public_key_and_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "k.pem"
    assert main(["keygen", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "department_signing_key add" in printed
    public = printed.split("public key: ")[1].split()[0]
    assert len(base64.b64decode(public)) == 32
    assert oct(out.stat().st_mode)[-3:] == "600"
    with pytest.raises(FileExistsError):
        main(["keygen", "--out", str(out)])


def test_read_score_sends_the_number_in_the_body_never_the_url(stub, capsys):
    stub.answers = [(200, {"score": 97, "as_of": "2026-12-01T00:00:00+08:00"}, {})]
    code = main(["--url", stub.url, "--api-key", "k.s", "read-score", "--purpose", "loan",
                 "--citizen-id", "320505199003074510"])  # fmt: skip
    assert code == 0
    request = stub.requests[0]
    assert request["path"] == "/api/v1/score-queries"
    assert "320505199003074510" not in request["path"]
    assert json.loads(request["body"]) == {"citizen_id": "320505199003074510", "purpose": "loan"}
    assert '"score": 97' in capsys.readouterr().out


def test_read_score_shows_the_gateways_refusal_and_fails(stub, capsys):
    stub.answers = [(403, {"error": "purpose_not_granted", "message": "未授予该目的"}, {})]
    code = main(["--url", stub.url, "read-score", "--purpose", "x", "--citizen-id", "1"])
    assert code == 1
    assert "purpose_not_granted" in capsys.readouterr().out
