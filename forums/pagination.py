from django.core.paginator import InvalidPage, Paginator
from django.db.models import QuerySet
from django.http import Http404
from django.utils.functional import cached_property
from django.utils.translation import gettext as _


class CountedPaginator(Paginator):
    """A Paginator told its row count by a denormalised counter, so it never runs COUNT(*).

    Deep pages (page 500 of a forum, the last page of a 30,000-reply thread) find their
    rows' ids first, skipping rows in the index alone, then load those rows with their
    joins: with one query, the database would join every skipped row too, and deep pages
    would get slower the deeper they are.

    `rows`, when given, turns a queryset of `object_list`'s rows into what a page shows
    (its columns and joins); `object_list` then selects and orders without joins, so
    that skipping rows reads an index alone (ids taken from a query with joins in it
    still make the database read and join every skipped row: 100 ms on page 623 of a
    thread), and a deep page's rows are loaded by id alone (with the list's own filters
    beside the ids, SQLite walked the whole thread's index instead of the ids).

    `shallow(bottom, top)`, when given, gives the rows of a page above the deep ones
    instead of `rows(object_list)[bottom:top]` (the same rows by a prepared query:
    forums.querysets.latest_thread_rows). Then `object_list` may be a function that
    makes the queryset, called for a deep page only: building a member's list query
    (their filters, the order) cost a tenth of a millisecond that most pages never use.
    """

    # Rows skipped before a page is loaded in two steps; one query is cheaper above it.
    DEEP_OFFSET = 300

    def __init__(self, object_list, per_page, *, count: int, rows=None, shallow=None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self._known_count = count
        self._rows = rows
        self._shallow = shallow

    @cached_property
    def count(self):
        return self._known_count

    def page_without_rows(self, number: int):
        """Page `number` (valid) as far as its links to other pages need, for a page whose
        rows come from elsewhere (a cache)."""
        return self._get_page([], number, self)

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        if bottom < self.DEEP_OFFSET and self._shallow:
            return self._get_page(self._shallow(bottom, top), number, self)
        if callable(self.object_list):
            self.object_list = self.object_list()
        if not isinstance(self.object_list, QuerySet):
            return super().page(number)
        if bottom < self.DEEP_OFFSET:
            shown = self._rows(self.object_list) if self._rows else self.object_list
            return self._get_page(shown[bottom:top], number, self)
        ids = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        if self._rows:
            rows = self._rows(self.object_list.model._default_manager.all()).in_bulk(ids)
        else:
            rows = self.object_list.order_by().in_bulk(ids)
        return self._get_page([rows[pk] for pk in ids if pk in rows], number, self)


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
