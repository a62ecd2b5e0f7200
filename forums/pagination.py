from django.core.paginator import InvalidPage, Paginator
from django.http import Http404
from django.utils.functional import cached_property
from django.utils.translation import gettext as _


class CountedPaginator(Paginator):
    """A Paginator told its row count, by a denormalised counter or a count cheaper than
    COUNT(*) of its rows' own query, and given its rows by `rows_between(bottom, top)`
    for the requested page alone (a prepared query: forums.querysets.prepared_page,
    which also keeps deep pages fast).
    Without `rows_between`, pages have no rows: the caller loads them by their numbers
    (a conversation's messages are numbered 1..N).
    """

    def __init__(self, rows_between, per_page, *, count: int, **kwargs):
        super().__init__((), per_page, **kwargs)
        self._known_count = count
        self._rows_between = rows_between

    @cached_property
    def count(self):
        return self._known_count

    def page_without_rows(self, number: int):
        """Page `number` (valid) as far as its links to other pages need, for a page whose
        rows come from elsewhere (a cache)."""
        return self._get_page([], number, self)

    def page(self, number):
        number = self.validate_number(number)
        if self._rows_between is None:
            return self.page_without_rows(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        return self._get_page(self._rows_between(bottom, top), number, self)


def number_or_404(paginator: Paginator, raw_number) -> int:
    """The requested page's number, checked as page_or_404 checks it."""
    try:
        return paginator.validate_number(raw_number or 1)
    except InvalidPage:
        raise Http404(_("There is no such page.")) from None


def page_or_404(paginator: Paginator, raw_number):
    """The requested page; a page number that is not a number or out of range is a 404."""
    try:
        return paginator.page(raw_number or 1)
    except InvalidPage:
        raise Http404(_("There is no such page.")) from None
