from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from gateway.api import catalogue, department

api_v1 = [
    path("api/v1/submissions", department.SubmissionView.as_view(), name="submissions"),
    path(
        "api/v1/citizens/<str:citizen_id>/score",
        department.CitizenScoreView.as_view(),
        name="citizen-score",
    ),
    path("api/v1/score-queries", department.ScoreQueryView.as_view(), name="score-query"),
    path("api/v1/rules", catalogue.RuleListView.as_view(), name="rules"),
    path("api/v1/purposes", catalogue.PurposeListView.as_view(), name="purposes"),
]

urlpatterns = [
    *api_v1,
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
]
