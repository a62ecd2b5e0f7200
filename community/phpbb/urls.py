from django.urls import path

from . import views

# phpBB's own page names, at the site's root where phpBB had them.
app_name = "phpbb"

urlpatterns = [
    path("viewforum.php", views.viewforum, name="viewforum"),
    path("viewtopic.php", views.viewtopic, name="viewtopic"),
    path("memberlist.php", views.memberlist, name="memberlist"),
]
