from django.urls import path

from audit import api, api_tiles

urlpatterns = [
    path("api/v1/audit/checkpoint", api.CheckpointView.as_view(), name="audit-checkpoint"),
    path("api/v1/audit/proof/inclusion", api.InclusionProofView.as_view(), name="audit-inclusion"),
    path(
        "api/v1/audit/proof/consistency",
        api.ConsistencyProofView.as_view(),
        name="audit-consistency",
    ),
    path(
        "api/v1/audit/receipts/<str:leaf_hash>",
        api.ReceiptView.as_view(),
        name="audit-receipt",
    ),
    # The C2SP tlog-tiles read API and the witnesses' cosignatures.
    path("checkpoint", api_tiles.CheckpointTextView.as_view(), name="tlog-checkpoint"),
    path("tile/<path:tile_path>", api_tiles.TileView.as_view(), name="tlog-tile"),
    path(
        "api/v1/audit/cosignatures",
        api_tiles.CosignatureView.as_view(),
        name="audit-cosignatures",
    ),
]
