"""submit FILE: validate locally, split into batches, sign, send, resume, record results.

The results file (JSON Lines) starts with a line naming the file's digest; then one line
per batch: accepted (with its receipt) or refused (with the gateway's reason per row).
Each batch's idempotency key is derived from the file's digest and the batch's number,
so a re-run, after an interruption or a crash, sends each batch under the same key: the
gateway answers batches it already has with their first response and no second effect.
"""

from __future__ import annotations

import datetime as dt
import json
import queue
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from credit_gateway_client.messages import text
from credit_gateway_client.sources import (
    Mapping,
    SourceError,
    file_digest,
    record_from_row,
    rows,
)
from credit_gateway_client.transport import Gateway
from credit_gateway_client.validation import record_problems

BATCH_SIZE = 1000
# Every bad row goes to the results file; this many are also kept to print.
MAX_PROBLEMS_SHOWN = 200


@dataclass
class Summary:
    rows: int = 0
    invalid_rows: int = 0
    batches: int = 0
    accepted: int = 0
    refused: int = 0
    skipped_batches: int = 0
    sent_batches: int = 0
    problems: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.invalid_rows == 0 and self.refused == 0


class Progress:
    """One line on stderr: a bar, records done of the total, and records per second."""

    def __init__(self, total: int, stream: TextIO | None, width: int = 30):
        self.total, self.stream, self.width = total, stream, width
        self.started = time.monotonic()
        self.done = 0

    def advance(self, records: int, note: str = "") -> None:
        self.done += records
        if self.stream is None:
            return
        elapsed = max(time.monotonic() - self.started, 1e-6)
        filled = int(self.width * self.done / self.total) if self.total else self.width
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(
            f"\r[{bar}] {self.done:,}/{self.total:,} records  "
            f"{self.done / elapsed:,.0f} records/s {note}"
        )
        self.stream.flush()

    def finish(self) -> None:
        if self.stream is not None:
            self.stream.write("\n")
            self.stream.flush()


def _valid_records(
    path: Path,
    mapping: Mapping,
    *,
    lang: str,
    now: dt.datetime,
    invalid_rows: set[int] | None = None,
) -> Iterator[tuple[int, dict[str, Any] | None, list[dict]]]:
    """Each row's record, or None and its problems. Given the INVALID_ROWS a first pass
    found, the rows are not checked again (the file's digest is checked instead)."""
    for number, row in rows(path):
        if invalid_rows is not None:
            if number in invalid_rows or not isinstance(row, dict):
                yield number, None, []
            else:
                yield number, record_from_row(row, mapping)[0], []
            continue
        if not isinstance(row, dict):
            yield number, None, [{"path": "", "message": text("row_shape", lang)}]
            continue
        record, missing = record_from_row(row, mapping)
        problems = [{"path": "/" + p.replace(".", "/"), "message": text("unmapped", lang)}
                    for p in missing]  # fmt: skip
        problems += record_problems(record, now=now, lang=lang)
        yield number, (None if problems else record), problems


def _batches(records: Iterator, size: int) -> Iterator[list[tuple[int, dict]]]:
    batch: list[tuple[int, dict]] = []
    for number, record, _problems in records:
        if record is None:
            continue
        batch.append((number, record))
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def idempotency_key(digest: str, batch_number: int) -> str:
    return f"cgc-{digest[:32]}-{batch_number:06d}"


def _done_batches(results: Path, digest: str) -> set[int]:
    """Batches an earlier run of the same file already had accepted."""
    if not results.exists():
        return set()
    done = set()
    with results.open(encoding="utf-8") as stream:
        for line in stream:
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line cut short by an interruption
            if entry.get("file_sha256") not in (None, digest):
                raise SystemExit(
                    f"{results} belongs to another version of the file; move it away first"
                )
            if entry.get("status") == 201:
                done.add(entry["batch"])
    return done


def submit_file(
    path: Path,
    gateway: Gateway,
    *,
    mapping_path: Path | None = None,
    results_path: Path | None = None,
    skip_invalid: bool = False,
    lang: str = "zh",
    batch_size: int = BATCH_SIZE,
    progress: TextIO | None = sys.stderr,
    now: dt.datetime | None = None,
) -> Summary:
    path = Path(path)
    mapping = Mapping.load(mapping_path)
    results_path = Path(results_path or f"{path}.results.jsonl")
    digest = file_digest(path, mapping_path)
    now = now or dt.datetime.now(dt.UTC)
    summary = Summary()

    done = _done_batches(results_path, digest)
    with results_path.open("a", encoding="utf-8") as results:
        _write(results, {"file": path.name, "file_sha256": digest, "started": _now()})
        # First pass: every row checked; nothing is sent if any row is bad, unless asked.
        invalid_rows: set[int] = set()
        for number, record, problems in _valid_records(path, mapping, lang=lang, now=now):
            summary.rows += 1
            if record is None:
                summary.invalid_rows += 1
                invalid_rows.add(number)
                for problem in problems:
                    _write(results, {"file_sha256": digest, "status": "invalid_row",
                                     "row": number, **problem})  # fmt: skip
                    if len(summary.problems) < MAX_PROBLEMS_SHOWN:
                        summary.problems.append({"row": number, **problem})
        if summary.invalid_rows and not skip_invalid:
            return summary
        valid_rows = summary.rows - summary.invalid_rows
        bar = Progress(valid_rows, progress)
        if file_digest(path, mapping_path) != digest:
            raise SourceError(f"{path} changed while it was being sent; run again")
        records = _valid_records(path, mapping, lang=lang, now=now, invalid_rows=invalid_rows)
        bodies = _prefetched(
            (number, batch, None if number in done else _body(digest, number, batch))
            for number, batch in enumerate(_batches(records, batch_size))
        )
        for batch_number, batch, body in bodies:
            summary.batches += 1
            if body is None:
                summary.skipped_batches += 1
                summary.accepted += len(batch)
                bar.advance(len(batch))
                continue
            entry = _send(gateway, digest, batch_number, batch, body)
            summary.sent_batches += 1
            if entry["status"] == 201:
                summary.accepted += entry["accepted"]
            else:
                summary.refused += len(batch)
            _write(results, entry)
            bar.advance(len(batch))
        bar.finish()
    return summary


def _body(digest: str, batch_number: int, batch: list) -> bytes:
    return json.dumps(
        {
            "idempotency_key": idempotency_key(digest, batch_number),
            "records": [record for _number, record in batch],
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8")


_END = object()


def _prefetched(items: Iterator, depth: int = 2) -> Iterator:
    """ITEMS made ahead in a thread, so the next batch is read, checked and encoded while
    the gateway works on the current one; at most DEPTH wait, so memory stays bounded."""
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        ready.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            ready.put(_END)
        except BaseException as error:  # handed to the consumer, raised there
            ready.put(error)

    worker = threading.Thread(target=produce, daemon=True)
    worker.start()
    try:
        while (item := ready.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()


def _send(
    gateway: Gateway, digest: str, batch_number: int, batch: list, body: bytes
) -> dict[str, Any]:
    key = idempotency_key(digest, batch_number)
    answer = gateway.submit(body)
    payload = answer.payload if isinstance(answer.payload, dict) else {}
    first_row, last_row = batch[0][0], batch[-1][0]
    entry: dict[str, Any] = {
        "file_sha256": digest,
        "batch": batch_number,
        "idempotency_key": key,
        "rows": [first_row, last_row],
        "status": answer.status,
    }
    if answer.status == 201:
        entry.update(
            accepted=payload.get("accepted"),
            submission_id=payload.get("submission_id"),
            replayed=answer.headers.get("idempotent-replayed") == "true",
            receipt=payload.get("receipt"),
        )
        return entry
    # The gateway names records by their place in the batch; the file's rows are told here.
    entry.update(error=payload.get("error"), message=payload.get("message"))
    for name in ("reason", "problems", "violations"):
        if name in payload:
            entry[name] = _with_rows(payload[name], batch) if name != "reason" else payload[name]
    return entry


def _with_rows(items: Any, batch: list) -> Any:
    if not isinstance(items, list):
        return items
    named = []
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("record"), int):
            index = item["record"]
            if 0 <= index < len(batch):
                item = {"row": batch[index][0], **item}
        named.append(item)
    return named


def _write(stream: TextIO, entry: dict[str, Any]) -> None:
    stream.write(json.dumps(entry, ensure_ascii=False) + "\n")
    # Each line is on disk before the next batch goes, so a resume knows what was done.
    stream.flush()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
