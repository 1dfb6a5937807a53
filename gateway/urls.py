from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from gateway import health, public_views
from gateway.api import appeals as appeal_api
from gateway.api import auth as auth_api
from gateway.api import catalogue, department
from gateway.api import eligibility as eligibility_api
from gateway.api import finality as finality_api
from gateway.api import repairs as repair_api
from gateway.api import revocations as revocation_api
from gateway.api import rights as rights_api

api_v1 = [
    path("api/v1/submissions", department.SubmissionView.as_view(), name="submissions"),
    path(
        "api/v1/citizens/<str:citizen_id>/score",
        department.CitizenScoreView.as_view(),
        name="citizen-score",
    ),
    path("api/v1/score-queries", department.ScoreQueryView.as_view(), name="score-query"),
    path(
        "api/v1/events/<str:event_id>/revocation",
        revocation_api.EventRevocationView.as_view(),
        name="event-revocation",
    ),
    path(
        "api/v1/events/<str:event_id>/finality",
        finality_api.EventFinalityView.as_view(),
        name="event-finality",
    ),
    path("api/v1/rules", catalogue.RuleListView.as_view(), name="rules"),
    path("api/v1/purposes", catalogue.PurposeListView.as_view(), name="purposes"),
]

urlpatterns = [
    *api_v1,
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: no inline script under the CSP.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="schema", template_name="gateway/swagger_ui.html"
        ),
        name="swagger-ui",
    ),
]

# Residents, reviewers and regulators (token or session login).

urlpatterns += [
    path("api/v1/auth/token", auth_api.TokenView.as_view(), name="auth-token"),
    path("api/v1/me/score", rights_api.MyScoreView.as_view(), name="my-score"),
    path("api/v1/me/events", rights_api.MyEventsView.as_view(), name="my-events"),
    path("api/v1/me/accesses", rights_api.MyAccessesView.as_view(), name="my-accesses"),
    path("api/v1/me/appeals", rights_api.MyAppealsView.as_view(), name="my-appeals"),
    path(
        "api/v1/appeals/<str:appeal_id>",
        appeal_api.AppealDetailView.as_view(),
        name="appeal-detail",
    ),
    path(
        "api/v1/appeals/<str:appeal_id>/decision",
        appeal_api.AppealDecisionView.as_view(),
        name="appeal-decision",
    ),
    path(
        "api/v1/appeals/<str:appeal_id>/extension",
        appeal_api.AppealExtensionView.as_view(),
        name="appeal-extension",
    ),
    path(
        "api/v1/appeals/<str:appeal_id>/review-request",
        appeal_api.AppealReviewRequestView.as_view(),
        name="appeal-review-request",
    ),
    path(
        "api/v1/appeals/<str:appeal_id>/review",
        appeal_api.AppealReviewView.as_view(),
        name="appeal-review",
    ),
    path(
        "api/v1/reviewer/appeals",
        appeal_api.ReviewerAppealListView.as_view(),
        name="reviewer-appeals",
    ),
]

# Automated eligibility answers: explanation and a person's review (PIPL 24).

urlpatterns += [
    path(
        "api/v1/me/eligibility/<str:threshold>/explanation",
        eligibility_api.MyEligibilityExplanationView.as_view(),
        name="my-eligibility-explanation",
    ),
    path(
        "api/v1/me/eligibility/<str:threshold>/review",
        eligibility_api.MyEligibilityReviewView.as_view(),
        name="my-eligibility-review",
    ),
    path(
        "api/v1/me/eligibility-reviews",
        eligibility_api.MyEligibilityReviewListView.as_view(),
        name="my-eligibility-reviews",
    ),
    path(
        "api/v1/eligibility-reviews/<str:review_id>",
        eligibility_api.EligibilityReviewDetailView.as_view(),
        name="eligibility-review-detail",
    ),
    path(
        "api/v1/eligibility-reviews/<str:review_id>/decision",
        eligibility_api.EligibilityReviewDecisionView.as_view(),
        name="eligibility-review-decision",
    ),
    path(
        "api/v1/reviewer/eligibility-reviews",
        eligibility_api.ReviewerEligibilityReviewListView.as_view(),
        name="reviewer-eligibility-reviews",
    ),
]

# Credit repair (residents apply, the submitting department decides) and the public catalogue.

urlpatterns += [
    path("api/v1/me/repairs", repair_api.CitizenRepairView.as_view(), name="my-repairs"),
    path("api/v1/repairs", repair_api.DepartmentRepairListView.as_view(), name="repairs"),
    path(
        "api/v1/repairs/<str:repair_id>/decision",
        repair_api.DepartmentRepairDecisionView.as_view(),
        name="repair-decision",
    ),
    path("catalogue/", public_views.catalogue_page, name="public-catalogue"),
    path(
        "catalogue/rules/<int:rule_id>/comments",
        public_views.comment_post,
        name="public-comment",
    ),
]
