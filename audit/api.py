"""Public proof endpoints: the latest signed checkpoint, inclusion and consistency proofs.

They reveal only hashes, so anyone (a department checking its receipt, a regulator,
a resident) may ask, as with Certificate Transparency logs.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from audit import selectors
from audit.services import verifier_key_string

_MAX_INDEX = 2**62


def _int_param(request, name: str) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        raise ValidationError({name: ["this parameter is required"]})
    if not raw.isdigit() or len(raw) > 19 or int(raw) >= _MAX_INDEX:
        raise ValidationError({name: ["must be a non-negative integer"]})
    return int(raw)


def _hex(items) -> list[str]:
    return [bytes(item).hex() for item in items]


_checkpoint_schema = inline_serializer(
    "Checkpoint",
    {
        "origin": serializers.CharField(),
        "size": serializers.IntegerField(),
        "root_hash": serializers.CharField(),
        "note": serializers.CharField(),
        "verifier_key": serializers.CharField(),
    },
)
_proof_schema = inline_serializer(
    "Proof",
    {
        "size": serializers.IntegerField(),
        "root_hash": serializers.CharField(),
        "proof": serializers.ListField(child=serializers.CharField()),
    },
)


class CheckpointView(APIView):
    @extend_schema(responses={200: _checkpoint_schema}, summary="The latest signed checkpoint")
    def get(self, request):
        checkpoint = selectors.latest_checkpoint()
        if checkpoint is None:
            raise NotFound("no checkpoint has been signed yet")
        origin = checkpoint.note.split("\n", 1)[0]
        return Response(
            {
                "origin": origin,
                "size": checkpoint.size,
                "root_hash": bytes(checkpoint.root_hash).hex(),
                "note": checkpoint.note,
                "verifier_key": verifier_key_string(),
            }
        )


def _check_size(size: int) -> None:
    if size < 1 or size > selectors.log_size():
        raise ValidationError({"size": ["must be between 1 and the log's size"]})


class InclusionProofView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("index", int, required=True), OpenApiParameter("size", int)],
        responses={200: _proof_schema},
        summary="Prove that entry INDEX is in the tree of SIZE entries",
    )
    def get(self, request):
        index = _int_param(request, "index")
        size = _int_param(request, "size")
        _check_size(size)
        if index >= size:
            raise ValidationError({"index": ["must be less than size"]})
        proof = selectors.inclusion_proof(index, size)
        return Response(
            {
                "index": index,
                "size": size,
                "leaf_hash": selectors.leaf_hash_at(index).hex(),
                "root_hash": selectors.root_at(size).hex(),
                "proof": _hex(proof),
            }
        )


class ConsistencyProofView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("from", int, required=True), OpenApiParameter("to", int)],
        responses={200: _proof_schema},
        summary="Prove that the tree of TO entries extends the tree of FROM entries",
    )
    def get(self, request):
        old = _int_param(request, "from")
        new = _int_param(request, "to")
        _check_size(new)
        if old < 1 or old > new:
            raise ValidationError({"from": ["must be between 1 and to"]})
        return Response(
            {
                "from": old,
                "to": new,
                "from_root_hash": selectors.root_at(old).hex(),
                "to_root_hash": selectors.root_at(new).hex(),
                "proof": _hex(selectors.consistency_proof(old, new)),
            }
        )
