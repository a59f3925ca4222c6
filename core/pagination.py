"""Pagination and search helpers for list pages.

Every list is paged by ``paginate``. Its count stops at ``CERS_LIST_COUNT_CAP`` rows (a
state-sized jurisdiction is never counted to the end: past the cap the page says "more than
10,000"), and numbered pages (``?page=N``, an OFFSET) reach only as far as that count, so no page
reads and discards more than the cap's rows. For a list whose order ends on a unique column,
"next" and "previous" links carry the sort key of the last (first) row shown (``?after=`` /
``?before=``): the database seeks to it in the index that backs the order, however deep the page,
and the last page (``?page=last``) is read from the end of the order backwards. A list whose
order cannot seek stops at its counted pages.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import math
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import connection
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.functional import cached_property

from .keys import fits

PAGE = "page"
AFTER = "after"
BEFORE = "before"
END = "end"  # a page counted from the end (2: the one before the last), beside a sort key
LAST = "last"  # ?page=last


class CappedPaginator(Paginator):
    """A paginator that counts at most ``cap + 1`` rows: ``count_capped`` says the list has
    more than ``cap`` (then ``count`` is ``cap + 1``). Its numbered pages are the counted ones:
    a page number past them gives the last counted page, so no page's OFFSET passes the cap and
    no page number makes it count further."""

    def __init__(self, object_list, per_page, cap: int | None = None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap

    @cached_property
    def count(self) -> int:
        if self.cap and isinstance(self.object_list, QuerySet):
            # SELECT COUNT(*) FROM (SELECT id ... LIMIT cap + 1): stops reading at the cap,
            # and reads no column of the page (a per-row annotation, a counted sub-query)
            # for the rows it only counts.
            return self.object_list.order_by().values("pk")[: self.cap + 1].count()
        return super().count

    @property
    def count_capped(self) -> bool:
        return bool(self.cap) and self.count > self.cap

    @property
    def shown_count(self) -> int:
        """The count to show: the cap itself when the list holds more ("more than ...")."""
        return self.cap if self.count_capped else self.count

    @property
    def total(self) -> str:
        """The count as a page says it: "more than 10,000" past the cap."""
        if self.count_capped:
            return f"more than {self.cap:,}"
        return str(self.count)

    @cached_property
    def num_pages(self) -> int:
        """The counted pages (the rows up to the cap): the only ones a number opens."""
        if self.count == 0 and not self.allow_empty_first_page:
            return 0
        return max(1, math.ceil(self.shown_count / self.per_page))

    def validate_number(self, number):
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger("That page number is not an integer") from None
        if number < 1:
            raise EmptyPage("That page number is less than 1")
        if number > self.num_pages and number != 1:
            raise EmptyPage("That page is past the counted ones")
        return number

    def page(self, number):
        number = self.validate_number(number)
        if not self.count_capped:
            return super().page(number)
        # The rows tell whether another page follows the counted ones (one row more read).
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        page = self._get_page(rows[: self.per_page], number, self)
        page.more = len(rows) > self.per_page
        return page

    def get_page(self, number):
        """Page ``number``; page 1 for anything that is not a number, the last counted page
        for a number past them (for a list longer than the cap, whose end is not counted, the
        deepest page a number reaches)."""
        try:
            number = self.validate_number(number)
        except PageNotAnInteger:
            number = 1
        except EmptyPage:
            number = self.num_pages if number and str(number).lstrip("-").isdigit() else 1
            number = max(number, 1)
        return self.page(number)


class ListPage(Page):
    """A page of a list: numbered from the start (``number``) or, past the counted pages,
    counted from the end (``from_end``, 1 for the last page, ``number`` then ``None``); for a
    seekable order also the sort keys of its first and last rows (``previous_before`` and
    ``next_after``), and its links (``links``) keeping the rest of the query string."""

    more: bool | None = None  # another page follows (known from an extra row read)
    has_before: bool | None = None  # a page precedes (known from an extra row read)
    keys: list[str] | None = None
    from_end: int | None = None
    query: QueryDict | None = None  # the request's query string, kept by the links

    def has_next(self) -> bool:
        if self.more is not None:
            return self.more
        return super().has_next()

    def has_previous(self) -> bool:
        if self.has_before is not None:
            return self.has_before
        return super().has_previous()

    def next_page_number(self) -> int | None:
        return None if self.number is None else self.number + 1

    def previous_page_number(self) -> int | None:
        return None if self.number is None else max(1, self.number - 1)

    @cached_property
    def next_after(self) -> str | None:
        if not self.keys or not len(self) or not self.has_next():
            return None
        return encode_key(self[len(self) - 1], self.keys)

    @cached_property
    def previous_before(self) -> str | None:
        if not self.keys or not len(self) or not self.has_previous():
            return None
        return encode_key(self[0], self.keys)

    @cached_property
    def heading(self) -> str:
        """Where the page stands, as the pager says it: "Page 3 of 12 (300 in all)", "Page
        401 of more than 400 (more than 10,000 in all)", "Last page (more than ...)"."""
        paginator = self.paginator
        in_all = f"({paginator.total} in all)"
        if self.from_end == 1:
            return f"Last page {in_all}"
        if self.from_end:
            return f"Page {self.from_end} from the end {in_all}"
        if not paginator.count_capped:
            return f"Page {self.number} of {paginator.num_pages} {in_all}"
        if not self.has_next():
            return f"Page {self.number} of {self.number} {in_all}"
        return f"Page {self.number} of more than {paginator.num_pages} {in_all}"

    def href(self, **params) -> str:
        """A link to another page of the list: the request's query string (search text,
        filters) with the paging parameters replaced by ``params``."""
        query = self.query.copy() if self.query is not None else QueryDict(mutable=True)
        for name in (PAGE, AFTER, BEFORE, END):
            query.pop(name, None)
        for name in (PAGE, END, AFTER, BEFORE):  # the number first: "?page=2&after=..."
            if params.get(name) is not None:
                query[name] = str(params[name])
        return "?" + query.urlencode()

    @cached_property
    def links(self) -> dict[str, str | None]:
        """The pager's links (``first``, ``previous``, ``next``, ``last``), each ``None`` where
        the page has none. A number in a link is never past the counted pages: past them the
        links carry a sort key, and a list that cannot seek stops there (``stop_note``)."""
        paginator = self.paginator
        numbered = self.from_end is None
        links = dict.fromkeys(("first", "previous", "next", "last"))
        if self.has_previous():
            if not numbered or self.number > 2:
                links["first"] = self.href()
            if self.previous_before:
                links["previous"] = self.href(
                    before=self.previous_before,
                    **({PAGE: self.number - 1} if numbered else {END: self.from_end + 1}),
                )
            elif numbered:
                links["previous"] = self.href(page=min(self.number - 1, paginator.num_pages))
        if self.has_next():
            to_last = not numbered and self.from_end <= 2
            if self.next_after and to_last:
                links["next"] = self.href(page=LAST)
            elif self.next_after:
                links["next"] = self.href(
                    after=self.next_after,
                    **({PAGE: self.number + 1} if numbered else {END: self.from_end - 1}),
                )
            elif numbered and self.number < paginator.num_pages:
                links["next"] = self.href(page=self.number + 1)
            if not paginator.count_capped:
                if self.number < paginator.num_pages - 1:
                    links["last"] = self.href(page=paginator.num_pages)
            elif self.keys and not to_last:
                links["last"] = self.href(page=LAST)
        return links

    @cached_property
    def window(self) -> list[dict]:
        """Numbered links around the page, within the counted pages (Django's elided range:
        the first and last counted pages and two each side of this one), each a dict with the
        page ``number`` (``None`` for a gap) and its ``href`` (``None`` for the page shown).
        Empty for a page counted from the end, past the counted pages or alone."""
        paginator = self.paginator
        if self.number is None or paginator.num_pages < 2 or self.number > paginator.num_pages:
            return []
        window = []
        for number in paginator.get_elided_page_range(self.number, on_each_side=2, on_ends=1):
            if number == paginator.ELLIPSIS:
                window.append({"number": None, "href": None})
            else:
                href = None if number == self.number else self.href(page=number)
                window.append({"number": number, "href": href})
        return window

    @property
    def stop_note(self) -> str:
        """What the pager says when more rows follow than its pages reach (an order that
        cannot seek, past the cap); empty otherwise."""
        if not self.has_next() or self.links["next"] is not None:
            return ""
        return (
            f"The pages stop at the first {self.paginator.shown_count:,}: narrow the list "
            "(search, filters) to reach the rest."
        )


class CappedListPaginator(CappedPaginator):
    def _get_page(self, *args, **kwargs):
        return ListPage(*args, **kwargs)


# --- sort keys ----------------------------------------------------------------------------


def seek_keys(queryset, not_null=()) -> list[str] | None:
    """The queryset's order as field names (``"-submitted_at"``), when rows can be sought by
    it: the model's own columns or annotations, none of them nullable (a NULL has no place
    among the values: unless the list says its rows never hold one there, ``not_null``), the
    last one unique (the primary key or a unique column) so that the order is total. ``None``
    otherwise: the list keeps numbered pages only."""
    query = queryset.query
    if query.extra_order_by or query.combinator or query.is_sliced:
        return None
    order = list(query.order_by) or (
        list(queryset.model._meta.ordering) if query.default_ordering else []
    )
    if not order or not all(isinstance(key, str) and key != "?" for key in order):
        return None
    opts = queryset.model._meta
    for key in order:
        name = key.lstrip("-")
        if name == "pk" or name in query.annotations:
            continue
        field = _local_field(opts, name)
        if field is None or (field.null and name not in not_null):
            return None
    last = order[-1].lstrip("-")
    if last != "pk" and not getattr(_local_field(opts, last), "unique", False):
        return None
    return order


def _local_field(opts, name: str):
    """The model's own concrete column ``name`` (not a path through a relation)."""
    if "__" in name:
        return None
    try:
        field = opts.get_field(name)
    except Exception:  # noqa: BLE001 - not a field of the model
        return None
    return field if getattr(field, "concrete", False) and not field.many_to_many else None


def _value_of(row, name: str):
    if name == "pk":
        return row.pk
    field = _local_field(row._meta, name)
    # A foreign key is read from its column, never by loading the row it points to.
    return getattr(row, field.attname if field is not None else name)


_ENCODE = {
    bool: ("b", lambda v: v),
    int: ("i", lambda v: v),
    str: ("s", lambda v: v),
    Decimal: ("D", str),
    datetime.datetime: ("t", lambda v: v.isoformat()),
    datetime.date: ("d", lambda v: v.isoformat()),
}
_DECODE = {
    "b": lambda v: v if isinstance(v, bool) else _bad(),
    "i": lambda v: v if isinstance(v, int) and not isinstance(v, bool) else _bad(),
    "s": lambda v: v if isinstance(v, str) else _bad(),
    "D": Decimal,
    "t": datetime.datetime.fromisoformat,
    "d": datetime.date.fromisoformat,
}


def _bad():
    raise ValueError("bad sort key")


def encode_key(row, keys: list[str]) -> str | None:
    """The sort key of ``row`` under ``keys``, as a URL-safe token; ``None`` when a value is
    missing (a NULL has no place to seek to: the list keeps numbered links there)."""
    values = []
    for key in keys:
        value = _value_of(row, key.lstrip("-"))
        kind = _ENCODE.get(type(value))
        if value is None or kind is None:
            return None
        values.append([kind[0], kind[1](value)])
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_key(token: str, keys: list[str]) -> list | None:
    """The values a token carries, ``None`` for anything that is not a token of this order."""
    if not token or len(token) > 2000:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != len(keys):
            return None
        decoded = []
        for item in values:
            if not isinstance(item, list) or len(item) != 2 or item[0] not in _DECODE:
                return None
            decoded.append(_DECODE[item[0]](item[1]))
        return decoded
    except (binascii.Error, ValueError, TypeError, InvalidOperation, UnicodeDecodeError):
        return None


def seek_filter(keys: list[str], values: list, forward: bool) -> Q:
    """Rows after (``forward``) or before the row whose sort key is ``values``: ``(a > x) OR
    (a = x AND b > y) ...`` with each comparison turned for a descending key; led by ``a >= x``
    so that the database starts its index scan at the row rather than filtering up to it."""
    condition = Q()
    equal = Q()
    for key, value in zip(keys, values, strict=True):
        field = key.lstrip("-")
        ascending = not key.startswith("-")
        lookup = "gt" if ascending == forward else "lt"
        condition |= equal & Q(**{f"{field}__{lookup}": value})
        equal &= Q(**{field: value})
    first = keys[0].lstrip("-")
    lead = "gte" if (not keys[0].startswith("-")) == forward else "lte"
    return Q(**{f"{first}__{lead}": values[0]}) & condition


def _reversed(keys: list[str]) -> list[str]:
    return [key[1:] if key.startswith("-") else f"-{key}" for key in keys]


# --- the one entry point -------------------------------------------------------------------


def _place(request) -> tuple[int, int | None]:
    """The page number a sort-key link carries for the heading, and its place counted from
    the end when it carries one (``end``) instead."""
    value = request.GET.get(PAGE, "")
    number = int(value) if value.isdecimal() and 0 < int(value) < 10**9 else 1
    value = request.GET.get(END, "")
    from_end = int(value) if value.isdecimal() and 0 < int(value) < 10**9 else None
    return number, from_end


def paginate(
    request, queryset, per_page: int | None = None, count_cap: int | None = None, not_null=()
):
    """A page of ``queryset``.

    ``?page=N`` gives page N, N up to the pages counted (the count stops at
    ``CERS_LIST_COUNT_CAP`` rows): a number past them gives the last counted page, so that no
    page reads and discards more rows than the cap. When the order of ``queryset`` ends on a
    unique column (``seek_keys``), ``?after=TOKEN`` gives the rows that follow the row whose
    sort key the token carries and ``?before=TOKEN`` those that precede it, however deep
    (``page``, or ``end`` for a page counted from the end, only names the page in its
    heading); ``?page=last`` gives the last rows, read backwards from the end of the order. A
    token that does not decode gives page 1; one past the end, the last page. ``not_null``
    names nullable columns of the order that the list's rows never leave empty. The rows are
    ``queryset``'s own, so a token names a place in the list, never a row outside it. A list
    that is not a queryset is in memory already: it is counted whole."""
    from django.conf import settings

    per_page = per_page or settings.CERS_PAGE_SIZE
    cap = settings.CERS_LIST_COUNT_CAP if count_cap is None else count_cap
    is_queryset = isinstance(queryset, QuerySet)
    paginator = CappedListPaginator(queryset, per_page, cap=cap if is_queryset else None)
    keys = seek_keys(queryset, not_null) if is_queryset else None
    page = None
    if keys:
        for name, forward in ((AFTER, True), (BEFORE, False)):
            token = request.GET.get(name)
            if token is None:
                continue
            values = _column_values(queryset, keys, decode_key(token, keys))
            if values is None:
                page = paginator.get_page(1)  # not a place in this list: its start
            else:
                page = _seek_page(paginator, keys, values, forward, *_place(request))
            break
    if page is None and request.GET.get(PAGE) == LAST:
        page = _last_page(paginator, keys)
    if page is None:
        page = paginator.get_page(request.GET.get(PAGE))
    page.keys = keys
    page.query = request.GET
    return page


def _column_values(queryset, keys: list[str], values: list | None) -> list | None:
    """``values`` as their columns hold them; ``None`` when one is no value of its column."""
    if values is None:
        return None
    opts = queryset.model._meta
    converted = []
    for key, value in zip(keys, values, strict=True):
        name = key.lstrip("-")
        field = opts.pk if name == "pk" else _local_field(opts, name)
        if field is None:  # an annotation: a number or a text, as encoded
            if not isinstance(value, (int, str, Decimal)):
                return None
            converted.append(value)
            continue
        if field.is_relation:
            field = field.target_field
        try:
            converted.append(field.to_python(value))
            if isinstance(converted[-1], datetime.datetime):
                # A list's times carry their zone (a naive one would be ambiguous in the hour
                # the clock repeats), and the database compares them in UTC, whose range
                # ends before 9999-12-31T23:59:59-12:00 does.
                if timezone.is_naive(converted[-1]):
                    return None
                converted[-1].astimezone(datetime.UTC)
            field.get_prep_value(converted[-1])
        except (ValidationError, ValueError, TypeError, OverflowError):
            return None
        if isinstance(converted[-1], int) and not fits(converted[-1], field):
            return None  # past the column's numbers: a key no row has, nor a place among them
    return converted


def _seek_page(paginator, keys, values, forward: bool, number: int, from_end: int | None):
    """The page that follows (precedes) the sort key ``values``: page 1 when going back
    reaches the start, the last page when nothing follows. Numbered ``number`` for its
    heading, or ``from_end`` when the link counted it from the end."""
    queryset = paginator.object_list
    per_page = paginator.per_page
    if forward:
        rows = list(queryset.filter(seek_filter(keys, values, True))[: per_page + 1])
        if not rows:
            return _last_page(paginator, keys)
        more = len(rows) > per_page
        rows = rows[:per_page]
    else:
        reverse = queryset.filter(seek_filter(keys, values, False)).order_by(*_reversed(keys))
        rows = list(reverse[: per_page + 1])
        if len(rows) <= per_page:
            return paginator.get_page(1)  # back at the start
        more = True
        rows = rows[:per_page][::-1]
    page = ListPage(rows, max(number, 2), paginator)
    page.more = more
    page.has_before = True
    if from_end:
        page.number = None
        page.from_end = max(from_end, 2) if more else 1
    return page


def _last_page(paginator, keys):
    """The last page. A list whose end is counted has it numbered; one longer than the cap,
    in a seekable order, has its last ``per_page`` rows read backwards from the end of the
    order (no row before them is read, none counted), unnumbered; one that cannot seek has
    its last counted page."""
    if not keys or not paginator.count_capped:
        return paginator.get_page(paginator.num_pages)
    per_page = paginator.per_page
    rows = list(paginator.object_list.order_by(*_reversed(keys))[: per_page + 1])
    if len(rows) <= per_page:  # rows went away since they were counted
        return paginator.get_page(1)
    page = ListPage(rows[:per_page][::-1], None, paginator)
    page.more = False
    page.has_before = True
    page.from_end = 1
    return page


# A word matching at most this many related rows (an organization's name) is looked up in their
# own table first, and the list filtered by their keys.
RELATED_SEARCH_LIMIT = 500


def search_filter(queryset, text: str, fields: list[str], exact_int_fields=()):
    """Filter ``queryset`` to rows where every word of ``text`` appears in one of ``fields``
    (case-insensitive), or equals one of ``exact_int_fields`` when the word is a number.

    On PostgreSQL the trigram indexes (``core.trigram``) answer each column's match; a field
    of a related row (``organization__name``) is matched in its own table first, one query a
    word, and the list filtered by the keys found (at most ``RELATED_SEARCH_LIMIT``, else by
    the join as before): a condition across a join, ORed with the others, would make the
    database read every row of the scope instead of combining the indexes' answers."""
    related_first = connection.vendor == "postgresql"
    # A NUL separates words as a space does: no value holds one, and PostgreSQL refuses it in
    # a query (a server error for anyone typing %00 into a search, the public ones included).
    for word in text.replace("\x00", " ").split()[:10]:
        condition = Q()
        for field in fields:
            condition |= _word_condition(queryset.model, field, word, related_first)
        if word.isdecimal():
            for field in exact_int_fields:
                condition |= Q(**{field: int(word)})
        queryset = queryset.filter(condition)
    return queryset


def _word_condition(model, field: str, word: str, related_first: bool) -> Q:
    relation, _, column = field.partition("__")
    if related_first and column and "__" not in column:
        related = model._meta.get_field(relation)
        if related.many_to_one and related.concrete:
            keys = list(
                related.related_model._base_manager.filter(**{f"{column}__icontains": word})
                .order_by()
                .values_list("pk", flat=True)[: RELATED_SEARCH_LIMIT + 1]
            )
            if len(keys) <= RELATED_SEARCH_LIMIT:
                return Q(**{f"{related.attname}__in": keys})
    return Q(**{f"{field}__icontains": word})
