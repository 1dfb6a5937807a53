from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GatewayConfig(AppConfig):
    name = "gateway"
    verbose_name = _("score store")

    def ready(self) -> None:
        from compliance.signals import calendar_changed
        from gateway.api import openapi  # noqa: F401  (registers the schema extensions)
        from gateway.services.deadlines import on_calendar_changed

        calendar_changed.connect(on_calendar_changed, dispatch_uid="gateway_deadlines_recompute")
