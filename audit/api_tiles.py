"""The C2SP tlog-tiles read API and the witnesses' cosignature door.

``/checkpoint`` and ``/tile/...`` are plain static-looking resources so that witnesses,
monitors and regulators can mirror the log through ordinary HTTP caches. Cosignatures
are posted by witnesses, authenticated by their signature alone.
"""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import APIView

from audit import tile_reads, tiles, witnessing

# Full tiles never change; the checkpoint and partial tiles move with the log.
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT_LIVED = "public, max-age=1"
_OCTETS = "application/octet-stream"


class _Refusal(APIException):
    """An error in the API's one shape, with a code of its own."""

    def __init__(self, status: int, code: str, message):
        super().__init__(detail=str(message))
        self.status_code = status
        self.default_code = code


_error = inline_serializer(
    "CosignatureError", {"error": serializers.CharField(), "message": serializers.CharField()}
)


# The tlog-tiles resources are specified by C2SP (c2sp.org/tlog-tiles), not by this
# API's schema: they are plain text and bytes at fixed paths outside /api.
class CheckpointTextView(APIView):
    @extend_schema(exclude=True)
    def get(self, request):
        text = witnessing.latest_cosigned_note()
        if text is None:
            raise _Refusal(404, "not_found", "no checkpoint has been signed yet")
        response = HttpResponse(text.encode("utf-8"), content_type="text/plain; charset=utf-8")
        response["Cache-Control"] = SHORT_LIVED
        return response


class TileView(APIView):
    @extend_schema(exclude=True)
    def get(self, request, tile_path: str):
        try:
            tile = tiles.parse_tile_path(tile_path)
        except tiles.TilePathError as exc:
            raise _Refusal(400, "invalid", exc) from exc
        size = tile_reads.checkpointed_size()
        if size is None or tile.entries_needed() > size:
            raise _Refusal(404, "not_found", f"{tile.path()} is beyond the latest checkpoint")
        try:
            body = tile_reads.tile_body(tile)
        except (tile_reads.TileNotAvailable, ValueError) as exc:
            raise _Refusal(503, "unavailable", exc) from exc
        response = HttpResponse(body, content_type=_OCTETS)
        response["Cache-Control"] = SHORT_LIVED if tile.is_partial else IMMUTABLE
        return response


_outcome = inline_serializer(
    "CosignatureOutcome",
    {
        "size": serializers.IntegerField(),
        "stored": serializers.ListField(child=serializers.CharField()),
        "duplicates": serializers.ListField(child=serializers.CharField()),
    },
)


class CosignatureView(APIView):
    @extend_schema(
        request={"text/plain": {"type": "string"}},
        responses={
            201: OpenApiResponse(_outcome, description="new cosignatures stored"),
            200: OpenApiResponse(_outcome, description="every cosignature already held"),
            400: OpenApiResponse(_error, description="`invalid` or `no_cosignature`"),
            403: OpenApiResponse(
                _error,
                description="`bad_log_signature`, `unknown_witness` or `forged_cosignature`",
            ),
            404: OpenApiResponse(_error, description="`unknown_checkpoint`"),
            413: OpenApiResponse(_error, description="`too_large`"),
            415: OpenApiResponse(_error, description="`unsupported_media_type`"),
        },
        summary="Post a witness's cosigned checkpoint note (C2SP tlog-cosignature)",
    )
    def post(self, request):
        if request.content_type.split(";")[0].strip() != "text/plain":
            raise _Refusal(415, "unsupported_media_type", witnessing.Msg.NOT_TEXT)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > witnessing.MAX_NOTE_BYTES:
            limit = witnessing.MAX_NOTE_BYTES
            raise _Refusal(413, "too_large", witnessing.Msg.TOO_LARGE % {"limit": limit})
        raw = request.body
        if len(raw) > witnessing.MAX_NOTE_BYTES:
            limit = witnessing.MAX_NOTE_BYTES
            raise _Refusal(413, "too_large", witnessing.Msg.TOO_LARGE % {"limit": limit})
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _Refusal(400, "invalid", witnessing.Msg.NOT_TEXT) from exc
        try:
            outcome = witnessing.cosignature_add(text)
        except witnessing.CosignatureRefused as exc:
            raise _Refusal(exc.status, exc.code, exc.message) from exc
        return Response(
            {
                "size": outcome.checkpoint.size,
                "stored": outcome.stored,
                "duplicates": outcome.duplicates,
            },
            status=201 if outcome.stored else 200,
        )
