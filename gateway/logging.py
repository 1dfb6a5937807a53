"""A logging filter that masks anything shaped like a resident identity number."""

import logging
import re

_IDENTITY_SHAPE = re.compile(r"(?<![0-9])([0-9]{4})[0-9]{10}([0-9]{3}[0-9Xx])(?![0-9])")


class RedactIdentityNumbers(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _IDENTITY_SHAPE.sub(r"\1**********\2", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
