"""The business's letter of a facility move: listed in the facility's transfer history on its
regulator page, and downloaded only by staff who see the facility."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from facilities import services
from tests import factories

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def move(cast, facility, content=PDF, name="request.pdf"):
    """The state administrator moves ``facility`` to Other Co with the letter ``content``."""
    return services.move_facility(
        actor=cast.state_admin,
        facility=facility,
        to_organization=cast.other_org,
        reason="Sold to Other Co",
        letter=SimpleUploadedFile(name, content),
    )


def letter_url(transfer):
    return reverse("regulator:facility_transfer_letter", args=[transfer.pk])


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_staff_who_see_the_facility_download_the_letter(cast, client):
    transfer = move(cast, cast.facility)
    for user in (cast.cupa_reviewer, cast.pa_viewer, cast.state_admin):
        client.force_login(user)
        response = client.get(letter_url(transfer))
        assert response.status_code == 200, user
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == (
            f'attachment; filename="transfer-{transfer.pk}-cers-id-{cast.facility.cers_id}.pdf"'
        )
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "private" in response["Cache-Control"]
        assert body(response) == PDF


def test_the_content_type_comes_from_the_letters_bytes_not_its_name(cast, client):
    transfer = move(cast, cast.facility, PNG, name="scan.pdf")
    client.force_login(cast.cupa_reviewer)
    response = client.get(letter_url(transfer))
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].endswith('.png"')
    assert body(response) == PNG


def test_staff_who_do_not_see_the_facility_get_404(cast, client):
    transfer = move(cast, cast.facility)
    client.force_login(cast.cupa2_reviewer)  # Yolo: not this Sacramento facility
    assert client.get(letter_url(transfer)).status_code == 404
    yolo = move(cast, cast.facility_yolo)
    client.force_login(cast.cupa_reviewer)
    assert client.get(letter_url(yolo)).status_code == 404
    client.force_login(cast.pa_viewer)
    assert client.get(letter_url(yolo)).status_code == 404


def test_a_business_member_on_an_agencys_staff_gets_404_outside_its_jurisdiction(cast, client):
    # The outsider leads Other Co, which received the facility, so the transfer is theirs to
    # see as a business; in the regulator portal only the agency's jurisdiction counts.
    transfer = move(cast, cast.facility)
    factories.add_staff(cast.cupa2, cast.outsider, "viewer")
    client.force_login(cast.outsider)
    assert client.get(letter_url(transfer)).status_code == 404


@pytest.mark.parametrize("persona", ["lead", "viewer"])
def test_business_users_get_403(cast, client, persona):
    transfer = move(cast, cast.facility)
    client.force_login(getattr(cast, persona))
    assert client.get(letter_url(transfer)).status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(cast, client):
    transfer = move(cast, cast.facility)
    response = client.get(letter_url(transfer))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_a_merge_has_no_letter_to_download(cast, client):
    duplicate = factories.make_facility(cast.org, zip_code="95814")
    transfer = services.merge_facilities(
        actor=cast.state_admin, duplicate=duplicate, survivor=cast.facility, reason="Duplicate"
    )
    client.force_login(cast.state_admin)
    assert client.get(letter_url(transfer)).status_code == 404
    assert client.get(reverse("regulator:facility_transfer_letter", args=[999999])).status_code == (
        404
    )


def test_a_missing_stored_file_answers_404(cast, client):
    transfer = move(cast, cast.facility)
    transfer.letter.storage.delete(transfer.letter.name)
    client.force_login(cast.cupa_reviewer)
    assert client.get(letter_url(transfer)).status_code == 404


def test_the_facility_page_lists_its_transfers_with_a_link_to_the_letter(cast, client):
    transfer = move(cast, cast.facility)
    duplicate = factories.make_facility(cast.org, zip_code="95814", name="Acme Depot Dup")
    services.merge_facilities(
        actor=cast.state_admin, duplicate=duplicate, survivor=cast.facility, reason="Duplicate"
    )
    client.force_login(cast.state_admin)
    response = client.get(reverse("regulator:facility", args=[cast.facility.cers_id]))
    page = response.content.decode()
    assert [t.kind for t in response.context["transfers"]] == ["merge_facility", "move"]
    assert letter_url(transfer) in page
    assert "Sold to Other Co" in page
    assert f"Acme Depot Dup (CERS ID {duplicate.cers_id}) merged into this facility" in page
    client.force_login(cast.pa_viewer)
    response = client.get(reverse("regulator:facility", args=[cast.facility.cers_id]))
    assert letter_url(transfer) in response.content.decode()


def test_a_facility_never_moved_says_so(cast, client):
    client.force_login(cast.cupa_reviewer)
    response = client.get(reverse("regulator:facility", args=[cast.facility.cers_id]))
    assert "This facility has not been moved or merged." in response.content.decode()
