"""The human-facing pages of the EDT services: the endpoint listing at each environment's root
and a detail page per endpoint, both from the catalogue."""

from __future__ import annotations

from django.http import Http404
from django.views.generic import TemplateView

from .catalogue import BY_ACRONYM, ENDPOINTS, TIER_CATEGORIES, newest_version, schema_namespace
from .views import base_url

ENVIRONMENT_NAMES = {"production": "Production", "testing": "Testing (Staging)"}


class _EnvironmentPage(TemplateView):
    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        environment = self.kwargs["environment"]
        context.update(
            environment=environment,
            environment_name=ENVIRONMENT_NAMES[environment],
            base_url=base_url(self.request, environment),
        )
        return context


class EndpointListView(_EnvironmentPage):
    template_name = "edt/api/endpoint_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tiers = []
        for tier, category in TIER_CATEGORIES.items():
            tiers.append((tier, category, [e for e in ENDPOINTS if e.tier == tier]))
        context.update(tiers=tiers, open_endpoints=[e for e in ENDPOINTS if e.tier is None])
        return context


class EndpointDetailView(_EnvironmentPage):
    template_name = "edt/api/endpoint_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        endpoint = BY_ACRONYM.get(self.kwargs["acronym"].upper())
        if endpoint is None:
            raise Http404("There is no EDT endpoint with that acronym.")
        schemas = []
        for role, name in (("Input", endpoint.input_schema), ("Output", endpoint.output_schema)):
            if name:
                version = newest_version(name)
                schemas.append((role, name, version, schema_namespace(name, version)))
        example = context["base_url"] + endpoint.path
        if endpoint.needs_regulator and endpoint.tier is not None:
            example += "?regulatorCode=1001"
        context.update(endpoint=endpoint, schemas=schemas, example_url=example)
        return context
