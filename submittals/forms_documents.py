"""Forms for the document slots of a submittal element (business portal).

Each slot has two small forms: how the document is provided, and a file upload. They only
parse the request; ``submittals.documents`` holds the rules (what each source needs, which
files are accepted), so a form never decides on its own what is valid.
"""

from __future__ import annotations

from django import forms

from core.elements import SubmittalElement

from .documents import (
    ALLOWED_EXTENSIONS,
    COMMENT_MAX_LENGTH,
    DESCRIPTION_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    URL_MAX_LENGTH,
)
from .models import DocumentSource, ElementDocument


def _slot_auto_id(slot: str, form: str) -> str:
    """Distinct HTML ids for each slot's forms on one page."""
    return f"id_{slot}_{form}_%s"


class DocumentAnswerForm(forms.Form):
    """How one document slot is provided, and the details that way needs."""

    source = forms.TypedChoiceField(
        label="How is this document provided?",
        choices=DocumentSource.choices,
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label="Comment",
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Exempt: why (5 to 500 characters). Another element: optional.",
    )
    date_provided = forms.DateField(
        label="Date provided to the regulator",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    other_element = forms.TypedChoiceField(
        label="Submittal element that holds it",
        required=False,
        coerce=int,
        empty_value=None,
    )
    url = forms.CharField(
        label="Public internet address",
        required=False,
        max_length=URL_MAX_LENGTH,
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
    )

    def __init__(self, *args, element: int, slot: str, **kwargs):
        kwargs.setdefault("auto_id", _slot_auto_id(slot, "answer"))
        super().__init__(*args, **kwargs)
        self.fields["other_element"].choices = [("", "---------")] + [
            (int(code), f"{int(code)} {code.label}") for code in SubmittalElement if code != element
        ]

    @classmethod
    def for_answer(cls, answer: ElementDocument | None, *, element: int, slot: str):
        """An unbound form showing the slot's current answer."""
        initial = {}
        if answer is not None:
            initial = {
                "source": answer.source,
                "comment": answer.comment,
                "date_provided": answer.date_provided,
                "other_element": answer.other_element,
                "url": answer.url,
            }
        return cls(initial=initial, element=element, slot=slot)


class DocumentUploadForm(forms.Form):
    """One file for a document slot, with its title, description and date authored."""

    file = forms.FileField(
        label="File",
        widget=forms.ClearableFileInput(
            attrs={"accept": ",".join(f".{extension}" for extension in ALLOWED_EXTENSIONS)}
        ),
        help_text="Up to 25 MB: " + ", ".join(ALLOWED_EXTENSIONS) + ".",
    )
    title = forms.CharField(label="Title", max_length=TITLE_MAX_LENGTH)
    description = forms.CharField(
        label="Description",
        required=False,
        max_length=DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    date_authored = forms.DateField(
        label="Date authored",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, slot: str, **kwargs):
        kwargs.setdefault("auto_id", _slot_auto_id(slot, "upload"))
        super().__init__(*args, **kwargs)
