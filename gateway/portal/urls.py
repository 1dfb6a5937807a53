"""The portal's pages (namespace "portal"): no identity number in any path."""

from django.urls import path

from gateway.portal import views

app_name = "portal"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.logout, name="logout"),
    path("", views.home, name="home"),
    path("events/", views.events, name="events"),
    path("events/<int:event_id>/objection/", views.appeal_file, name="appeal-file"),
    path("events/<int:event_id>/repair/", views.repair_apply, name="repair-apply"),
    path("repairs/", views.repairs, name="repairs"),
    path("accesses/", views.accesses, name="accesses"),
    path("eligibility/<str:threshold>/", views.eligibility, name="eligibility"),
    path("appeals/", views.appeals, name="appeals"),
    path("appeals/<int:appeal_id>/", views.appeal, name="appeal"),
    path("notifications/", views.notifications, name="notifications"),
    path(
        "notifications/<int:notification_id>/read/",
        views.notification_read,
        name="notification-read",
    ),
    path("report/", views.report, name="report"),
    path("review/", views.queue, name="queue"),
    path("review/<int:appeal_id>/", views.review, name="review"),
    path("review/<int:appeal_id>/decision/", views.decide, name="decide"),
    path("review/<int:appeal_id>/extension/", views.extend, name="extend"),
    path(
        "review/eligibility/<int:review_id>/",
        views.eligibility_review,
        name="eligibility-review",
    ),
]
