from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path, register_converter

from . import views
from .converters import IdConverter, UsernameConverter

# Before the apps' URLs are included: they use <id:...> and <username:...> in paths.
register_converter(IdConverter, "id")
register_converter(UsernameConverter, "username")

# allauth renders its rate-limit refusals (signup, login, password reset) with this.
handler429 = "config.ratelimit.allauth_too_many_requests"
handler400 = "config.middleware.bad_request"

urlpatterns = [
    # No trailing slash: load balancer health checks ask for exactly this path.
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("moderation/", include("moderation.urls")),
    path("messages/", include("conversations.urls")),
    path("pictures/", include("conversations.picture_urls")),
    path("", include("accounts.urls")),
    path("", include("community.urls")),
    # Links into a forum imported from phpBB (manage.py import_phpbb) keep working.
    path("", include("community.phpbb.urls")),
    path("", include("forums.urls")),
]
# Uploaded avatars in development; production serves MEDIA_ROOT from the web server.
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
