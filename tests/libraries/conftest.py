"""Fixtures of the library tests: a violation type cited by a CME violation."""

import datetime

import pytest

DAY = datetime.date(2024, 5, 1)
CITED_TYPE = "1010001"  # seeded example: business plan


@pytest.fixture
def cited_violation(cast):
    """A CME violation of 2024-05-01 at cast.facility that cites ``CITED_TYPE``."""
    from cme import services

    inspection = services.record_inspection(
        actor=cast.cupa_reviewer,
        regulator=cast.cupa,
        facility=cast.facility,
        program_element="a",
        inspection_type="a",
        occurred_on=DAY,
        inspector_name="Rita Reviewer",
    )
    return services.add_violation(
        actor=cast.cupa_reviewer,
        regulator=cast.cupa,
        inspection=inspection,
        type_number=CITED_TYPE,
        violation_class=9,
        occurred_on=DAY,
        scheduled_rtc_on=DAY,
    )
