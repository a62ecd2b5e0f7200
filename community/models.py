from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportedRow(models.Model):
    """A row brought over from another forum's database, and what it became here.

    The import reads this to bring over only what is new (a second run for the final
    sync, or the rest of an interrupted one), and old links (`viewtopic.php?t=N`) are
    redirected with it. `new_id` is the id of the row of `kind`'s model.
    """

    class Kind(models.TextChoices):
        MEMBER = "member", _("member")
        SECTION = "section", _("section")
        FORUM = "forum", _("forum")
        THREAD = "thread", _("thread")
        POST = "post", _("post")
        CONVERSATION = "conversation", _("conversation")
        MESSAGE = "message", _("message")
        SUSPENSION = "suspension", _("suspension")
        # A topic's poll: old_id is the topic's, new_id the poll's (its thread's id).
        POLL = "poll", _("poll")

    source = models.CharField(_("source"), max_length=20, default="phpbb")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    old_id = models.BigIntegerField(_("id in the source"))
    new_id = models.BigIntegerField(_("id here"))

    class Meta:
        verbose_name = _("imported row")
        verbose_name_plural = _("imported rows")
        constraints = [
            models.UniqueConstraint(fields=["source", "kind", "old_id"], name="imported_row_once"),
        ]

    def __str__(self):
        return f"{self.source} {self.kind} {self.old_id} -> {self.new_id}"
