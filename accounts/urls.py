from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("star/", views.star, name="star"),
]
