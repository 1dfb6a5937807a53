from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = _("compliance")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from compliance import signals

        post_migrate.connect(signals.ensure_default_policy, sender=self)
        # After every app's permissions exist: connect without a sender, run once per migrate.
        post_migrate.connect(
            signals.ensure_regulator_group, dispatch_uid="compliance_regulator_group"
        )
