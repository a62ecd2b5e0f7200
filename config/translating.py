"""Django's i18n template library, with `{% translate "literal" %}` kept per process: every
template that loads i18n gets this module in its place (TEMPLATES' "libraries" name it
"i18n"), with the same tags and filters, and the same output.

A {% translate %} of a literal went through the translation machinery on every render:
the active language from a context-local, the catalog, the safe-string wrapping, some
25 µs. A forum's page has about twenty (the header's, the footer's, its buttons and
headings): a tenth of its template time, on every request, for words that depend only
on the language. A literal's output depends only on the message, the active language,
the catalogs and whether the template autoescapes, so a node keeps its output by
language and autoescaping; a message with a variable, filters or a context is
translated each time, as before. Changing the languages or where catalogs are found
(tests do) drops what was kept.
"""

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template import Library
from django.templatetags import i18n
from django.utils import translation

register = Library()
register.tags.update(i18n.register.tags)
register.filters.update(i18n.register.filters)

# Bumped when what a translation depends on changes (settings in tests); part of each key.
_catalogs = 0


@receiver(setting_changed)
def _translations_changed(*, setting, **kwargs):
    global _catalogs
    if setting in {"LANGUAGES", "LANGUAGE_CODE", "LOCALE_PATHS", "INSTALLED_APPS"}:
        _catalogs += 1


def catalogs() -> int:
    """A number that changes whenever translations may have (part of kept outputs' keys)."""
    return _catalogs


class KeptTranslateNode(i18n.TranslateNode):
    """Django's TranslateNode for a literal message without filters or context: its
    output is kept per language and autoescaping."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._kept = {}

    def render(self, context):
        key = (translation.get_language(), context.autoescape, _catalogs)
        value = self._kept.get(key)
        if value is None:
            if self.asvar:
                super().render(context)
                value = context[self.asvar]
            else:
                value = super().render(context)
            self._kept[key] = value
        if self.asvar:
            context[self.asvar] = value
            return ""
        return value


@register.tag("translate")
@register.tag("trans")
def do_translate(parser, token):
    """{% translate %}, as Django's (same syntax, same output); a literal message's
    output is kept (KeptTranslateNode)."""
    node = i18n.do_translate(parser, token)
    message = node.filter_expression
    if message.filters or node.message_context is not None or message.var.literal is None:
        return node
    return KeptTranslateNode(message, node.noop, node.asvar, node.message_context)
