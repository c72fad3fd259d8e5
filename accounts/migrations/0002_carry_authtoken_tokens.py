"""Carry the tokens DRF's authtoken app handed out into ApiToken, then drop its table.

The site used rest_framework.authtoken before: its table holds every key in clear. Each key
becomes an ApiToken (its hash only) that expires API_TOKEN_TTL_DAYS from now, so scripts keep
working until then, and the old table goes, keys and all. A database that never had the app
has nothing to carry.
"""

import hashlib
from datetime import UTC, timedelta

from django.conf import settings
from django.db import migrations
from django.utils import timezone

OLD_TABLE = "authtoken_token"


def carry_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if OLD_TABLE not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("accounts", "ApiToken")
    expires = timezone.now() + timedelta(days=settings.API_TOKEN_TTL_DAYS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, user_id, created FROM {connection.ops.quote_name(OLD_TABLE)}")
        rows = cursor.fetchall()
    ApiToken.objects.bulk_create(
        ApiToken(
            user_id=user_id,
            name="Carried over from the old token",
            key_hash=hashlib.sha256(key.encode()).hexdigest(),
            prefix=key[:8],
            created=created if timezone.is_aware(created) else timezone.make_aware(created, UTC),
            expires=expires,
        )
        for key, user_id, created in rows
    )
    schema_editor.execute(f"DROP TABLE {connection.ops.quote_name(OLD_TABLE)}")
    # The app is gone: its migrations are no longer applied (re-adding it would create its table again).
    schema_editor.execute("DELETE FROM django_migrations WHERE app = 'authtoken'")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    # Irreversible on purpose: the old table kept keys in clear, and a hash cannot give them back.
    operations = [migrations.RunPython(carry_tokens, migrations.RunPython.noop)]
