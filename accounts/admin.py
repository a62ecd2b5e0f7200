from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "email", "display_name", "post_count", "date_joined", "is_staff"]
    readonly_fields = ["post_count"]
    fieldsets = DjangoUserAdmin.fieldsets + (
        ("Forum", {"fields": ["display_name", "post_count"]}),
    )
