"""Pagination and search helpers for list pages."""

from django.core.paginator import Paginator
from django.db.models import Q


def paginate(request, queryset, per_page: int | None = None):
    """A page of ``queryset`` from ``?page=``; an out-of-range page gives the last one."""
    from django.conf import settings

    paginator = Paginator(queryset, per_page or settings.CERS_PAGE_SIZE)
    return paginator.get_page(request.GET.get("page"))


def search_filter(queryset, text: str, fields: list[str], exact_int_fields=()):
    """Filter ``queryset`` to rows where every word of ``text`` appears in one of ``fields``
    (case-insensitive), or equals one of ``exact_int_fields`` when the word is a number."""
    for word in text.split()[:10]:
        condition = Q()
        for field in fields:
            condition |= Q(**{f"{field}__icontains": word})
        if word.isdigit():
            for field in exact_int_fields:
                condition |= Q(**{field: int(word)})
        queryset = queryset.filter(condition)
    return queryset
