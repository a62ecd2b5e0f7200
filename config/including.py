"""`{% include_kept "partial.html" name=value ... %}`: an include whose output each process
keeps, by the values it is given; every template gets it (TEMPLATES' "builtins").

A small partial costs the template language far more than its bytes: the pages'
pagination (an if, three links with query strings, a blocktranslate) took some 200 µs
of every list and thread page on a slow machine, and returns the same few hundred bytes
for the same page number of the same list. Such a partial is rendered here with only
the given values, in a context of its own (no request, no context processors: its
output can depend on nothing else), and kept under them and what a template's output
may depend on besides (the language, time zone, script prefix and URLconf, the
catalogs, autoescaping and the template itself). A value that cannot make a key
(anything but text, a number, a boolean, None or a query string) renders the partial
anew each time, still with only the given values.

A kept partial cannot show what belongs to one request: a CSRF token, the messages,
the reader. Those stay in plain {% include %}s.
"""

from django.http import QueryDict
from django.template import Context, Library, Node, TemplateSyntaxError
from django.template.base import token_kwargs
from django.urls import get_script_prefix, get_urlconf
from django.utils import timezone, translation

from config import translating
from config.reversing import query_facts

register = Library()

# Partials' outputs by their key; emptied when full (query strings come from visitors,
# so there is no end to the keys).
_KEPT: dict[tuple, str] = {}
_KEPT_MOST = 4096


class _Unkept:
    """A value that makes no key."""


_UNKEPT = _Unkept()


def _fact(value):
    """What `value` contributes to a key: itself with its type (a safe string and a
    plain one with the same text render differently), a query string's pairs, or
    _UNKEPT."""
    if value is None or isinstance(value, (str, int)):
        return type(value), value
    if type(value) is QueryDict:
        return QueryDict, query_facts(value)
    return _UNKEPT


class KeptIncludeNode(Node):
    def __init__(self, template_name: str, values: dict):
        self.template_name = template_name
        self.values = values
        # Found once: a changed template (while developing) makes the engine parse
        # the templates that include it again, and so a new node.
        self.template = None

    def render(self, context):
        values = {name: value.resolve(context) for name, value in self.values.items()}
        template = self.template
        if template is None:
            template = self.template = context.template.engine.get_template(self.template_name)
        return render_kept(template, values, context)


def render_kept(template, values: dict, context) -> str:
    """`template` rendered with only `values`, and kept under them: what
    {% include_kept %} does, for a template tag that works out the values itself."""
    facts = tuple(map(_fact, values.values()))
    if any(fact is _UNKEPT for fact in facts):
        return _render(template, values, context)
    key = (
        template, tuple(values), facts, translation.get_language(), timezone.get_current_timezone_name(),
        get_script_prefix(), get_urlconf(), translating.catalogs(), context.autoescape,
    )
    html = _KEPT.get(key)
    if html is None:
        if len(_KEPT) >= _KEPT_MOST:
            _KEPT.clear()
        html = _KEPT[key] = _render(template, values, context)
    return html


def _render(template, values, context) -> str:
    return template.render(Context(values, autoescape=context.autoescape))


@register.tag
def include_kept(parser, token):
    """{% include_kept "name.html" name=value ... %}: the template name is a literal; the
    partial sees only the names given."""
    bits = token.split_contents()
    if len(bits) < 2 or bits[1][0] not in "\"'" or bits[1][-1] != bits[1][0]:
        raise TemplateSyntaxError(f"{bits[0]} takes a template name in quotes, then name=value pairs")
    remaining = bits[2:]
    values = token_kwargs(remaining, parser, support_legacy=False)
    if remaining:
        raise TemplateSyntaxError(f"{bits[0]} takes only name=value pairs after the template name")
    return KeptIncludeNode(bits[1][1:-1], values)
