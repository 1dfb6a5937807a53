"""Identity numbers never reach a log: request logs, gunicorn's access log, messages."""

from __future__ import annotations

import logging

from gateway.logging import RedactIdentityNumbers
from tests.conftest import body_json

CITIZEN = "320505199003074510"


def _filtered(message: str, *args) -> str:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, message, args or None, None)
    RedactIdentityNumbers().filter(record)
    return record.getMessage()


def test_the_filter_masks_identity_numbers_in_messages_and_arguments():
    assert _filtered(f"GET /api/v1/citizens/{CITIZEN}/score") == (
        "GET /api/v1/citizens/3205**********4510/score"
    )
    assert CITIZEN not in _filtered("path %s", f"/x/{CITIZEN}")
    assert "32050519900307451X" not in _filtered("id 32050519900307451X")
    assert _filtered("order 12345 ok") == "order 12345 ok"


def test_gunicorn_access_log_atoms_are_masked():
    record = logging.LogRecord(
        "gunicorn.access",
        logging.INFO,
        __file__,
        1,
        '%(h)s "%(m)s %(U)s"',
        {"h": "127.0.0.1", "m": "GET", "U": f"/api/v1/citizens/{CITIZEN}/score"},
        None,
    )
    RedactIdentityNumbers().filter(record)
    assert CITIZEN not in record.getMessage()


def test_a_refused_read_by_path_logs_no_identity_number(world, caplog):
    with caplog.at_level(logging.INFO):
        response = world.client(world.key_b).get(
            f"/api/v1/citizens/{CITIZEN}/score?purpose=licensing_review"
        )
    assert response.status_code == 403
    assert body_json(response)["error"] == "purpose_not_granted"
    assert any("Forbidden" in r.getMessage() for r in caplog.records)
    assert all(CITIZEN not in r.getMessage() for r in caplog.records)
