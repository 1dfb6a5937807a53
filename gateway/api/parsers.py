"""The JSON parser of every API body: the submission path's bounded parser (gateway.bodies).

DRF's own JSONParser recurses as deep as a body nests (a RecursionError and a 500 for
``[[[[...]]]]``) and hands on text no database column can hold (lone surrogates, and
U+0000, which PostgreSQL refuses). This one refuses a declared length over the byte
limit before reading, reads at most one byte more than the limit, and answers 400
``invalid`` (413 ``too_large`` over the limit) in the API's one error shape.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.parsers import JSONParser

from gateway.bodies import parse_json_body
from gateway.errors import Msg, PayloadTooLarge


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.GATEWAY_MAX_BODY_BYTES
        request = (parser_context or {}).get("request")
        length = (request.META.get("CONTENT_LENGTH") if request is not None else None) or "0"
        if length.isdigit() and int(length) > limit:
            raise PayloadTooLarge(Msg.BODY_TOO_LARGE % {"limit": limit}, limit=limit)
        raw = stream.read(limit + 1) if stream is not None else b""
        _text, document = parse_json_body(raw, max_bytes=limit)
        return document
