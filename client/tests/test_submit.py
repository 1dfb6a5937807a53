"""submit FILE against a stub gateway: sources, mapping, batching, resume, results."""

import csv
import json

import pytest
from credit_gateway_client.cli import main
from credit_gateway_client.signing import Signer
from credit_gateway_client.sources import SourceError
from credit_gateway_client.submit import submit_file
from credit_gateway_client.transport import Gateway
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

GOOD = "320505199003074510"
BAD = "320505199003074511"
COLUMNS = ["身份证号", "事项", "发生时间", "文书号", "决定日期"]
MAPPING = {
    "columns": {
        "citizen_id": "身份证号",
        "rule": "事项",
        "occurred_at": "发生时间",
        "evidence.document": "文书号",
        "evidence.issued_on": "决定日期",
    },
    "constants": {
        "evidence.issued_by": "苏州市公安局交通警察支队",
        "evidence.procedure": "general",
    },
}


def write_csv(path, count, bad_rows=()):
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(COLUMNS)
        for i in range(count):
            citizen = BAD if i in bad_rows else GOOD
            writer.writerow([citizen, "traffic.failure_to_yield", "2026-11-20 08:30",
                             f"苏公交决字〔2026〕第{i}号", "2026-11-21"])  # fmt: skip
    return path


@pytest.fixture
def files(tmp_path):
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps(MAPPING, ensure_ascii=False), encoding="utf-8")
    return tmp_path, mapping


def accepting(stub):
    counter = iter(range(10**6))

    def answer(path):
        body = json.loads(stub.requests[-1]["body"])
        n = next(counter)
        return (201, {"submission_id": f"s{n}", "accepted": len(body["records"]),
                      "receipt": {"leaf_hash": f"{n:064x}"}}, {})  # fmt: skip

    stub.answer_for = answer


def gateway(stub):
    return Gateway(stub.url, api_key="k.s", signer=Signer(Ed25519PrivateKey.generate()),
                   lang="en", sleep=lambda s: None)  # fmt: skip


def sent_records(stub):
    return [r for req in stub.requests for r in json.loads(req["body"])["records"]]


def test_a_mapped_csv_is_sent_in_signed_batches_with_stable_keys(stub, files):
    folder, mapping = files
    source = write_csv(folder / "a.csv", 2500)
    accepting(stub)
    summary = submit_file(source, gateway(stub), mapping_path=mapping, progress=None)
    assert (summary.accepted, summary.batches, summary.refused) == (2500, 3, 0)
    bodies = [json.loads(req["body"]) for req in stub.requests]
    assert [len(b["records"]) for b in bodies] == [1000, 1000, 500]
    first = bodies[0]["records"][0]
    assert first["occurred_at"] == "2026-11-20T08:30:00+08:00"
    assert first["evidence"]["procedure"] == "general"
    assert all("Signature" in req["headers"] for req in stub.requests)
    keys = [b["idempotency_key"] for b in bodies]
    # A fresh run (no results file) derives the same keys.
    (folder / "a.csv.results.jsonl").unlink()
    submit_file(source, gateway(stub), mapping_path=mapping, progress=None)
    assert [json.loads(r["body"])["idempotency_key"] for r in stub.requests[3:]] == keys


def test_malformed_rows_are_each_reported_and_nothing_is_sent(stub, files):
    folder, mapping = files
    source = write_csv(folder / "b.csv", 5, bad_rows={1, 3})
    summary = submit_file(source, gateway(stub), mapping_path=mapping, progress=None)
    assert stub.requests == []
    assert [(p["row"], p["path"]) for p in summary.problems] == [
        (3, "/citizen_id"), (5, "/citizen_id")
    ]  # fmt: skip
    results = (folder / "b.csv.results.jsonl").read_text()
    assert BAD not in results and GOOD not in results
    assert results.count('"invalid_row"') == 2


def test_with_skip_invalid_the_valid_rows_go_and_the_rest_are_reported(stub, files):
    folder, mapping = files
    source = write_csv(folder / "c.csv", 5, bad_rows={1})
    accepting(stub)
    summary = submit_file(
        source, gateway(stub), mapping_path=mapping, skip_invalid=True, progress=None
    )
    assert summary.accepted == 4 and summary.invalid_rows == 1
    assert len(sent_records(stub)) == 4


def test_an_interrupted_run_resumes_without_resending(stub, files):
    folder, mapping = files
    source = write_csv(folder / "d.csv", 3000)
    accepting(stub)
    flaky = gateway(stub)
    real_submit = flaky.submit
    calls = []

    def interrupted(body):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_submit(body)

    flaky.submit = interrupted
    with pytest.raises(KeyboardInterrupt):
        submit_file(source, flaky, mapping_path=mapping, progress=None)
    assert len(stub.requests) == 1
    summary = submit_file(source, gateway(stub), mapping_path=mapping, progress=None)
    assert (summary.skipped_batches, summary.sent_batches, summary.accepted) == (1, 2, 3000)
    assert len(stub.requests) == 3


def test_a_refused_batch_names_the_files_rows(stub, files):
    folder, mapping = files
    source = write_csv(folder / "e.csv", 3)
    stub.answers = [
        (
            403,
            {
                "error": "rule_not_authorized",
                "message": "no",
                "problems": [{"record": 2, "path": "/records/2/rule"}],
            },
            {},
        )
    ]
    summary = submit_file(source, gateway(stub), mapping_path=mapping, progress=None)
    assert summary.refused == 3
    entry = json.loads((folder / "e.csv.results.jsonl").read_text().splitlines()[-1])
    assert entry["problems"][0]["row"] == 4
    assert entry["error"] == "rule_not_authorized"


def test_json_lines_and_excel_are_read_too(stub, tmp_path):
    accepting(stub)
    record = {
        "citizen_id": GOOD,
        "rule": "volunteer.service_hours",
        "occurred_at": "2026-11-01T09:00:00+08:00",
        "evidence": {"reference": "VF-1"},
    }
    lines = tmp_path / "f.jsonl"
    lines.write_text(json.dumps(record) + "\n\n" + "not json\n")
    summary = submit_file(lines, gateway(stub), progress=None)
    assert summary.invalid_rows == 1 and summary.problems[0]["row"] == 3

    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["citizen_id", "rule", "occurred_at", "evidence.reference"])
    sheet.append([GOOD, "volunteer.service_hours", "2026-11-01T09:00:00+08:00", "VF-2"])
    workbook.save(tmp_path / "g.xlsx")
    summary = submit_file(tmp_path / "g.xlsx", gateway(stub), progress=None)
    assert summary.accepted == 1
    assert sent_records(stub)[-1]["evidence"] == {"reference": "VF-2"}


def test_an_unknown_file_type_is_refused(stub, tmp_path):
    (tmp_path / "h.txt").write_text("x")
    with pytest.raises(SourceError):
        submit_file(tmp_path / "h.txt", gateway(stub), progress=None)


def test_the_command_line_reports_rows_and_exit_codes(stub, files, capsys):
    folder, mapping = files
    source = write_csv(folder / "i.csv", 3, bad_rows={0})
    code = main(["--url", stub.url, "--api-key", "k.s", "--lang", "en", "submit", str(source),
                 "--mapping", str(mapping), "--unsigned"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 1
    assert "row 2: /citizen_id" in out and "nothing was sent" in out
    assert main(["--url", stub.url, "submit", str(source)]) == 2  # no signing key
