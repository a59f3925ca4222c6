"""Query results read in batches: a fixed number of queries per batch, and each batch freed
as soon as the next is read, by reference counting alone.

Prefetched rows point back at their parent, so a batch left as it is forms reference cycles
that only the cyclic collector frees, at its next full collection; until then spent batches
pile up and the peak memory of a query grows with its result. The tests of freeing run with the
collector off: what they free, reference counting freed.
"""

from __future__ import annotations

import gc
import weakref
from contextlib import contextmanager

import pytest
from django.db.models import Prefetch

from edt.api import base
from edt.api.base import batches, in_batches, row_batches
from facilities.models import Facility
from organizations.models import Organization
from submittals.models import FacilitySubmittal, HazardousMaterial, SubmittalElementRecord
from tests import factories
from tests.submittals.data import submit

from .test_rfsq import body, get


@contextmanager
def no_cycle_collector():
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def organizations():
    """Organizations with their facilities prefetched both ways Django keeps them: in a
    queryset per row and in a list (``to_attr``)."""
    return Organization.objects.prefetch_related(
        "facilities",
        Prefetch("facilities", queryset=Facility.objects.order_by("pk"), to_attr="listed"),
    ).order_by("pk")


def test_a_row_is_freed_once_the_next_batch_is_read(cast):
    with no_cycle_collector():
        rows = in_batches(organizations(), batch_size=1)
        first = next(rows)
        assert first.listed and first.facilities.all()  # both prefetched
        refs = [
            weakref.ref(first),
            weakref.ref(first.listed[0]),
            weakref.ref(first.facilities.all()[0]),
        ]
        del first
        assert all(ref() is not None for ref in refs)  # its batch is still current
        second = next(rows)
        assert second.listed
        assert [ref() for ref in refs] == [None, None, None]


def test_a_batch_is_emptied_when_the_next_is_asked_for(cast):
    stream = batches(organizations(), batch_size=1)
    first = next(stream)
    assert len(first) == 1
    next(stream)
    assert first == []


@pytest.mark.parametrize("batch_size", [1, 2, 500])
def test_each_batch_costs_the_same_queries(cast, django_assert_num_queries, batch_size):
    count = Organization.objects.count()
    assert count == 2
    number_of_batches = -(-count // batch_size)
    # The rows, then per batch the two prefetches.
    with django_assert_num_queries(1 + 2 * number_of_batches):
        rows = list(in_batches(organizations(), batch_size=batch_size))
    assert [row.pk for row in rows] == list(
        Organization.objects.order_by("pk").values_list("pk", flat=True)
    )


@pytest.mark.parametrize("batch_size", [1, 2, 500])
def test_tuples_come_in_batches_through_one_query(cast, django_assert_num_queries, batch_size):
    wanted = Organization.objects.order_by("pk").values_list("pk", "name")
    expected = list(wanted)
    with django_assert_num_queries(1):
        read = list(row_batches(wanted, batch_size=batch_size))
    assert [len(batch) for batch in read] == [
        min(batch_size, len(expected) - start) for start in range(0, len(expected), batch_size)
    ]
    assert [row for batch in read for row in batch] == expected


@pytest.fixture
def three_submittals(cast):
    """Three facility submittals routed to CUPA 1001, each with Facility Information and an
    inventory (a material, document answers)."""
    for number in range(3):
        facility = factories.make_facility(cast.org, name=f"Depot {number}", zip_code="95814")
        submit(cast, 2, facility=facility)
    return cast


STREAMED = (FacilitySubmittal, SubmittalElementRecord, HazardousMaterial, Facility, Organization)


def test_rfsq_leaves_nothing_it_streamed_to_the_cycle_collector(
    client, three_submittals, edt_account, monkeypatch
):
    monkeypatch.setattr(base, "BATCH_SIZE", 1)
    with no_cycle_collector():
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            answer = body(get(client, edt_account))
            gc.collect()
            left = [type(o).__name__ for o in gc.garbage if isinstance(o, STREAMED)]
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
    assert answer.count(b"<FacilitySubmittal>") == 3
    assert left == []


@pytest.mark.django_db(transaction=True)
def test_rows_are_read_inside_a_transaction_through_a_cursor_that_is_not_held(cast):
    """Outside a transaction PostgreSQL's cursor would be WITH HOLD, and the database would
    compute the whole result before handing over the first row."""
    from django.db import connection

    assert not connection.in_atomic_block
    rows = in_batches(Organization.objects.order_by("pk"), batch_size=1)
    next(rows)
    assert connection.in_atomic_block
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT is_holdable FROM pg_cursors WHERE NOT is_holdable")
            assert cursor.fetchall(), "no cursor open"
            cursor.execute("SELECT count(*) FROM pg_cursors WHERE is_holdable")
            assert cursor.fetchone() == (0,)
    rows.close()
    assert not connection.in_atomic_block
