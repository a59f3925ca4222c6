"""Many plain demo facilities at once, for ``seed_demo``.

A few hundred facilities through ``facilities.services.create_facility`` one by one would make
the seed slow (each locks the organization, allocates a CERS ID and writes its audit event).
Plain facilities, with nothing submitted, are written here in one transaction instead: CERS IDs
reserved from the same sequence in one step, the facilities and their ``FacilityRegulator``
rows (as ``default_regulators`` routes a new facility) each in one ``bulk_create``, the
organization's lead regulator refreshed once and one audit event for the lot. Demo data only:
nothing a person does is ever written this way.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.db.models import F

from core.access import require
from core.models import Sequence as NumberSequence
from core.services import record_event
from facilities.models import CERS_ID_FIRST, Facility, FacilityRegulator
from facilities.services import address_key, default_regulators, refresh_lead_regulator
from organizations.models import Organization


def reserve_cers_ids(count: int) -> range:
    """``count`` consecutive CERS IDs from the sequence ``create_facility`` uses; call inside
    a transaction (the sequence's row stays locked until it ends)."""
    NumberSequence.objects.get_or_create(name="cers_id", defaults={"last_value": CERS_ID_FIRST - 1})
    NumberSequence.objects.filter(name="cers_id").update(last_value=F("last_value") + count)
    last = NumberSequence.objects.values_list("last_value", flat=True).get(name="cers_id")
    return range(last - count + 1, last + 1)


@transaction.atomic(durable=True)
def bulk_facilities(*, actor, organization: Organization, facilities: Sequence) -> int:
    """Add those of ``facilities`` (each with name, street, city, zip_code, county) that the
    organization has no facility of that name for; ``actor`` must be allowed
    ``facilities.create`` on it, as for one facility. Returns how many were added."""
    require(actor, "facilities.create", organization)
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    existing = set(organization.facilities.values_list("name", flat=True))
    wanted = [spec for spec in facilities if spec.name not in existing]
    if not wanted:
        return 0
    ids = reserve_cers_ids(len(wanted))
    made = Facility.objects.bulk_create(
        [
            Facility(
                cers_id=cers_id,
                organization=organization,
                name=spec.name,
                street=spec.street,
                city=spec.city,
                zip_code=spec.zip_code,
                county=spec.county,
                address_key=address_key(spec.street, spec.city, spec.zip_code),
            )
            for cers_id, spec in zip(ids, wanted, strict=True)
        ]
    )
    if not all(facility.pk for facility in made):  # backends that return no keys
        made = list(Facility.objects.filter(cers_id__in=ids))
    routes = {zip_code: default_regulators(zip_code) for zip_code in {f.zip_code for f in made}}
    FacilityRegulator.objects.bulk_create(
        [
            FacilityRegulator(facility=facility, element=element, regulator=regulator)
            for facility in made
            for element, regulator in routes[facility.zip_code].items()
        ]
    )
    refresh_lead_regulator(organization)
    record_event(
        actor,
        "organization.facilities_added",
        organization,
        after={"count": len(made), "cers_ids": [ids.start, ids.stop - 1], "how": "demo data"},
        organization=organization,
    )
    return len(made)
