from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("gateway.urls")),
    path("", include("audit.urls")),
]

# The residents' portal and the language switcher it posts to (django.views.i18n.set_language).
urlpatterns += [
    path("", RedirectView.as_view(pattern_name="portal:home", permanent=False), name="root"),
    path("portal/", include("gateway.portal.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
]
