"""A new password revokes every API token of the account, wherever it was set."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models.signals import pre_save


def revoke_tokens_on_new_password(sender, instance, update_fields=None, **kwargs) -> None:
    if instance.pk is None or (update_fields is not None and "password" not in update_fields):
        return
    stored = sender.objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    if stored is not None and stored != instance.password:
        from gateway.services.tokens import account_tokens_revoke

        account_tokens_revoke(user=instance)


def connect() -> None:
    pre_save.connect(
        revoke_tokens_on_new_password,
        sender=get_user_model(),
        dispatch_uid="gateway_revoke_tokens_on_new_password",
    )
