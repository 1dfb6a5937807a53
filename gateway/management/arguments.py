"""argparse types for the commands' arguments: a bad value is argparse's one-line error."""

from __future__ import annotations

import argparse

# A batch bigger than this holds one transaction's locks for too long to be worth it.
MAX_BATCH_SIZE = 100_000


def bounded_int(low: int, high: int):
    def parse(text: str) -> int:
        try:
            number = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text[:20]!r} is not a whole number") from None
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"must be {low} to {high}")
        return number

    parse.__name__ = "bounded_int"
    return parse


def bounded_text(limit: int):
    """Text a database can store: a terminal may pass bytes that are not UTF-8, which
    Python keeps as unpaired surrogates (PostgreSQL refuses them, the log cannot hash them)."""

    def parse(text: str) -> str:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise argparse.ArgumentTypeError("is not UTF-8 text") from None
        if "\x00" in text:
            raise argparse.ArgumentTypeError("contains U+0000")
        if len(text) > limit:
            raise argparse.ArgumentTypeError(f"at most {limit} characters")
        return text

    parse.__name__ = "bounded_text"
    return parse


batch_size = bounded_int(1, MAX_BATCH_SIZE)
# Any other text an operator types: names, codes, e-mail addresses, reasons. The services
# hold each to its own shorter limit and say so.
text = bounded_text(10_000)
