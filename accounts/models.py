from django.contrib.auth.models import AbstractUser
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A member of the community. allauth signs them up and in."""

    display_name = models.CharField(_("display name"), max_length=60, blank=True)
    # Kept exact by forums.services in the same transaction as each post, so a
    # thread page can print "(36,401 posts)" without counting rows.
    post_count = models.PositiveIntegerField(_("posts"), default=0)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    def __str__(self):
        return self.username

    @property
    def public_name(self) -> str:
        return self.display_name or self.username

    def get_absolute_url(self):
        return reverse("accounts:member-detail", args=[self.username])
