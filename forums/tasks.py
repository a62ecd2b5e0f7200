"""Work done after the response, through Django's task framework.

The default backend runs tasks in-process right after the posting transaction
commits; a durable backend can take them over in production without code changes.
"""

from django.conf import settings
from django.core.mail import send_mail
from django.tasks import task
from django.template.loader import render_to_string

from config.mail import sender

from .models import Community, Notification


@task
def email_notifications(
    post_id: int, member_ids: list[int], notification_ids: list[int] | None = None
) -> int:
    """Email the members who asked for it about a post that concerns them: the
    notifications `notification_ids` (a member may hear of one post more than once, as
    each recommendation comes), or, for tasks queued before there were ids, every
    notification of the post to `member_ids`."""
    notifications = Notification.objects.filter(post_id=post_id, recipient_id__in=member_ids)
    if notification_ids is not None:
        notifications = notifications.filter(pk__in=notification_ids)
    notifications = (
        notifications
        .filter(recipient__email_notifications=True, recipient__is_active=True)
        .exclude(recipient__email="")
        .select_related("recipient", "actor", "post__thread")
    )
    from_email, sent = sender(Community.current().name), 0
    for notification in notifications:
        context = {
            "notification": notification,
            "post_url": settings.FORUMS_SITE_URL.rstrip("/") + notification.post.get_absolute_url(),
            "settings_url": settings.FORUMS_SITE_URL.rstrip("/") + "/settings/",
        }
        # One line: a display name may hold line breaks, which mail headers refuse.
        subject = " ".join(render_to_string("forums/email/notification_subject.txt", context).split())
        body = render_to_string("forums/email/notification_body.txt", context)
        sent += send_mail(subject, body, from_email, [notification.recipient.email])
    return sent
