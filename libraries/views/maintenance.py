"""Library maintenance pages: the state administrator adds and changes violation types and
chemicals.

These are regulator portal pages (``RegulatorPortalMixin``: a business user gets 403), for the
state administrator working for the state agency (``StaffMembership.is_state_administrator``;
403 for everyone else, whose libraries are public to them anyway). Every write goes through
``libraries.services``, which checks the actor again.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.views.generic import TemplateView

from core.forms import add_service_errors
from core.views import RegulatorPortalMixin, ScopedQuerysetMixin

from .. import services
from ..forms import (
    ChemicalForm,
    ChemicalLibraryFileForm,
    ViolationLibraryFileForm,
    ViolationTypeForm,
)
from ..library_file import PublishedLibrary, check_size
from ..models import Chemical, ChemicalLibraryLoad, ViolationLibraryLoad, ViolationType
from ..published import CHEMICALS, VIOLATIONS


class _RequireStateAdministrator:
    """Runs after ``RegulatorPortalMixin`` has set the agency the user works for."""

    def dispatch(self, request, *args, **kwargs):
        if not self.staff.is_state_administrator:
            raise PermissionDenied(
                "Only the state administrator maintains the libraries "
                "(working for the state agency)."
            )
        return super().dispatch(request, *args, **kwargs)


class LibraryMaintenanceMixin(
    RegulatorPortalMixin, _RequireStateAdministrator, ScopedQuerysetMixin
):
    """A maintenance page: the state administrator only. The row named in the URL comes from
    the ``manage`` scope (``get_object``: 404 when missing)."""

    form_class = None
    scope_action = "manage"
    not_found_message = "No such library entry."

    def render_form(self, form, **extra):
        return self.render_to_response(self.get_context_data(form=form, **extra))


class ViolationTypeCreateView(LibraryMaintenanceMixin, TemplateView):
    """Add a violation type to the violation library."""

    template_name = "libraries/violation_form.html"

    def get(self, request, *args, **kwargs):
        return self.render_form(ViolationTypeForm())

    def post(self, request, *args, **kwargs):
        form = ViolationTypeForm(request.POST)
        if form.is_valid():
            try:
                created = services.create_violation_type(actor=request.user, **form.values())
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"Violation type {created.type_number} added.")
                return redirect("libraries:violation", created.type_number)
        return self.render_form(form)


class ViolationTypeEditView(LibraryMaintenanceMixin, TemplateView):
    """Change a violation type, or retire it by giving it an end date."""

    template_name = "libraries/violation_form.html"
    model = ViolationType
    lookup_field = "type_number"

    def get(self, request, *args, **kwargs):
        violation_type = self.get_object()
        form = ViolationTypeForm(
            initial=ViolationTypeForm.initial_for(violation_type),
            citation_rows=len(violation_type.citations) + 1,
        )
        return self.render_form(form, violation_type=violation_type)

    def post(self, request, *args, **kwargs):
        violation_type = self.get_object()
        form = ViolationTypeForm(request.POST, citation_rows=len(violation_type.citations) + 1)
        if form.is_valid():
            try:
                changed = services.update_violation_type(
                    actor=request.user, violation_type=violation_type, **form.values()
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"Violation type {changed.type_number} saved.")
                return redirect("libraries:violation", changed.type_number)
        return self.render_form(form, violation_type=violation_type)


class ViolationTypeDeleteView(LibraryMaintenanceMixin, TemplateView):
    """Delete a violation type no violation cites (POST only); a cited type stays and the
    page says to retire it."""

    http_method_names = ["post"]
    model = ViolationType
    lookup_field = "type_number"

    def post(self, request, *args, **kwargs):
        violation_type = self.get_object()
        try:
            services.delete_violation_type(actor=request.user, violation_type=violation_type)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("libraries:violation", violation_type.type_number)
        messages.success(request, f"Violation type {violation_type.type_number} deleted.")
        return redirect("libraries:violations")


class LibraryLoadView(LibraryMaintenanceMixin, TemplateView):
    """Load a published library from its XML file (``libraries.published``); any problem
    loads nothing and every problem is listed (the first ``SHOWN_PROBLEMS``)."""

    SHOWN_PROBLEMS = 200
    library: PublishedLibrary
    form_class: type
    load_model: type
    done_url: str

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            latest=self.load_model.objects.select_related("loaded_by").first(),
            max_mb=self.library.limit_mb,
            **kwargs,
        )

    def get(self, request, *args, **kwargs):
        return self.render_form(self.form_class())

    def post(self, request, *args, **kwargs):
        form = self.form_class(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_form(form)
        upload = form.cleaned_data["file"]
        try:
            check_size(upload.size, self.library.limit)
            library, load = self.library.load_file(
                upload.read(), actor=request.user, source=upload.name
            )
        except ValidationError as error:
            problems = error.messages
            return self.render_form(
                form,
                problems=problems[: self.SHOWN_PROBLEMS],
                more_problems=max(0, len(problems) - self.SHOWN_PROBLEMS),
            )
        for note in library.notes:
            messages.info(request, note)
        messages.success(request, load.summary())
        return redirect(self.done_url)


class ViolationLibraryLoadView(LibraryLoadView):
    """Load the published violation library."""

    template_name = "libraries/violation_load.html"
    library = VIOLATIONS
    form_class = ViolationLibraryFileForm
    load_model = ViolationLibraryLoad
    done_url = "libraries:violations"


class ChemicalLibraryLoadView(LibraryLoadView):
    """Load CalEPA's published chemical library (a Chemical Library Query's answer)."""

    template_name = "libraries/chemical_load.html"
    library = CHEMICALS
    form_class = ChemicalLibraryFileForm
    load_model = ChemicalLibraryLoad
    done_url = "libraries:chemicals"


class ChemicalCreateView(LibraryMaintenanceMixin, TemplateView):
    """Add a chemical to the chemical library."""

    template_name = "libraries/chemical_form.html"

    def get(self, request, *args, **kwargs):
        # No CCL ID is suggested: it is CalEPA's, never numbered here.
        return self.render_form(ChemicalForm())

    def post(self, request, *args, **kwargs):
        form = ChemicalForm(request.POST)
        if form.is_valid():
            try:
                created = services.create_chemical(actor=request.user, **form.values())
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"{created.chemical_name} added to the library.")
                return redirect("libraries:chemical", created.pk)
        return self.render_form(form)


class ChemicalEditView(LibraryMaintenanceMixin, TemplateView):
    """Change a chemical of the library."""

    template_name = "libraries/chemical_form.html"
    model = Chemical

    def get(self, request, *args, **kwargs):
        chemical = self.get_object()
        form = ChemicalForm(initial=ChemicalForm.initial_for(chemical))
        return self.render_form(form, chemical=chemical)

    def post(self, request, *args, **kwargs):
        chemical = self.get_object()
        form = ChemicalForm(request.POST)
        if form.is_valid():
            try:
                changed = services.update_chemical(
                    actor=request.user, chemical=chemical, **form.values()
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"{changed.chemical_name} saved.")
                return redirect("libraries:chemical", changed.pk)
        return self.render_form(form, chemical=chemical)
