from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.forms.utils import flatatt
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from config.page_cache import SiteCopy, site_version

from . import polls
from .context_processors import CHROME_SECONDS
from .models import Forum, Poll, PollOption
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


class PollForm(forms.Form):
    """The optional poll of a new thread, checked by forums.polls.poll_spec. Left empty,
    the thread has no poll."""

    question = forms.CharField(
        label=_("Question"), max_length=polls.QUESTION_MAX, required=False,
        help_text=_("Leave the question and options empty for a thread without a poll."),
    )
    options = forms.CharField(
        label=_("Options"), required=False, widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("One option per line: from 2 to 20 options."),
    )
    max_choices = forms.IntegerField(
        label=_("Choices per member"), required=False, initial=1, min_value=1, max_value=polls.OPTIONS_MAX,
        help_text=_("1 for a single choice; more lets members tick up to that many options."),
    )
    # Not required: a form sent without the poll's fields (older pages, scripts) is a
    # thread without a poll, not an error.
    results_shown = forms.ChoiceField(
        label=_("Show the results"), choices=Poll.Results, initial=Poll.Results.AFTER_VOTING, required=False
    )
    allows_vote_change = forms.BooleanField(label=_("Members may change their vote"), required=False)
    closes_at = forms.DateTimeField(
        label=_("Closes"), required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Optional. After this time nobody can vote, and everyone sees the results."),
    )

    def clean(self):
        cleaned = super().clean()
        self.spec = None
        if self.errors or not (cleaned["question"].strip() or cleaned["options"].strip()):
            return cleaned
        try:
            self.spec = polls.poll_spec(
                question=cleaned["question"], options=polls.option_lines(cleaned["options"]),
                max_choices=cleaned["max_choices"], allows_vote_change=cleaned["allows_vote_change"],
                results_shown=cleaned["results_shown"] or Poll.Results.AFTER_VOTING,
                closes_at=cleaned["closes_at"],
            )
        except ValidationError as refusal:
            self.add_error(None, refusal)
        return cleaned


class ThreadForm(forms.Form):
    """A new thread; with `with_poll`, its optional poll too (as `poll`, a PollForm whose
    result is cleaned_data["poll"]: a forums.polls.PollSpec or None)."""

    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX)
    body = _body_field()
    pictures = pictures_field()

    def __init__(self, data=None, files=None, *, with_poll: bool = False, **kwargs):
        super().__init__(data, files, **kwargs)
        self.poll = PollForm(data, prefix="poll") if with_poll else None

    def clean(self):
        cleaned = super().clean()
        if self.poll is not None:
            if not self.poll.is_valid():
                raise ValidationError(_("The poll needs a change: see below."))
            cleaned["poll"] = self.poll.spec
        return cleaned


class PollVoteForm(forms.Form):
    """The options a member ticks in a thread's poll: only that poll's count."""

    option = forms.ModelMultipleChoiceField(
        queryset=PollOption.objects.none(),
        error_messages={
            "required": _(polls.CHOOSE_AN_OPTION),
            "invalid_choice": _(polls.NOT_AN_OPTION),
            "invalid_pk_value": _(polls.NOT_AN_OPTION),
            "invalid_list": _(polls.NOT_AN_OPTION),
        },
    )

    def __init__(self, data=None, *, thread, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["option"].queryset = PollOption.objects.filter(poll_id=thread.pk)


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


class LongSelect(forms.Select):
    """A select of many plain options (no groups), written here rather than through
    one template per option: the search form's list of 115 forums took 15 ms a page.
    The options come straight from the choices, as Select marks them (the first whose
    value is chosen): building Select's dictionary of each option first was a fifth of
    a search page."""

    def render(self, name, value, attrs=None, renderer=None):
        chosen = set(self.format_value(value))
        options = []
        for option_value, label in self.choices:
            option_value = "" if option_value is None else str(option_value)
            selected = option_value in chosen
            if selected:
                chosen = ()
            options.append(
                f'<option value="{escape(option_value)}"{" selected" if selected else ""}>{escape(label)}</option>'
            )
        return format_html(
            '<select name="{}"{}>{}</select>', name, flatatt(self.build_attrs(self.attrs, attrs)),
            mark_safe("".join(options)),
        )


# This process's copy of the search form's forums, for the current site version (which
# a new or renamed forum changes, as it does the navigation's): read from the database
# on every search page, the 115 forums as model instances were a tenth of the page.
_FORUM_CHOICES = SiteCopy(CHROME_SECONDS)


def _forum_choices() -> list[tuple[str, str]]:
    """Every forum as (slug, name), by name: the options of the search form's filter."""
    return _FORUM_CHOICES.get(
        site_version(), lambda version: list(Forum.objects.order_by("name").values_list("slug", "name"))
    )


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search for"), max_length=200, required=False, strip=True)
    forum = forms.ModelChoiceField(
        label=_("Forum"), queryset=None, required=False, to_field_name="slug",
        empty_label=_("All forums"), widget=LongSelect,
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
        forum = self.fields["forum"]
        # The chosen forum is looked up by its slug; its post count decides how search
        # walks its posts (forums.search).
        forum.queryset = Forum.objects.only("name", "slug", "post_count")
        forum.widget.choices = [("", forum.empty_label), *_forum_choices()]

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end date is before the start date."))
        return cleaned
