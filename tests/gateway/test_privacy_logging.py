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


def _emitted(logger_name: str, emit) -> str:
    """Everything the configured handlers of LOGGER_NAME print while EMIT runs."""
    import io

    logger = logging.getLogger(logger_name)
    while not logger.handlers and logger.propagate and logger.parent is not None:
        logger = logger.parent
    assert logger.handlers, f"{logger_name} has no handler"
    buffers = []
    # The handlers the settings configured (pytest adds capturing handlers of its own).
    configured = [
        handler
        for handler in logger.handlers
        if any(isinstance(f, RedactIdentityNumbers) for f in handler.filters)
    ]
    assert configured, f"{logger_name} reaches no masking handler"
    for handler in configured:
        buffer = io.StringIO()
        previous = handler.setStream(buffer)
        buffers.append((handler, buffer, previous))
    try:
        emit()
    finally:
        for handler, _buffer, previous in buffers:
            handler.setStream(previous)
    return "".join(buffer.getvalue() for _h, buffer, _p in buffers)


def test_a_traceback_is_masked_like_its_message():
    def emit():
        try:
            raise ValueError(f"bad resident {CITIZEN}")
        except ValueError:
            logging.getLogger("gateway.anything").exception("failed for %s", CITIZEN)

    printed = _emitted("gateway.anything", emit)
    assert "Traceback" in printed
    assert "ValueError: bad resident 3205**********4510" in printed
    assert CITIZEN not in printed


def _warn_with_stack():
    # The stack repeats this source line, number and all.
    logging.getLogger("gateway.anything").warning("320505199003074510", stack_info=True)


def test_a_stack_is_masked_too():
    printed = _emitted("gateway.anything", _warn_with_stack)
    assert "Stack (most recent call last)" in printed
    assert "_warn_with_stack" in printed
    assert CITIZEN not in printed


def test_a_host_header_holding_an_identity_number_leaves_no_number_in_djangos_log(db, client):
    printed = _emitted(
        "django.security.DisallowedHost",
        lambda: client.get("/healthz", HTTP_HOST=f"{CITIZEN}.example"),
    )
    # Django logs the refusal with its traceback; both are masked.
    assert "Invalid HTTP_HOST header" in printed
    assert "Traceback" in printed
    assert CITIZEN not in printed


def test_every_gunicorn_handler_masks_identity_numbers():
    import runpy

    config = runpy.run_path("config/gunicorn.conf.py")["logconfig_dict"]
    assert config["handlers"]
    for handler in config["handlers"].values():
        assert "redact_identity" in handler["filters"]
    for name in ("gunicorn.access", "gunicorn.error"):
        assert set(config["loggers"][name]["handlers"]) <= set(config["handlers"])
    # The error log prints worker tracebacks: the same filter masks them (tested above).
    assert config["filters"]["redact_identity"]["()"] == "gateway.logging.RedactIdentityNumbers"


def test_every_django_handler_masks_identity_numbers(settings):
    for handler in settings.LOGGING["handlers"].values():
        assert "redact_identity" in handler["filters"]
    for logger in settings.LOGGING["loggers"].values():
        assert set(logger["handlers"]) <= set(settings.LOGGING["handlers"])
