"""The pictures of posts and messages, at /pictures/: conversations is the lowest app
that can tell who may see every one of them (forums.pictures.PICTURE_PATH)."""

from django.urls import path

from . import views

app_name = "pictures"

urlpatterns = [
    path("<id:pk>/", views.picture_file, name="picture"),
    path("<id:pk>/thumb/", views.picture_file, {"thumbnail": True}, name="picture-thumbnail"),
]
