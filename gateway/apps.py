from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GatewayConfig(AppConfig):
    name = "gateway"
    verbose_name = _("score store")

    def ready(self) -> None:
        from gateway import signals
        from gateway.api import openapi  # noqa: F401  (registers the schema extensions)

        signals.connect()
