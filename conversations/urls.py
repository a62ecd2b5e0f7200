from django.urls import path

from . import views

app_name = "conversations"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("sent/", views.sent, name="sent"),
    path("new/", views.conversation_create, name="conversation-create"),
    path("<id:pk>/", views.conversation_detail, name="conversation-detail"),
]

