from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("audit log")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from audit import signals

        post_migrate.connect(signals.ensure_log_head, sender=self)
