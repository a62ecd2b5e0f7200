from django.conf import settings
from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404, render

from forums.models import Post


def member_detail(request, username):
    """A member's public profile: member since, post count and recent posts."""
    member = get_object_or_404(get_user_model(), username=username, is_active=True)
    recent_posts = Post.objects.for_profile(member)[: settings.FORUMS_PROFILE_RECENT_POSTS]
    return render(
        request, "accounts/member_detail.html", {"member": member, "recent_posts": recent_posts}
    )
