from django.urls import path

from . import feeds, views

app_name = "forums"

urlpatterns = [
    path("", views.home, name="home"),
    path("forums/", views.forum_index, name="forum-index"),
    path("forums/mark-read/", views.all_forums_mark_read_view, name="all-forums-mark-read"),
    path("latest/", views.latest, name="latest"),
    path("latest/feed/", feeds.LatestFeed(), name="latest-feed"),
    path("latest/feed/atom/", feeds.LatestAtomFeed(), name="latest-feed-atom"),
    path("search/", views.search, name="search"),
    path("greatest/", views.greatest, name="greatest"),
    path("my/posts/", views.my_posts, name="my-posts"),
    path("my/subscriptions/", views.my_subscriptions, name="my-subscriptions"),
    path("forums/<slug:slug>/", views.section_detail, name="section-detail"),
    path("f/<slug:slug>/", views.forum_detail, name="forum-detail"),
    path("f/<slug:slug>/new/", views.thread_create, name="thread-create"),
    path("f/<slug:slug>/about/", views.forum_about, name="forum-about"),
    path("f/<slug:slug>/feed/", feeds.ForumFeed(), name="forum-feed"),
    path("f/<slug:slug>/feed/atom/", feeds.ForumAtomFeed(), name="forum-feed-atom"),
    path("f/<slug:slug>/mark-read/", views.forum_mark_read_view, name="forum-mark-read"),
    path("t/<id:pk>/", views.thread_detail, {"slug": ""}, name="thread-short"),
    path("t/<id:pk>/r/<id:number>/", views.post_jump, name="post-jump"),
    path("t/<id:pk>/r/<id:number>/reply/", views.reply_create, name="reply-create"),
    path("t/<id:pk>/r/<id:number>/edit/", views.post_edit, name="post-edit"),
    path("t/<id:pk>/r/<id:number>/delete/", views.post_delete_view, name="post-delete"),
    path("t/<id:pk>/r/<id:number>/history/", views.post_history, name="post-history"),
    path("t/<id:pk>/r/<id:number>/recommend/", views.post_recommend, name="post-recommend"),
    path("t/<id:pk>/<slug:slug>/", views.thread_detail, name="thread-detail"),
    path("t/<id:pk>/<slug:slug>/all/", views.thread_all, name="thread-all"),
    path("follow/forum/<slug:slug>/", views.forum_follow, name="forum-follow"),
    path("follow/thread/<id:pk>/", views.thread_follow, name="thread-follow"),
    path("trash/thread/<id:pk>/", views.thread_trash, name="thread-trash"),
    path("trash/forum/<slug:slug>/", views.forum_trash, name="forum-trash"),
    path("ignore/<username:username>/", views.member_ignore, name="member-ignore"),
    path("notifications/", views.notification_list, name="notification-list"),
]
