from django.urls import path

from . import views

app_name = "forums"

urlpatterns = [
    path("", views.home, name="home"),
    path("forums/", views.forum_index, name="forum-index"),
    path("forums/<slug:slug>/", views.section_detail, name="section-detail"),
    path("f/<slug:slug>/", views.forum_detail, name="forum-detail"),
    path("t/<int:pk>/", views.thread_detail, {"slug": ""}, name="thread-short"),
    path("t/<int:pk>/<slug:slug>/", views.thread_detail, name="thread-detail"),
    path("t/<int:pk>/<slug:slug>/all/", views.thread_all, name="thread-all"),
]
