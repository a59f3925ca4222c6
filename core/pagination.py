"""Pagination and search helpers for list pages.

Every list is paged by ``paginate``: numbered pages (``?page=``, an OFFSET) whose count stops at
``CERS_LIST_COUNT_CAP`` rows (a state-sized jurisdiction is never counted to the end: past the
cap the page says "more than 10,000"), and, for a list whose order ends on a unique column,
"next" and "previous" links that carry the sort key of the last (first) row shown
(``?after=`` / ``?before=``): the database seeks to it in the index that backs the order instead
of reading and discarding every row before it, however deep the page.
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
from django.utils.functional import cached_property

AFTER = "after"
BEFORE = "before"


class CappedPaginator(Paginator):
    """A paginator that counts at most ``cap + 1`` rows: ``count_capped`` says the list has
    more than ``cap`` (then ``count`` is ``cap + 1`` and pages past the counted ones are still
    served while they hold rows)."""

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
        """The counted pages (the rows up to the cap)."""
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
        if number > self.num_pages and not self.count_capped and number != 1:
            raise EmptyPage("That page contains no results")
        return number

    def page(self, number):
        number = self.validate_number(number)
        if not self.count_capped:
            return super().page(number)
        # Past the cap the rows tell whether a page exists, and whether another follows.
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage("That page contains no results")
        page = ListPage(rows[: self.per_page], number, self)
        page.more = len(rows) > self.per_page
        return page

    def get_page(self, number):
        try:
            number = self.validate_number(number)
        except PageNotAnInteger:
            number = 1
        except EmptyPage:
            number = self.num_pages if number and str(number).lstrip("-").isdigit() else 1
            number = max(number, 1)
        try:
            return self.page(number)
        except EmptyPage:
            # A page past the end of a list longer than the cap: its last page is far away
            # (counted to the end only here).
            last = max(1, math.ceil(self.object_list.count() / self.per_page))
            return self.page(min(last, number))


class ListPage(Page):
    """A page of a list: numbered, and for a seekable order also the sort keys of its first
    and last rows (``previous_before`` and ``next_after``, for the links)."""

    more: bool | None = None  # another page follows (known from an extra row read)
    has_before: bool | None = None  # a page precedes (known from an extra row read)
    keys: list[str] | None = None

    def has_next(self) -> bool:
        if self.more is not None:
            return self.more
        return super().has_next()

    def has_previous(self) -> bool:
        if self.has_before is not None:
            return self.has_before
        return super().has_previous()

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return max(1, self.number - 1)

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


def _page_number(request) -> int:
    value = request.GET.get("page", "")
    return int(value) if value.isdigit() and 0 < int(value) < 10**9 else 1


def paginate(
    request, queryset, per_page: int | None = None, count_cap: int | None = None, not_null=()
):
    """A page of ``queryset``.

    ``?page=N`` gives page N (an out-of-range page gives the last one). The count stops at
    ``CERS_LIST_COUNT_CAP`` rows. When the order of ``queryset`` ends on a unique column
    (``seek_keys``), ``?after=TOKEN`` gives the rows that follow the row whose sort key the
    token carries, and ``?before=TOKEN`` those that precede it (``page`` then only numbers the
    page for its heading); a token that does not decode gives page 1. ``not_null`` names
    nullable columns of the order that the list's rows never leave empty. The rows are
    ``queryset``'s own, so a token names a place in the list, never a row outside it."""
    from django.conf import settings

    per_page = per_page or settings.CERS_PAGE_SIZE
    cap = settings.CERS_LIST_COUNT_CAP if count_cap is None else count_cap
    paginator = CappedListPaginator(queryset, per_page, cap=cap)
    keys = seek_keys(queryset, not_null) if isinstance(queryset, QuerySet) else None
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
                page = _seek_page(paginator, keys, values, forward, _page_number(request))
            break
    if page is None:
        page = paginator.get_page(request.GET.get("page"))
    page.keys = keys
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
            field.get_prep_value(converted[-1])
        except (ValidationError, ValueError, TypeError, OverflowError):
            return None
    return converted


def _seek_page(paginator, keys, values, forward: bool, number: int):
    """The page that follows (precedes) the sort key ``values``; page 1 when going back
    reaches the start; ``None`` when nothing follows (the caller then serves the numbered
    page)."""
    queryset = paginator.object_list
    per_page = paginator.per_page
    if forward:
        rows = list(queryset.filter(seek_filter(keys, values, True))[: per_page + 1])
    else:
        reverse = queryset.filter(seek_filter(keys, values, False)).order_by(*_reversed(keys))
        rows = list(reverse[: per_page + 1])
    if not rows:
        return None if forward else paginator.get_page(1)
    if forward:
        page = ListPage(rows[:per_page], max(number, 2), paginator)
        page.more = len(rows) > per_page
        page.has_before = True
    else:
        more_before = len(rows) > per_page
        if not more_before:
            return paginator.get_page(1)  # back at the start
        rows = rows[:per_page][::-1]
        page = ListPage(rows, max(number, 2), paginator)
        page.more = True
        page.has_before = True
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
    for word in text.split()[:10]:
        condition = Q()
        for field in fields:
            condition |= _word_condition(queryset.model, field, word, related_first)
        if word.isdigit():
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
