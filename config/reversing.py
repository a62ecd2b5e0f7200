"""URLs reversed once per process: `reverse_kept()`, and the `{% url %}` tag built on it,
which every template gets in place of Django's (TEMPLATES' "builtins").

django.urls.reverse() looks the name up through the URL resolvers, quotes the
arguments and checks the result against the pattern's regular expression on every
call: some 30 µs. A forum's page reversed a dozen URLs of the same few names and
arguments (its feeds, its Follow, Mark read and Trash forms, All Forums in the
breadcrumbs, the header's Log out), a tenth of its template time, on every request.
A URL depends only on its name and arguments, the current app, the URLconf, the
script prefix and the language (translated paths), which make the key; a name that
does not reverse raises every time, as before.
"""

import functools

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template import Library, defaulttags
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils import translation
from django.utils.html import conditional_escape

register = Library()


def reverse_kept(viewname, args=(), kwargs=None, current_app=None) -> str:
    """django.urls.reverse(), kept for the process where the arguments are strings and
    integers (anything else, a lazy string or a model, is reversed anew)."""
    values = (*args, *(kwargs or {}).values())
    if not all(isinstance(value, (str, int)) and type(value) is not bool for value in values):
        return reverse(viewname, args=args, kwargs=kwargs, current_app=current_app)
    return _reversed(
        viewname, tuple(args), tuple(sorted((kwargs or {}).items())), current_app,
        get_urlconf(), get_script_prefix(), translation.get_language(),
    )


@functools.lru_cache(maxsize=8192)
def _reversed(viewname, args, kwargs, current_app, _urlconf, _script_prefix, _language) -> str:
    return reverse(viewname, args=args, kwargs=dict(kwargs), current_app=current_app)


@receiver(setting_changed)
def _urls_changed(*, setting, **kwargs):
    if setting in {"ROOT_URLCONF", "FORCE_SCRIPT_NAME", "LANGUAGES"}:
        _reversed.cache_clear()


class KeptURLNode(defaulttags.URLNode):
    """Django's {% url %}, through reverse_kept()."""

    def render(self, context):
        args = [arg.resolve(context) for arg in self.args]
        kwargs = {key: value.resolve(context) for key, value in self.kwargs.items()}
        view_name = self.view_name.resolve(context)
        try:
            current_app = context.request.current_app
        except AttributeError:
            try:
                current_app = context.request.resolver_match.namespace
            except AttributeError:
                current_app = None
        url = ""
        try:
            url = reverse_kept(view_name, args, kwargs, current_app)
        except NoReverseMatch:
            if self.asvar is None:
                raise
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser, token):
    """{% url %}, as Django's (same syntax, same output), with URLs kept (reverse_kept)."""
    node = defaulttags.url(parser, token)
    return KeptURLNode(node.view_name, node.args, node.kwargs, node.asvar)
