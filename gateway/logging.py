"""A logging filter that masks anything shaped like a resident identity number."""

import logging
import re

_IDENTITY_SHAPE = re.compile(r"(?<![0-9])([0-9]{4})[0-9]{10}([0-9]{3}[0-9Xx])(?![0-9])")


def mask_identity_shapes(text: str) -> str:
    """TEXT with every run of 18 characters shaped like an identity number masked."""
    return _IDENTITY_SHAPE.sub(r"\1**********\2", text)


def has_identity_shape(text: str) -> bool:
    return _IDENTITY_SHAPE.search(text) is not None


class RedactIdentityNumbers(logging.Filter):
    """Masks the message, its arguments, the traceback and the stack of every record.

    A traceback repeats the exception's message and the source lines and locals it
    passes through (a Host header, a path, a query), so it is formatted here, masked,
    and left as the record's cached text, which every ``logging.Formatter`` prints
    instead of formatting the exception again.
    """

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = mask_identity_shapes(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_identity_shapes(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_identity_shapes(record.stack_info)
        return True
