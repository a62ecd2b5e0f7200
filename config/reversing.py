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

`{% querystring %}` is kept the same way: Django's tag builds a QueryDict, sets each
argument through it and encodes the result, some 40 µs; a thread page has three (the
highlight switch's two, the next page's), each the same on every visit. Its output
depends only on the query strings and arguments given, which make the key.
"""

import functools

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import QueryDict
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


# {% querystring %}'s outputs, by what they were made of; emptied when full (query strings
# come from visitors, so there is no end to them).
_QUERYSTRINGS: dict[tuple, str] = {}
_QUERYSTRINGS_KEPT = 4096


def query_facts(mapping: QueryDict) -> tuple:
    """A query string's pairs as a key (a QueryDict is not hashable)."""
    return tuple((name, tuple(values)) for name, values in mapping.lists())


def _plain(value) -> bool:
    return value is None or (isinstance(value, (str, int)) and type(value) is not bool)


@register.simple_tag(takes_context=True)
def querystring(context, *args, **kwargs):
    """{% querystring %}, as Django's (same arguments, same output), kept per process
    where the mappings are query strings (request.GET when none is given) and the
    arguments strings, integers or None; anything else is built anew."""
    mappings = args or (context.request.GET,)
    if not (all(type(mapping) is QueryDict for mapping in mappings) and all(map(_plain, kwargs.values()))):
        return defaulttags.querystring(context, *args, **kwargs)
    key = (
        tuple(map(query_facts, mappings)),
        tuple(kwargs.items()),
    )
    kept = _QUERYSTRINGS.get(key)
    if kept is None:
        if len(_QUERYSTRINGS) >= _QUERYSTRINGS_KEPT:
            _QUERYSTRINGS.clear()
        kept = _QUERYSTRINGS[key] = defaulttags.querystring(context, *mappings, **kwargs)
    return kept
