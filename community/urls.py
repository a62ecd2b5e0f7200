from django.urls import path

from . import views

# The member's own pages, under the names members know them by.
app_name = "members"

urlpatterns = [
    path("members/<username:username>/", views.member_detail, name="member-detail"),
    path("settings/", views.settings_edit, name="settings"),
    path("settings/data/", views.member_data_download, name="member-data"),
    path("settings/delete/", views.member_delete_confirm, name="member-delete"),
]
