"""Admin parts every app's admin uses."""

from django.contrib import admin


class ReadOnlyInline(admin.TabularInline):
    """Rows shown beside their parent for the record, never added, changed or deleted
    here (codes are redeemed, jury seats answered and messages sent by members)."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
