"""Streamed query answers: a whole agency answered completely, with the count it states, and an
answer that fails mid-way never passes for a complete one.

An answer that breaks off is left unterminated (no closing tags, no ``]}``), and the exception
goes on up to the WSGI server, which drops the connection without the last chunk, so a client
cannot take a cut-off answer for a short one; the error is logged and the transaction row says
so.
"""

from __future__ import annotations

import copy
import json
import logging

import pytest
from django.db.models import Max
from lxml import etree

from edt.api import base, queries
from edt.models import EdtTransaction
from facilities.models import Facility, FacilityRegulator
from organizations.models import Organization

from .conftest import legacy_header

RFQ = "/EDT/Regulator/Facility?regulatorCode=1001"
ROQ = "/EDT/Regulator/Organization?regulatorCode=1001"


def many_facilities(cast, facilities: int, organizations: int) -> None:
    """``facilities`` more facilities in CUPA 1001 (Facility Information routed to it), spread
    over ``organizations`` new organizations, built with bulk_create."""
    next_code = Organization.objects.aggregate(n=Max("code"))["n"] + 1
    orgs = []
    for n in range(organizations):
        organization = copy.copy(cast.org)
        organization.pk, organization.code, organization.name = None, next_code + n, f"Bulk {n}"
        orgs.append(organization)
    Organization.objects.bulk_create(orgs)
    next_cers_id = Facility.objects.aggregate(n=Max("cers_id"))["n"] + 1
    sites = []
    for n in range(facilities):
        facility = copy.copy(cast.facility)
        facility.pk, facility.cers_id = None, next_cers_id + n
        facility.organization = orgs[n % organizations]
        facility.name, facility.street = f"Bulk Site {n}", f"{n} Bulk Street"
        facility.address_key = f"bulk-{n}"
        sites.append(facility)
    Facility.objects.bulk_create(sites, batch_size=1000)
    FacilityRegulator.objects.bulk_create(
        [FacilityRegulator(facility=f, element=1, regulator=cast.cupa) for f in sites],
        batch_size=1000,
    )


def test_a_whole_agency_facility_query_is_complete(client, cast, edt_account):
    many_facilities(cast, facilities=2300, organizations=230)
    expected = Facility.objects.in_jurisdiction(cast.cupa).count()
    assert expected > 4 * base.BATCH_SIZE  # several batches, organizations met in each

    response = client.get(RFQ, **legacy_header(edt_account))
    assert response.status_code == 200
    root = etree.fromstring(b"".join(response.streaming_content))  # a whole document
    facilities = root.findall("Facility")
    assert int(root.get("returnedResultCount")) == len(facilities) == expected
    ids = [int(f.findtext("CERSID")) for f in facilities]
    assert ids == sorted(ids) and len(set(ids)) == expected
    # Each organization's facts are its own, whichever batch its facilities came in.
    counted = {
        code: Facility.objects.filter(organization__code=code).count()
        for code in {int(f.findtext("Organization/Code")) for f in facilities}
    }
    for facility in facilities:
        code = int(facility.findtext("Organization/Code"))
        assert int(facility.findtext("Organization/FacilityCount")) == counted[code]
    row = EdtTransaction.objects.get(key=response["X-CERS-Transaction-Key"])
    assert row.status == EdtTransaction.Status.ACCEPTED
    assert row.result_count == expected


def test_a_whole_agency_organization_query_is_complete(client, cast, edt_account, monkeypatch):
    monkeypatch.setattr(base, "BATCH_SIZE", 50)
    many_facilities(cast, facilities=400, organizations=200)
    expected = Organization.objects.in_jurisdiction(cast.cupa).count()
    assert expected > 3 * base.BATCH_SIZE

    response = client.get(ROQ, **legacy_header(edt_account))
    root = etree.fromstring(b"".join(response.streaming_content))
    organizations = root.findall("Organization")
    assert int(root.get("resultCount")) == len(organizations) == expected
    codes = [int(o.findtext("OrganizationCode")) for o in organizations]
    assert codes == sorted(codes)
    bulk = [o for o in organizations if o.findtext("OrganizationName").startswith("Bulk ")]
    assert len(bulk) == 200
    assert {o.findtext("FacilityCount") for o in bulk} == {"2"}


@pytest.fixture
def fails_on_the_third_facility(monkeypatch):
    """RFQ's writer, failing on the third facility it writes."""
    written = []
    write = queries.facility_text

    def failing(facility, *args):
        written.append(facility.cers_id)
        if len(written) == 3:
            raise RuntimeError("disk on fire")
        return write(facility, *args)

    monkeypatch.setattr(queries, "facility_text", failing)
    monkeypatch.setattr(base, "BATCH_SIZE", 2)  # the first records are sent before it fails
    return written


def received_until_it_fails(response) -> bytes:
    """What a client receives of an answer whose stream raises: every chunk before the error.
    The iterator raising is what makes the server drop the connection."""
    chunks = []
    with pytest.raises(RuntimeError, match="disk on fire"):
        for chunk in response.streaming_content:
            chunks.append(chunk)
    return b"".join(chunks)


# Committing: the rows are read in a transaction of the stream's own, which the failure rolls
# back before the transaction row is updated, as in production (no test transaction around).
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("accept", ["", "application/json"])
def test_an_answer_that_fails_mid_way_is_cut_off_unterminated(
    client, cast, edt_account, fails_on_the_third_facility, caplog, accept
):
    many_facilities(cast, facilities=5, organizations=2)
    extra = {"HTTP_ACCEPT": accept} if accept else {}
    response = client.get(RFQ, **legacy_header(edt_account), **extra)
    assert response.status_code == 200  # the headers left before the failure
    with caplog.at_level(logging.ERROR, logger="edt.api.output"):
        received = received_until_it_fails(response)

    assert received  # the start of the answer went out
    if accept:
        assert received.startswith(b"{")
        with pytest.raises(json.JSONDecodeError):
            json.loads(received)
    else:
        assert b"<cers:RegulatorFacilityQuery" in received
        assert b"</cers:RegulatorFacilityQuery>" not in received
        with pytest.raises(etree.XMLSyntaxError):
            etree.fromstring(received)
    assert any("failed mid-stream" in r.getMessage() for r in caplog.records)
    row = EdtTransaction.objects.get(key=response["X-CERS-Transaction-Key"])
    assert row.status == EdtTransaction.Status.ERROR_PROCESSING
    assert row.http_status == 500
    assert "cut off" in row.messages[0]["message"]


def test_a_complete_answer_is_terminated(client, cast, edt_account, monkeypatch):
    """The counterpart of the failure above: the same small batches, nothing failing."""
    monkeypatch.setattr(base, "BATCH_SIZE", 2)
    many_facilities(cast, facilities=5, organizations=2)
    response = client.get(RFQ, **legacy_header(edt_account))
    received = b"".join(response.streaming_content)
    assert received.rstrip().endswith(b"</cers:RegulatorFacilityQuery>")
    root = etree.fromstring(received)
    assert len(root.findall("Facility")) == int(root.get("returnedResultCount"))
