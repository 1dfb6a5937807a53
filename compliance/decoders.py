"""Formats a string value can carry, unwrapped so the screen can look inside them.

A department that wants prohibited data can put a whole JSON document, a base64 blob, a
form-encoded query or an HL7 message into one ordinary-looking text field.  Each decoder
here takes a string and returns what it carries: another document (read with its member
names, like the body itself) or more text.  The screen applies them recursively to a
bounded depth and size (``compliance.screening``), and a regulator can switch any of them
off in the policy.  Django-free and stdlib-only: nothing here evaluates what it reads (no
XML entities, no YAML tags), so a hostile value costs at most its own size.
"""

from __future__ import annotations

import base64
import binascii
import csv
import html
import json
import re
import urllib.parse
import zlib
from collections.abc import Callable
from typing import Any

__all__ = ["CONCEALING", "DECODERS", "Decoded", "decode_all", "hidden_tag_text"]

# What a decoder returns: (format name, a document or text).
Decoded = tuple[str, Any]

# Never produce more than this many characters from one string (zip bombs, huge entities).
MAX_OUTPUT_CHARS = 200_000
_MIN_BASE64 = 8
# A shorter run than this is decoded only when it is the whole string (so "Xiangcheng" in
# an address is not, while a whole value "T+Wehw==" is).
LONG_BASE64 = 16

# Unicode tag characters (U+E0000 block) are invisible; U+E0020..U+E007E mirror ASCII, so a
# value can spell text nobody sees.  Bidirectional embeddings, overrides and isolates make a
# key read differently from how it is stored.  (The marks U+200E/U+200F stay allowed: they
# occur in ordinary right-to-left names.)
_TAGS = re.compile("[\U000e0000-\U000e007f]")
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
CONCEALING = re.compile("[\U000e0000-\U000e007f\u202a-\u202e\u2066-\u2069]")


def hidden_tag_text(text: str) -> str:
    """The ASCII text spelled by the tag characters in ``text`` (empty if none)."""
    return "".join(
        chr(ord(char) - 0xE0000) for char in _TAGS.findall(text) if 0xE0020 <= ord(char) <= 0xE007E
    )


def concealment(text: str) -> tuple[str, ...]:
    """Which kinds of concealing characters ``text`` holds."""
    kinds = []
    if _TAGS.search(text):
        kinds.append("unicode tag characters")
    if _BIDI.search(text):
        kinds.append("bidirectional controls")
    return tuple(kinds)


def _text_from_bytes(data: bytes) -> str | None:
    """Text if ``data`` is mostly printable UTF-8; for binary, the head as Latin-1 so that
    record headers (ISO/IEC 19794 'FMR\\0', 'FAC\\0') can still be recognised."""
    if data[:2] == b"\x1f\x8b" or (data[:1] == b"\x78" and len(data) > 2):
        inflated = _inflate(data)
        if inflated is not None:
            return _text_from_bytes(inflated)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data[:64].decode("latin-1")
    head = text[:512]
    if head.isprintable():
        return text
    printable = sum(1 for char in head if char.isprintable() or char in "\r\n\t")
    if printable < 0.9 * len(head):
        return data[:64].decode("latin-1")
    return text


def _inflate(data: bytes) -> bytes | None:
    """gzip or zlib data, inflated to at most MAX_OUTPUT_CHARS bytes."""
    wbits = 16 + zlib.MAX_WBITS if data[:2] == b"\x1f\x8b" else zlib.MAX_WBITS
    try:
        inflater = zlib.decompressobj(wbits)
        return inflater.decompress(data, MAX_OUTPUT_CHARS)
    except zlib.error:
        return None


# --------------------------------------------------------------------------- the decoders

_JSON_START = re.compile(r"\s*[\[{]")


def decode_json(text: str) -> Any:
    if not _JSON_START.match(text):
        return None
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return document if isinstance(document, dict | list) else None


_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}|[A-Za-z0-9_-]+={0,2}")


def decode_base64(text: str) -> Any:
    candidate = text.strip().replace("\r", "").replace("\n", "")
    if len(candidate) < _MIN_BASE64 or not _BASE64.fullmatch(candidate):
        return None
    # A word, a number or a hex digest is not worth decoding (and decodes to noise).
    if not mixed_case(candidate):
        return None
    padded = candidate.rstrip("=")
    padded += "=" * (-len(padded) % 4)
    try:
        if "-" in padded or "_" in padded:
            data = base64.urlsafe_b64decode(padded)
        else:
            data = base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return None
    return _text_from_bytes(data) if data else None


_DATA_URI = re.compile(r"\s*data:([^,]{0,200}),(.*)", re.S | re.I)


def decode_data_uri(text: str) -> Any:
    match = _DATA_URI.match(text)
    if not match:
        return None
    parameters, payload = match.groups()
    if parameters.lower().endswith(";base64"):
        try:
            data = base64.b64decode("".join(payload.split()) + "==", validate=False)
        except (binascii.Error, ValueError):
            return None
    else:
        data = urllib.parse.unquote_to_bytes(payload)
    return _text_from_bytes(data) if data else None


_JWT = re.compile(r"\s*(eyJ[A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]*)\s*")


def decode_jwt(text: str) -> Any:
    match = _JWT.fullmatch(text)
    if not match or len(match.group(1)) < LONG_BASE64:
        return None
    parts = {}
    for name, segment in zip(("header", "payload"), match.groups()[:2], strict=True):
        try:
            raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
            parts[name] = json.loads(raw)
        except (binascii.Error, ValueError, RecursionError):
            try:
                parts[name] = raw.decode("utf-8")
            except (UnicodeDecodeError, NameError):
                return None
    return parts


_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")


def decode_url(text: str) -> Any:
    if not _PERCENT.search(text):
        return None
    decoded = urllib.parse.unquote(text.replace("+", " ") if "=" in text else text)
    return decoded if decoded != text else None


# Field names as forms have them (no '+' or '/', so base64 padding is not a form).
_FORM_NAME = r"[A-Za-z_\u4e00-\u9fff%][\w.%\[\]-]{0,255}"
_FORM = re.compile(rf"\s*{_FORM_NAME}=[^&=]+(?:&{_FORM_NAME}=[^&=]*)*\s*")


def decode_form(text: str) -> Any:
    if "=" not in text or not _FORM.fullmatch(text):
        return None
    pairs = urllib.parse.parse_qsl(text.strip(), keep_blank_values=True)
    if not pairs:
        return None
    return [{name: value} for name, value in pairs]


_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def decode_html_entities(text: str) -> Any:
    if not _ENTITY.search(text):
        return None
    decoded = html.unescape(text)
    return decoded if decoded != text else None


_TAG = re.compile(r"<([^\W\d][\w:.-]{0,255})((?:\s+[^<>]*?)?)\s*/?>([^<]*)")
_ATTRIBUTE = re.compile(r"([A-Za-z_][\w:.-]{0,255})\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))")
_ANY_TAG = re.compile(r"<[^<>]*>")


def decode_markup(text: str) -> Any:
    """XML or HTML, read as a list of {element: text} and {attribute: value} members plus the
    visible text; nothing is resolved or fetched (no entities, no DTD)."""
    if "<" not in text or not _TAG.search(text):
        return None
    members: list[Any] = []
    for name, attributes, body in _TAG.findall(text):
        members.append({name: html.unescape(body.strip())})
        for attribute in _ATTRIBUTE.finditer(attributes):
            value = next(v for v in attribute.groups()[1:] if v is not None)
            members.append({attribute.group(1): html.unescape(value)})
    visible = html.unescape(" ".join(_ANY_TAG.sub(" ", text).split()))
    if visible:
        members.append(visible)
    return members


_HL7_SEGMENT = re.compile(r"(?:^|[\r\n])([A-Z][A-Z0-9]{2})\|")
# What an HL7 v2 segment holds, named so the policy's member-name terms apply to it.
_HL7_MEANING = {
    "DG1": "diagnosis",
    "DRG": "diagnosis",
    "AL1": "allergy",
    "IAM": "allergy",
    "PR1": "medical treatment",
    "RXA": "medication",
    "RXE": "medication",
    "RXO": "medication",
    "RXD": "medication",
    "PRB": "medical condition",
    "OBX": "observation",
    "PID": "patient",
    "PV1": "hospital admission",
}


def decode_hl7(text: str) -> Any:
    segments = [s for s in re.split(r"[\r\n]+", text) if s]
    if not segments or not _HL7_SEGMENT.search(text):
        return None
    members: list[Any] = []
    for segment in segments:
        fields = segment.split("|")
        code = fields[0].strip()
        if not re.fullmatch(r"[A-Z][A-Z0-9]{2}", code):
            continue
        label = _HL7_MEANING.get(code, code)
        values = [field.replace("^", " ").replace("~", " ").strip() for field in fields[1:]]
        members.append({label: [value for value in values if value]})
    return members or None


_DELIMITERS = (",", "\t", ";", "|")
_LINES = re.compile(r"\r\n|\r|\n")
_MAX_LABEL = 64


def decode_csv(text: str) -> Any:
    lines = [line for line in _LINES.split(text.strip()) if line.strip()]
    if len(lines) < 2:
        return None
    header = lines[0]
    counts = {d: header.count(d) for d in _DELIMITERS}
    delimiter = max(counts, key=lambda d: counts[d])
    if counts[delimiter] == 0 or lines[1].count(delimiter) == 0:
        return None
    rows = list(csv.reader(lines, delimiter=delimiter))
    names = [name.strip() for name in rows[0]]
    if any(len(name) > _MAX_LABEL for name in names):
        return None
    return [
        {names[i] if i < len(names) else str(i): cell for i, cell in enumerate(row)}
        for row in rows[1:]
    ] or None


_YAML_LINE = re.compile(r"\s*(?:-\s+)?([^:：#\n]{1,64}?)\s*[:：]\s*(.*)")


def decode_yaml(text: str) -> Any:
    """Block YAML (and similar 'label: value' lines) read as {label: value} members; no tags,
    anchors or flow syntax are interpreted."""
    lines = [line for line in _LINES.split(text) if line.strip() and line.lstrip()[:1] != "#"]
    if len(lines) < 2:
        return None
    members = []
    for line in lines:
        match = _YAML_LINE.fullmatch(line)
        if match:
            members.append({match.group(1).strip(): match.group(2).strip()})
    return members if len(members) * 2 >= len(lines) else None


def decode_tags(text: str) -> Any:
    hidden = hidden_tag_text(text)
    return hidden or None


# Name, quick test on the raw string, decoder.  The order is the order of the format chain
# reported when several apply.
DECODERS: dict[str, Callable[[str], Any]] = {
    "json": decode_json,
    "base64": decode_base64,
    "data_uri": decode_data_uri,
    "jwt": decode_jwt,
    "url": decode_url,
    "form": decode_form,
    "html_entities": decode_html_entities,
    "markup": decode_markup,
    "hl7": decode_hl7,
    "csv": decode_csv,
    "yaml": decode_yaml,
    "unicode_tags": decode_tags,
}
DECODER_TITLES = {
    "json": "JSON in a string",
    "base64": "base64 (and gzip or zlib inside it)",
    "data_uri": "data: URIs",
    "jwt": "JWT header and payload",
    "url": "URL (percent) encoding",
    "form": "form encoding (a=1&b=2)",
    "html_entities": "HTML entities",
    "markup": "XML and HTML elements and attributes",
    "hl7": "HL7 v2 segments",
    "csv": "CSV and other delimited tables",
    "yaml": "YAML and 'label: value' lines",
    "unicode_tags": "text spelled in Unicode tag characters",
}

# Cheap signs that a string may carry a format; a string with none is not decoded at all.
# Cheap signs that a string may carry a format; a string with none is not decoded at all
# (a data: URI or JWT carries a base64 run or one of these characters; a plain data: URI
# carries plain text, which the screen reads anyway).
HINT_CHARS = re.compile(r"[{\[<%&=|\n\r\U000e0000-\U000e007f\u202a-\u202e\u2066-\u2069]")
BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{8,}={0,2}")


def may_carry(text: str) -> bool:
    """Whether ``text`` shows a sign of carrying another format (see HINT_CHARS)."""
    if HINT_CHARS.search(text):
        return True
    return any(
        mixed_case(run.group()) and (len(run.group()) >= LONG_BASE64 or run.group() == text)
        for run in BASE64_RUN.finditer(text)
    )


def mixed_case(run: str) -> bool:
    # Base64 of any text mixes upper and lower case; identity numbers, dates and digests
    # do not, and are not worth decoding.
    return run.lower() != run and run.upper() != run


# Characters without one of which a decoder can find nothing: checked before calling it.
_NEEDS: dict[str, tuple[str, ...]] = {
    "json": ("{", "["),
    "data_uri": (":",),
    "jwt": ("eyJ",),
    "url": ("%",),
    "form": ("=",),
    "html_entities": ("&",),
    "markup": ("<",),
    "hl7": ("|",),
    "csv": ("\n", "\r"),
    "yaml": ("\n", "\r"),
}


def decode_all(text: str, enabled: frozenset[str]) -> list[Decoded]:
    """Every (format, carried document or text) that ``text`` yields under ``enabled``."""
    found: list[Decoded] = []
    for name, decoder in DECODERS.items():
        if name not in enabled:
            continue
        needs = _NEEDS.get(name)
        if needs is not None and not any(map(text.__contains__, needs)):
            continue
        try:
            carried = decoder(text)
        except (ValueError, RecursionError, csv.Error, MemoryError):
            carried = None
        if carried is None or carried == text:
            continue
        if isinstance(carried, str) and len(carried) > MAX_OUTPUT_CHARS:
            carried = carried[:MAX_OUTPUT_CHARS]
        found.append((name, carried))
        if name == "json":  # A JSON document is not also CSV or YAML.
            break
    return found
