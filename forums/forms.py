from django import forms
from django.conf import settings
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from .services import BODY_MAX, TITLE_MAX

BODY_HELP = _(
    "Markdown: *italic*, **bold**, > quote, - list, [link](https://...), ``` code ```. "
    "Excerpts of copyrighted articles: at most 4 paragraphs, with a link to the source."
)


PICTURES_HELP = _(
    "JPEG, PNG, GIF or WebP, up to {size_mb} MB each, {count} at most. Place each one in "
    "your text with ![what it shows](file name), for example ![Our cat asleep](cat.jpg)."
)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PicturesField(forms.FileField):
    """Several files from one `<input type=file multiple>`, as a list. Whether each is a
    picture, and how large, services.pictures_upload decides, naming the file."""

    widget = MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/gif,image/webp"})

    def __init__(self, **kwargs):
        super().__init__(required=False, allow_empty_file=True, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else [data]
        return [super(PicturesField, self).clean(upload, initial) for upload in files if upload]


def pictures_field():
    return PicturesField(
        label=_("Pictures"),
        help_text=format_lazy(
            PICTURES_HELP, size_mb=settings.FORUMS_PICTURE_MAX_BYTES // (1024 * 1024),
            count=settings.FORUMS_PICTURES_PER_POST,
        ),
    )


def _body_field():
    return forms.CharField(
        label=_("Message"), max_length=BODY_MAX, help_text=BODY_HELP,
        widget=forms.Textarea(attrs={"rows": 12}),
    )


class ThreadForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX)
    body = _body_field()
    pictures = pictures_field()


class ReplyForm(forms.Form):
    subject = forms.CharField(
        label=_("Subject"), max_length=TITLE_MAX, required=False,
        help_text=_("Leave empty to use the first words of your reply."),
    )
    body = _body_field()
    pictures = pictures_field()


class EditForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=TITLE_MAX)
    body = _body_field()
    pictures = pictures_field()


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search for"), max_length=200, required=False, strip=True)
    forum = forms.ModelChoiceField(
        label=_("Forum"), queryset=None, required=False, to_field_name="slug",
        empty_label=_("All forums"),
    )
    author = forms.CharField(label=_("Author (username)"), max_length=150, required=False)
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    order = forms.ChoiceField(
        label=_("Order"), required=False,
        choices=[("relevance", _("Most relevant first")), ("newest", _("Newest first"))],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from .models import Forum

        # The post count decides how search walks a forum's posts (forums.search).
        self.fields["forum"].queryset = Forum.objects.only("name", "slug", "post_count").order_by("name")

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end date is before the start date."))
        return cleaned
