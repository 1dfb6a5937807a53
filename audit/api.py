"""Public proof endpoints: the latest signed checkpoint, inclusion and consistency proofs.

They reveal only hashes, so anyone (a department checking its receipt, a regulator,
a resident) may ask, as with Certificate Transparency logs.
"""

from __future__ import annotations

from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
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
_HEX = {"help_text": "SHA-256, hex"}
_inclusion_schema = inline_serializer(
    "InclusionProof",
    {
        "index": serializers.IntegerField(),
        "size": serializers.IntegerField(),
        "leaf_hash": serializers.CharField(**_HEX),
        "root_hash": serializers.CharField(**_HEX),
        "proof": serializers.ListField(child=serializers.CharField(**_HEX)),
    },
)
_consistency_schema = inline_serializer(
    "ConsistencyProof",
    {
        "from": serializers.IntegerField(),
        "to": serializers.IntegerField(),
        "from_root_hash": serializers.CharField(**_HEX),
        "to_root_hash": serializers.CharField(**_HEX),
        "proof": serializers.ListField(child=serializers.CharField(**_HEX)),
    },
)
# The API's one error shape (gateway.errors), described here so this app imports no other.
_error_schema = inline_serializer(
    "AuditError",
    {
        "error": serializers.CharField(),
        "message": serializers.CharField(),
        "problems": inline_serializer(
            "AuditProblem",
            {"path": serializers.CharField(), "message": serializers.CharField()},
            many=True,
            required=False,
        ),
    },
)
_invalid = OpenApiResponse(
    _error_schema, description="`invalid`: a parameter missing, not an integer, or out of range"
)


def _size(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(
        name, {"type": "integer", "minimum": 0}, required=True, description=description
    )


class CheckpointView(APIView):
    @extend_schema(
        responses={
            200: _checkpoint_schema,
            404: OpenApiResponse(
                _error_schema, description="`not_found`: no checkpoint has been signed yet"
            ),
        },
        summary="The latest signed checkpoint",
    )
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
        parameters=[
            _size("index", "The entry's index, less than size"),
            _size("size", "A tree size from 1 to the log's size"),
        ],
        responses={200: _inclusion_schema, 400: _invalid},
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
        parameters=[
            _size("from", "The older tree size, from 1 to `to`"),
            _size("to", "The newer tree size, up to the log's size"),
        ],
        responses={200: _consistency_schema, 400: _invalid},
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


_receipt_schema = inline_serializer(
    "ReceiptStatus",
    {
        "leaf_hash": serializers.CharField(**_HEX),
        "status": serializers.ChoiceField(["pending", "sequenced", "included"]),
        "index": serializers.IntegerField(allow_null=True),
        "tree_size": serializers.IntegerField(allow_null=True),
        "inclusion_proof": serializers.ListField(child=serializers.CharField(**_HEX)),
        "checkpoint": serializers.CharField(allow_null=True),
    },
)


class ReceiptView(APIView):
    @extend_schema(
        responses={
            200: _receipt_schema,
            400: OpenApiResponse(_error_schema, description="`invalid`: not a SHA-256 in hex"),
            404: OpenApiResponse(_error_schema, description="`not_found`: no such entry"),
        },
        summary="Where a receipted entry stands: queued, sequenced, or provably included",
    )
    def get(self, request, leaf_hash: str):
        if len(leaf_hash) != 64 or not all(c in "0123456789abcdef" for c in leaf_hash.lower()):
            raise ValidationError({"leaf_hash": ["must be 64 hexadecimal digits"]})
        leaf = bytes.fromhex(leaf_hash)
        entry = selectors.entry_by_leaf_hash(leaf)
        if entry is None:
            raise NotFound("no entry with this leaf hash")
        body = {
            "leaf_hash": leaf.hex(),
            "status": "pending",
            "index": entry.sequence,
            "tree_size": None,
            "inclusion_proof": [],
            "checkpoint": None,
        }
        if entry.sequence is not None:
            body["status"] = "sequenced"
            checkpoint = selectors.latest_checkpoint()
            if checkpoint is not None and entry.sequence < checkpoint.size:
                body.update(
                    status="included",
                    tree_size=checkpoint.size,
                    inclusion_proof=_hex(
                        selectors.inclusion_proof(entry.sequence, checkpoint.size)
                    ),
                    checkpoint=checkpoint.note,
                )
        return Response(body)
