"""Text typed into any form of the site cannot hold a character XML cannot carry (a control
character: Word's line break within a paragraph pastes as U+000B). Such a character stored in a
facility's or an organization's name made every EDT answer naming it fail mid-stream, for the
whole agency; the form now says which character and where, and nothing is saved."""

import pytest
from django import forms
from django.urls import reverse

from facilities.models import Facility


class AnyForm(forms.Form):
    name = forms.CharField()
    notes = forms.CharField(widget=forms.Textarea, required=False)


@pytest.mark.parametrize("character", ["\x0b", "\x01", "\x1f", "\ufffe"])
def test_a_control_character_in_any_text_field_is_refused_by_name(character):
    form = AnyForm({"name": f"Acme{character}Depot"})
    assert not form.is_valid()
    [message] = form.errors["name"]
    assert f"U+{ord(character):04X}" in message


def test_tabs_and_line_breaks_are_text():
    form = AnyForm({"name": "Acme\tDepot", "notes": "Line one\r\nLine two\n"})
    assert form.is_valid(), form.errors


def test_a_facility_name_pasted_from_word_is_refused_and_nothing_saved(cast, client):
    client.force_login(cast.lead)
    url = reverse("business:facility_edit", args=[cast.facility.cers_id])
    response = client.post(
        url,
        {"name": "Acme\x0bDepot", "street": "1 A St", "city": "Sacramento", "zip_code": "95814"},
    )
    assert response.status_code == 200
    assert "U+000B" in response.content.decode()
    cast.facility.refresh_from_db()
    assert cast.facility.name == "Acme Sacramento Depot"
    assert not Facility.objects.filter(name__contains="\x0b").exists()
