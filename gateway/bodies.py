"""Bounded JSON parsing for request bodies (see README, "Limits").

Every check here runs in time linear in the body, so no input (10,000 levels of
nesting, 1 MB keys, huge arrays, invalid UTF-8, lone surrogates, NUL characters) can
cost more than a bounded pass or reach a 500: the byte cap comes first, the parser's own
recursion guard stops extreme nesting, and one level-by-level pass checks depth, sizes
and lengths, naming the paths only when something is out of bounds.

Text that no database column can hold is refused here, before anything is stored or
looked up: lone surrogates (not encodable as UTF-8) and U+0000 (PostgreSQL text and
jsonb cannot hold it). Neither can reach a body other than as a ``\\u`` escape, so the
slow walk that finds them runs only when the text has such an escape.
"""

from __future__ import annotations

import json
import re
from typing import Any

from gateway.errors import InvalidRequest, Msg, PayloadTooLarge, problem

MAX_DEPTH = 32
MAX_KEY_CHARS = 256
MAX_STRING_CHARS = 10_000
MAX_CONTAINER_ITEMS = 1_000

# A surrogate or NUL escape: the only ways either character gets into a parsed document.
_UNSTORABLE_ESCAPE = re.compile(r"\\u(?:[dD][89a-fA-F][0-9a-fA-F]{2}|0000)")
NUL_CHARACTER = "contains a NUL character (U+0000)"


def parse_json_body(
    raw: bytes, *, max_bytes: int, check_characters: bool = True
) -> tuple[str, Any]:
    """Return (text, document) or raise a 400/413 GatewayError naming the problem.

    With ``check_characters=False`` the caller promises to call ``check_storable``
    itself (the submission path screens first, so that prohibited data hidden behind
    a NUL is still recorded as a prohibited-data refusal).
    """
    if len(raw) > max_bytes:
        raise PayloadTooLarge(Msg.BODY_TOO_LARGE % {"limit": max_bytes}, limit=max_bytes)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequest([problem("", Msg.NOT_UTF8)], Msg.NOT_UTF8) from None
    try:
        document = json.loads(text)
    except RecursionError:
        raise _invalid(Msg.TOO_DEEP % {"limit": MAX_DEPTH}) from None
    except ValueError as exc:
        message = Msg.NOT_JSON % {"detail": _json_error_text(exc)}
        raise _invalid(message) from None
    _check_bounds(
        document, check_characters=check_characters and bool(_UNSTORABLE_ESCAPE.search(text))
    )
    return text, document


def check_storable(text: str, document: Any) -> None:
    """400 for text no database column can hold: lone surrogates and U+0000."""
    if _UNSTORABLE_ESCAPE.search(text):
        _check_bounds(document, check_characters=True)


def _invalid(message) -> InvalidRequest:
    return InvalidRequest([problem("", message)], message)


def _json_error_text(exc: ValueError) -> str:
    # JSONDecodeError carries position only; never the offending text.
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    return "unreadable"


def pointer_token(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _within_bounds(document: Any) -> bool:
    """The common case, fast: one pass level by level, no paths built; the slow walk
    that names each problem runs only when something is out of bounds."""
    level, depth, records = [document], 0, document.get("records")
    while level:
        depth += 1
        if depth > MAX_DEPTH:
            return False
        following: list[Any] = []
        push = following.append
        for value in level:
            if not _container_within_bounds(value, push, records):
                return False
        level = following
    return True


def _container_within_bounds(value: Any, push, records) -> bool:
    if type(value) is dict:
        if len(value) > MAX_CONTAINER_ITEMS:
            return False
        for key, item in value.items():
            if len(key) > MAX_KEY_CHARS:
                return False
            kind = type(item)
            if kind is str:
                if len(item) > MAX_STRING_CHARS:
                    return False
            elif kind is dict or kind is list:
                push(item)
    elif type(value) is list:
        if len(value) > MAX_CONTAINER_ITEMS and value is not records:
            return False
        for item in value:
            kind = type(item)
            if kind is str:
                if len(item) > MAX_STRING_CHARS:
                    return False
            elif kind is dict or kind is list:
                push(item)
    elif type(value) is str and len(value) > MAX_STRING_CHARS:
        return False
    return True


def _check_bounds(document: Any, *, check_characters: bool) -> None:
    if not check_characters and isinstance(document, dict) and _within_bounds(document):
        return
    problems: list[dict[str, Any]] = []
    stack: list[tuple[Any, str, int]] = [(document, "", 1)]
    while stack and len(problems) < 20:
        value, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _invalid(Msg.TOO_DEEP % {"limit": MAX_DEPTH})
        if isinstance(value, dict):
            if len(value) > MAX_CONTAINER_ITEMS:
                problems.append(problem(path, f"more than {MAX_CONTAINER_ITEMS} members"))
                continue
            for key, item in value.items():
                if len(key) > MAX_KEY_CHARS:
                    # The pointer would repeat the oversized key: name its parent instead.
                    problems.append(problem(path, Msg.KEY_TOO_LONG % {"limit": MAX_KEY_CHARS}))
                    continue
                child = f"{path}/{pointer_token(key)}"
                # The pointer would carry the character: name the parent instead.
                if check_characters and _has_surrogate(key):
                    problems.append(problem(path, Msg.LONE_SURROGATE))
                    continue
                if check_characters and "\x00" in key:
                    problems.append(problem(path, NUL_CHARACTER))
                    continue
                if isinstance(item, dict | list):
                    stack.append((item, child, depth + 1))
                elif isinstance(item, str):
                    _check_string(item, child, problems, check_characters)
        elif isinstance(value, list):
            if len(value) > MAX_CONTAINER_ITEMS and path != "/records":
                problems.append(problem(path, f"more than {MAX_CONTAINER_ITEMS} items"))
                continue
            for index, item in enumerate(value):
                if isinstance(item, dict | list):
                    stack.append((item, f"{path}/{index}", depth + 1))
                elif isinstance(item, str):
                    _check_string(item, f"{path}/{index}", problems, check_characters)
        elif isinstance(value, str):
            _check_string(value, path, problems, check_characters)
    if problems:
        raise InvalidRequest(problems)


def _check_string(value: str, path: str, problems: list, check_characters: bool) -> None:
    if len(value) > MAX_STRING_CHARS:
        problems.append(problem(path, Msg.STRING_TOO_LONG % {"limit": MAX_STRING_CHARS}))
    elif check_characters and _has_surrogate(value):
        problems.append(problem(path, Msg.LONE_SURROGATE))
    elif check_characters and "\x00" in value:
        problems.append(problem(path, NUL_CHARACTER))


def _has_surrogate(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
