"""Forms for the regulator portal's review pages: the review queue's filters and the review
action.

The review form only collects the choice; the rules (who may review, which statuses, comments
required for Not Accepted) live in ``services.review`` and its messages are shown as given.
"""

from __future__ import annotations

from django import forms

from core.elements import SubmittalElement
from core.keys import as_key

from .models import AWAITING_STATUSES, REVIEW_STATUSES, ElementStatus

# The queue's default: the elements waiting for the agency to act on them.
AWAITING = "awaiting"
ANY_STATUS = "any"


def _status_choices():
    statuses = [(str(s.value), s.label) for s in ElementStatus if s != ElementStatus.DRAFT]
    return [(AWAITING, "Awaiting action (Submitted, Under Review)"), (ANY_STATUS, "Any status")] + (
        statuses
    )


class QueueFilterForm(forms.Form):
    """The review queue's filters, read from the query string. Every field is optional;
    the status defaults to the elements awaiting action."""

    status = forms.ChoiceField(choices=_status_choices, required=False)
    element = forms.TypedChoiceField(
        choices=[("", "Any element"), *SubmittalElement.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )
    submitted_from = forms.DateField(
        label="Submitted from", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    submitted_to = forms.DateField(
        label="Submitted to", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    facility = forms.CharField(
        label="Facility",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "CERS ID or name", "type": "search"}),
    )

    def clean_status(self) -> str:
        return self.cleaned_data.get("status") or AWAITING

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("submitted_from"), cleaned.get("submitted_to")
        if start and end and start > end:
            self.add_error("submitted_to", "Choose a date on or after the “from” date.")
        return cleaned

    def statuses(self) -> tuple[int, ...] | None:
        """The statuses asked for; None for any status. Call after ``is_valid``."""
        status = self.cleaned_data.get("status", AWAITING) if self.is_bound else AWAITING
        if status == AWAITING:
            return tuple(AWAITING_STATUSES)
        if status == ANY_STATUS:
            return None
        return (int(status),)


class ReviewForm(forms.Form):
    """The regulator's action on one element. Comments are required for Not Accepted, a rule
    ``services.review`` enforces (its message is shown beside the comments)."""

    status = forms.TypedChoiceField(
        label="Action",
        choices=[(int(s), s.label) for s in ElementStatus if s in REVIEW_STATUSES],
        coerce=int,
        widget=forms.RadioSelect,
    )
    comments = forms.CharField(
        label="Comments to the business",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 1500}),
        help_text="Required for Not Accepted: say what the business must correct.",
    )
    # The element's state when the page was drawn (``services.review_seen``): a review of an
    # element someone else reviewed meanwhile is refused instead of silently replacing theirs.
    seen = forms.CharField(required=False, widget=forms.HiddenInput)


class SelectedElementsField(forms.Field):
    """The queue rows ticked for a bulk action: each checkbox's value is the element's id and
    the state it was drawn in (``services.review_seen``), as ``<id>:<seen>``. Cleaned to
    ``{id: seen}``."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": "Select the elements to act on: tick their rows in the queue.",
        "invalid": "The selection could not be read; reload the queue and select again.",
    }

    def to_python(self, value):
        if not value:
            return {}
        selected = {}
        for item in value if isinstance(value, list | tuple) else [value]:
            text, _, seen = str(item).partition(":")
            pk = as_key(text)
            if pk is None or not seen:
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
            selected[pk] = seen
        return selected

    def validate(self, value):
        if not value and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        if len(value) > BULK_REVIEW_MAX:
            raise forms.ValidationError(
                f"Act on at most {BULK_REVIEW_MAX} elements at once; select fewer.", code="max"
            )


# A page of the queue is what a bulk action acts on; this bounds a hand-made request.
BULK_REVIEW_MAX = 500


class BulkReviewForm(forms.Form):
    """A bulk action on the queue's selected rows: Accepted or Under Review, with optional
    comments to the businesses. (Not Accepted needs a reason per element: the review page.)"""

    status = forms.TypedChoiceField(
        label="Mark the selected elements",
        choices=[
            (int(ElementStatus.ACCEPTED), ElementStatus.ACCEPTED.label),
            (int(ElementStatus.UNDER_REVIEW), ElementStatus.UNDER_REVIEW.label),
        ],
        coerce=int,
        error_messages={
            "required": "Choose what to mark the selected elements: Accepted or Under Review.",
            "invalid_choice": "Not Accepted is given element by element, with its reason, on "
            "each element's review page; here choose Accepted or Under Review.",
        },
    )
    comments = forms.CharField(
        label="Comments to the businesses (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 1500}),
    )
    elements = SelectedElementsField(label="Selected elements")

    def __init__(self, *args, **kwargs):
        # The queue's filter form, on the same page, has a status field too: ids of their own.
        kwargs.setdefault("auto_id", "bulk_%s")
        super().__init__(*args, **kwargs)

    def selected_pks(self) -> list[int]:
        """The ids ticked, for drawing the queue again with them still ticked."""
        pks = []
        for item in self.data.getlist("elements") if hasattr(self.data, "getlist") else []:
            pk = as_key(str(item).partition(":")[0])
            if pk is not None:
                pks.append(pk)
        return pks
