"""The Unified Program regulator directory: every agency (the state agency, the CUPAs, their
Participating Agencies) with its public contact, open to everyone, as CalEPA publishes it.
A ZIP code narrows it to the agencies serving that area, so a business finds its regulator.
What it shows is public already (EDT's Regulator Listing needs no sign-in either)."""

from __future__ import annotations

import re

from django.views.generic import TemplateView

from core.pagination import paginate

from ..models import Regulator

ZIP_CODE = re.compile(r"^\d{5}$")


class RegulatorDirectoryView(TemplateView):
    template_name = "regulators/directory.html"

    def get_context_data(self, **kwargs):
        agencies = Regulator.objects.select_related("parent").order_by("code")
        zip_code = self.request.GET.get("zip", "").strip()[:10]
        error = ""
        if zip_code:
            if ZIP_CODE.match(zip_code[:5]) and len(zip_code) in (5, 10):
                agencies = agencies.serving(zip_code[:5])
            else:
                error = "Enter a ZIP code of five digits, such as 95814."
        return super().get_context_data(
            page=paginate(self.request, agencies),
            zip_code=zip_code,
            error=error,
            **kwargs,
        )
