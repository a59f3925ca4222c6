"""The data dictionary: the registry's numbered fields, searchable, one page per number."""

import pytest
from django.urls import reverse

from core.elements import SubmittalElement
from libraries import dictionary

URL = reverse("libraries:dictionary")


def listed(response) -> list[str]:
    return [entry.number for entry in response.context["page"]]


@pytest.fixture
def reader(cast, client):
    client.force_login(cast.pa_viewer)
    return client


def test_every_number_has_one_entry_in_dictionary_order():
    numbers = [entry.number for entry in dictionary.entries()]
    assert len(numbers) == len(set(numbers)) > 600
    assert numbers.index("1") < numbers.index("1a") < numbers.index("2") < numbers.index("205")
    assert numbers.index("216z") < numbers.index("216aa") < numbers.index("217")
    assert numbers.index("422-2") < numbers.index("422-10") < numbers.index("423")
    assert numbers.index("631-2a") < numbers.index("20.0001") < numbers.index("20.0121")


def test_a_number_used_by_every_element_lists_every_use():
    submitter = dictionary.entry("20.0011")
    assert submitter.dictionary == dictionary.Dictionary.SYSTEM
    assert set(submitter.elements) >= {SubmittalElement.FACILITY_INFORMATION, SubmittalElement.UST}


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("205", "205"),  # an exact number comes first
        ("216cc", "216cc"),
        ("20.0005", "20.0005"),
        ("ChemicalName", "205"),  # XML tag
        ("chemical name", "205"),  # name
    ],
)
def test_it_searches_by_number_name_and_tag(reader, query, first):
    assert listed(reader.get(URL, {"q": query}))[0] == first


def test_it_filters_by_element(reader):
    ust = listed(reader.get(URL, {"element": SubmittalElement.UST, "q": "tank"}))
    assert ust
    assert all(SubmittalElement.UST in dictionary.entry(number).elements for number in ust)
    assert "205" not in listed(reader.get(URL, {"element": SubmittalElement.UST, "q": "205"}))
    assert "205" in listed(reader.get(URL, {"element": 2, "q": "205"}))


def test_it_filters_by_dictionary(reader):
    system = listed(reader.get(URL, {"dictionary": "system"}))
    assert system and all(number.startswith("20.") for number in system)


def test_a_bad_filter_value_is_ignored(reader):
    response = reader.get(URL, {"element": "99", "dictionary": "nonsense"})
    assert response.context["page"].paginator.count == len(dictionary.entries())


def test_the_list_is_paginated(reader, settings):
    settings.CERS_PAGE_SIZE = 25
    response = reader.get(URL, {"page": 2})
    assert len(response.context["page"]) == 25
    assert response.context["page"].number == 2


def test_the_entry_page_shows_definition_type_length_and_code_list(reader):
    response = reader.get(reverse("libraries:dictionary_entry", args=["214"]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "PhysicalState" in page and "Hazardous Materials Inventory" in page
    assert "One of 3 codes, a code of up to 1 character." in page  # the definition
    assert "<code>a</code></td><td>Solid" in page and "Gas" in page


def test_the_entry_page_shows_a_text_length(reader):
    page = reader.get(reverse("libraries:dictionary_entry", args=["205"])).content.decode()
    assert "at most 500 characters" in page and "Text" in page


def test_an_unknown_number_answers_404(reader):
    response = reader.get(reverse("libraries:dictionary_entry", args=["999zz"]))
    assert response.status_code == 404
