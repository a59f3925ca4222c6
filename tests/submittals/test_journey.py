"""The whole journey through the pages, as people do it: the editor drafts, the approver
submits, the CUPA reviewer accepts Facility Information and does not accept the inventory,
and the business sees both outcomes."""

import re

from django.core import mail
from django.urls import reverse

from submittals.models import ElementStatus, SubmittalElementRecord
from tests.submittals.data import complete_facility_information

DIESEL = {"207": "Diesel", "208": "N", "214": "b", "218": "500", "221": "a", "201": "Tank farm"}
STORED_AT_FACILITY = 6


def field_name(key: str) -> str:
    return "f_" + re.sub(r"\W", "_", key)


def start(client, cast, element) -> SubmittalElementRecord:
    response = client.post(
        reverse("business:draft_start", args=[cast.facility.cers_id]), {"element": element}
    )
    assert response.status_code == 302
    return SubmittalElementRecord.objects.get(facility=cast.facility, element=element, status=1)


def test_editor_drafts_approver_submits_cupa_reviews_and_the_business_sees_it(
    cast, client, django_capture_on_commit_callbacks
):
    # The editor fills in Facility Information and the inventory, through the pages.
    client.force_login(cast.editor)
    information = start(client, cast, 1)
    fields = {field_name(k): v for k, v in complete_facility_information().items()}
    fields[field_name("3")] = cast.facility.name
    response = client.post(reverse("business:element", args=[information.pk]), fields)
    assert response.status_code == 302
    information.refresh_from_db()
    assert information.data["111"] == "Acme Fuels LLC"

    inventory = start(client, cast, 2)
    material = {field_name(k): v for k, v in DIESEL.items()}
    response = client.post(reverse("business:material_add", args=[inventory.pk]), material)
    assert response.status_code == 302
    assert inventory.materials.get().common_name == "Diesel"
    response = client.post(
        reverse("business:document_answer", args=[inventory.pk, "SiteMapDocuments"]),
        {"source": STORED_AT_FACILITY},
    )
    assert response.status_code == 302

    # The editor may not submit.
    submit_url = reverse("business:submit", args=[cast.facility.cers_id])
    certified = {
        "elements": [information.pk, inventory.pk],
        "certifier_name": "Bob Approver",
        "certifier_title": "Site Manager",
        "certify": "on",
    }
    assert client.post(submit_url, certified).status_code == 403

    # The approver certifies and submits, and gets a receipt.
    client.force_login(cast.approver)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(submit_url, certified)
    assert response.status_code == 302, response.content.decode()
    receipt = client.get(response.url)
    assert str(cast.facility.cers_id) in receipt.content.decode()
    assert any(cast.approver.email in m.to for m in mail.outbox)

    # The CUPA reviewer finds both in the queue, accepts one and does not accept the other.
    client.force_login(cast.cupa_reviewer)
    queue = client.get(reverse("regulator:review_queue")).content.decode()
    assert reverse("regulator:review", args=[information.pk]) in queue
    assert reverse("regulator:review", args=[inventory.pk]) in queue
    with django_capture_on_commit_callbacks(execute=True):
        accepted = client.post(
            reverse("regulator:review", args=[information.pk]),
            {"status": int(ElementStatus.ACCEPTED)},
        )
        refused = client.post(
            reverse("regulator:review", args=[inventory.pk]),
            {"status": int(ElementStatus.NOT_ACCEPTED), "comments": "Upload the site map."},
        )
    assert accepted.status_code == refused.status_code == 302

    # The business sees both outcomes and the comment, and was told by e-mail.
    client.force_login(cast.viewer)
    history = client.get(reverse("business:submittals", args=[cast.facility.cers_id]))
    page = history.content.decode()
    assert "Accepted" in page
    assert "Not Accepted" in page
    assert "Upload the site map." in page
    assert any("Upload the site map." in m.body and cast.lead.email in m.to for m in mail.outbox)
