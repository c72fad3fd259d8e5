"""Admins see every API token (never a key: only its first characters) and can revoke any by deleting it."""

from django.contrib import admin

from accounts.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created", "last_used", "expires")
    list_filter = ("expires",)
    search_fields = ("user__username", "name", "prefix")
    readonly_fields = ("user", "name", "prefix", "created", "last_used", "expires")

    def has_add_permission(self, request) -> bool:
        # A token made here would have no key anyone could see: users make their own.
        return False
