from django.urls import path

from audit import api

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
]
