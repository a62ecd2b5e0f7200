from django.urls import path

from . import views

app_name = "moderation"

urlpatterns = [
    path("", views.moderation_log, name="log"),
    path("alert/<id:pk>/<id:number>/", views.alert_create, name="alert-create"),
    path("jury/<id:pk>/", views.jury_detail, name="jury-detail"),
    path("jury/<id:pk>/result/", views.jury_result, name="jury-result"),
    path("thread/<id:pk>/lock/", views.thread_lock, name="thread-lock"),
    path("thread/<id:pk>/pin/", views.thread_pin, name="thread-pin"),
    path("thread/<id:pk>/move/", views.thread_move, name="thread-move"),
    path("thread/<id:pk>/poll/close/", views.poll_close, name="poll-close"),
    path("post/<id:pk>/<id:number>/hide/", views.post_hide, name="post-hide"),
    path("post/<id:pk>/<id:number>/verdict/", views.post_verdict, name="post-verdict"),
    path("forum/<slug:slug>/", views.forum_hosting, name="forum-hosting"),
]
