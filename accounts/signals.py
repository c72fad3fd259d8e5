"""A new password revokes every API token of its user, however it was set.

The password page, a reset link, the admin and `manage.py changepassword` all call
`set_password()` and save; Django keeps the raw password on the instance until that save
(`_password`, for the validators' `password_changed`), and clears it when it only upgrades a
hash at sign-in. Watching the save catches each of them, and not the hash upgrade.
"""

from django.contrib.auth import get_user_model
from django.db.models.signals import post_save


def _revoke_tokens_on_new_password(sender, instance, created, **kwargs) -> None:
    if created or getattr(instance, "_password", None) is None:
        return
    from accounts.services import api_tokens_revoke_all

    api_tokens_revoke_all(user=instance)


def connect() -> None:
    post_save.connect(
        _revoke_tokens_on_new_password, sender=get_user_model(), dispatch_uid="accounts.revoke_tokens_on_new_password"
    )
