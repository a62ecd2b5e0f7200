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


class PositionedAdmin(admin.ModelAdmin):
    """Named lists staff arrange by hand (sections, alert rules): reordered from the list
    page by their position, the slug written from the name."""

    list_display = ["name", "slug", "position"]
    list_editable = ["position"]
    prepopulated_fields = {"slug": ["name"]}
