"""Many facilities fast, for query-count tests: ``bulk_create`` instead of the service.

Rows made here skip the service's rules on purpose; they only need distinct CERS IDs and
address keys and a regulator for each element, so the pages have something to list.
"""

from itertools import count

from core.elements import SubmittalElement
from facilities.models import Facility, FacilityRegulator
from organizations.models import Organization

# Far above what the service hands out in a test, so the two never collide.
_numbers = count(50_000_000)


def bulk_organizations(how_many: int, lead_regulator=None) -> list[Organization]:
    numbers = [next(_numbers) for _ in range(how_many)]
    return Organization.objects.bulk_create(
        Organization(code=n, name=f"Bulk Org {n}", lead_regulator=lead_regulator) for n in numbers
    )


def bulk_facilities(organizations, how_many: int, regulator) -> list[Facility]:
    """``how_many`` facilities spread over ``organizations``, every element handled by
    ``regulator``."""
    organizations = list(organizations)
    facilities = []
    for i in range(how_many):
        n = next(_numbers)
        facilities.append(
            Facility(
                cers_id=n,
                organization=organizations[i % len(organizations)],
                name=f"Bulk Site {n}",
                street=f"{n} Bulk Road",
                city="Sacramento",
                zip_code="95814",
                address_key=f"{n} BULK RD|SACRAMENTO|95814",
            )
        )
    facilities = Facility.objects.bulk_create(facilities)
    FacilityRegulator.objects.bulk_create(
        FacilityRegulator(facility=facility, element=element, regulator=regulator)
        for facility in facilities
        for element in SubmittalElement
    )
    return facilities
