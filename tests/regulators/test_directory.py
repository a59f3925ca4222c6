"""The public regulator directory: every agency with its public contact, narrowed by ZIP
code to the agencies serving it."""

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from regulators.models import Regulator, ServiceArea

DIRECTORY = reverse("regulator_directory")

pytestmark = pytest.mark.django_db


def names(response) -> list[str]:
    return [agency.name for agency in response.context["page"].object_list]


def test_anyone_finds_every_agency_without_signing_in(client, cast):
    Regulator.objects.filter(pk=cast.cupa.pk).update(email="hazmat@sac-cupa.example")

    response = client.get(DIRECTORY)

    assert response.status_code == 200
    assert names(response) == [
        "California Environmental Protection Agency",
        "Sacramento County CUPA",
        "Yolo County CUPA",
        "Sacramento City Fire PA",
    ]
    assertContains(response, "mailto:hazmat@sac-cupa.example")
    assertContains(response, "Sacramento County CUPA (1001)")  # the PA works under it


def test_a_zip_code_keeps_the_agencies_serving_it_and_the_state(client, cast):
    response = client.get(DIRECTORY, {"zip": "95814"})

    assert names(response) == [
        "California Environmental Protection Agency",
        "Sacramento County CUPA",
        "Sacramento City Fire PA",
    ]
    assert names(client.get(DIRECTORY, {"zip": "95616-1234"})) == [
        "California Environmental Protection Agency",
        "Yolo County CUPA",
    ]


def test_an_agency_serving_a_zip_code_for_several_elements_is_listed_once(client, cast):
    ServiceArea.objects.create(regulator=cast.pa, zip_code="95814", element=9)

    assert names(client.get(DIRECTORY, {"zip": "95814"})).count("Sacramento City Fire PA") == 1


def test_a_zip_code_that_is_not_one_is_answered_in_words(client, cast):
    response = client.get(DIRECTORY, {"zip": "Sacramento"})

    assert response.status_code == 200
    assertContains(response, "Enter a ZIP code of five digits")
    assert len(names(response)) == 4  # the whole directory, not an empty page


def test_the_queries_do_not_grow_with_the_agencies(client, cast, django_assert_num_queries):
    client.get(DIRECTORY)
    for code in range(2001, 2031):
        Regulator.objects.create(code=str(code), name=f"Agency {code}", kind="cupa")

    with django_assert_num_queries(2):  # the count, the page with each PA's CUPA
        response = client.get(DIRECTORY)

    assert len(names(response)) == 25
    assertNotContains(response, "Agency 2030")
