"""Forms for facilities. They check the shape of the input; the rules (ZIP code, duplicate
address, who may add) live in ``facilities.services`` and come back as ValidationError."""

from django import forms


class FacilityForm(forms.Form):
    """Adding a facility to the current organization."""

    name = forms.CharField(max_length=200)
    street = forms.CharField(label="Street address", max_length=200)
    city = forms.CharField(max_length=100)
    zip_code = forms.CharField(
        label="ZIP code", max_length=10, help_text="5 digits, or ZIP+4 (95814-1234)."
    )
    county = forms.CharField(max_length=60, required=False)
