from django.urls import include, path

from . import feeds, views

app_name = "forums"

# A forum's pages, below /f/<slug>/.
forum_urls = [
    path("", views.forum_detail, name="forum-detail"),
    path("new/", views.thread_create, name="thread-create"),
    path("about/", views.forum_about, name="forum-about"),
    path("feed/", feeds.ForumFeed(), name="forum-feed"),
    path("feed/atom/", feeds.ForumAtomFeed(), name="forum-feed-atom"),
    path("mark-read/", views.forum_mark_read, name="forum-mark-read"),
]

# One post's pages, below /t/<thread>/r/<number>/.
post_urls = [
    path("", views.post_jump, name="post-jump"),
    path("reply/", views.reply_create, name="reply-create"),
    path("edit/", views.post_edit, name="post-edit"),
    path("delete/", views.post_delete, name="post-delete"),
    path("history/", views.post_history, name="post-history"),
    path("recommend/", views.post_recommend, name="post-recommend"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("forums/", views.forum_index, name="forum-index"),
    path("forums/mark-read/", views.all_forums_mark_read, name="all-forums-mark-read"),
    path("latest/", views.latest, name="latest"),
    path("latest/feed/", feeds.LatestFeed(), name="latest-feed"),
    path("latest/feed/atom/", feeds.LatestAtomFeed(), name="latest-feed-atom"),
    path("search/", views.search, name="search"),
    path("greatest/", views.greatest, name="greatest"),
    path("my/posts/", views.my_posts, name="my-posts"),
    path("my/subscriptions/", views.my_subscriptions, name="my-subscriptions"),
    path("forums/<slug:slug>/", views.section_detail, name="section-detail"),
    path("f/<slug:slug>/", include(forum_urls)),
    path("t/<id:pk>/", views.thread_detail, {"slug": ""}, name="thread-short"),
    path("t/<id:pk>/r/<id:number>/", include(post_urls)),
    path("t/<id:pk>/<slug:slug>/", views.thread_detail, name="thread-detail"),
    path("t/<id:pk>/<slug:slug>/all/", views.thread_all, name="thread-all"),
    path("t/<id:pk>/poll/vote/", views.poll_vote, name="poll-vote"),
    path("follow/forum/<slug:slug>/", views.forum_follow, name="forum-follow"),
    path("follow/thread/<id:pk>/", views.thread_follow, name="thread-follow"),
    path("trash/thread/<id:pk>/", views.thread_trash, name="thread-trash"),
    path("trash/forum/<slug:slug>/", views.forum_trash, name="forum-trash"),
    path("ignore/<username:username>/", views.member_ignore, name="member-ignore"),
    path("notifications/", views.notification_list, name="notification-list"),
]
