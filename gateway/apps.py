from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GatewayConfig(AppConfig):
    name = "gateway"
    verbose_name = _("score store")

    def ready(self) -> None:
        from audit.services import register_bound_state_check
        from compliance.signals import calendar_changed
        from gateway import signals
        from gateway.api import openapi  # noqa: F401  (registers the schema extensions)
        from gateway.services.binding import ledger_binding_check
        from gateway.services.deadlines import on_calendar_changed

        # audit_verify walks the ledger with the log (the audit app imports no other app).
        register_bound_state_check(ledger_binding_check)
        signals.connect()
        calendar_changed.connect(on_calendar_changed, dispatch_uid="gateway_deadlines_recompute")
