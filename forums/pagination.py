from django.core.paginator import InvalidPage, Paginator
from django.http import Http404
from django.utils.functional import cached_property
from django.utils.translation import gettext as _


class CountedPaginator(Paginator):
    """A Paginator told its row count by a denormalised counter, so it never runs COUNT(*)."""

    def __init__(self, object_list, per_page, *, count: int, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self._known_count = count

    @cached_property
    def count(self):
        return self._known_count


def page_or_404(paginator: Paginator, raw_number):
    """The requested page; a page number that is not a number or out of range is a 404."""
    try:
        return paginator.page(raw_number or 1)
    except InvalidPage:
        raise Http404(_("There is no such page.")) from None
