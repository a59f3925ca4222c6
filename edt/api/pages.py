"""The human-facing pages of the EDT services: the endpoint listing at each environment's root
and a detail page per endpoint, both from the catalogue; the schema files for download and the
page of their versions and what changed; and the answer to a path that names no endpoint."""

from __future__ import annotations

import logging

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import TemplateView, View

from core.xmlsafe import SchemasUnavailable

from . import schema_files
from .catalogue import BY_ACRONYM, ENDPOINTS, SCHEMA_VERSIONS, TIER_CATEGORIES
from .renderers import PLAIN_TEXT, ErrorBody, JsonRenderer, wants_json
from .views import base_url

log = logging.getLogger(__name__)

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

    def get(self, request, *args, **kwargs):
        if kwargs["acronym"].upper() not in BY_ACRONYM:
            return _not_found(
                f"There is no EDT endpoint with the acronym {kwargs['acronym'][:20]}. The "
                f"endpoints are listed at {base_url(request, kwargs['environment'])}"
            )
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        endpoint = BY_ACRONYM[self.kwargs["acronym"].upper()]
        schemas = []
        for role, name in (("Input", endpoint.input_schema), ("Output", endpoint.output_schema)):
            if name:
                files = [schema_files.SchemaFile(name, v) for v in SCHEMA_VERSIONS[name]]
                schemas.append((role, name, files[::-1]))
        example = context["base_url"] + endpoint.path
        if endpoint.needs_regulator and endpoint.tier is not None:
            example += "?regulatorCode=1001"
        context.update(endpoint=endpoint, schemas=schemas, example_url=example)
        return context


class SchemaVersionsView(_EnvironmentPage):
    """Every schema the service reads or writes, each version with its file to download and
    what changed since the version before, computed from the files."""

    template_name = "edt/api/schema_versions.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        try:
            context["families"] = schema_files.families()
        except SchemasUnavailable as error:
            log.error("EDT schema files unavailable: %s", error)
            context["families"] = None
        return context


class SchemaFileView(View):
    """One schema file as published, at its namespace's path, or a file it includes by the
    location it gives. Anything else, traversal attempts included, is not found: the request
    names a schema and version of the catalogue or a location one of its files writes, never
    a path on disk."""

    http_method_names = ["get", "head"]

    def get(self, request, environment, family, major, minor, location=""):
        schema = schema_files.find(family, major, minor)
        if schema is None:
            return _not_found(
                "No EDT schema has that name and version. The schemas and their versions are "
                f"listed at {base_url(request, environment)}Schemas/"
            )
        try:
            if location:
                path = schema_files.referenced_files(schema).get(location)
                if path is None:
                    return _not_found(
                        "That schema includes no file at that location. A file it includes "
                        "is at the location its include or import element gives, relative to "
                        "the schema's own path."
                    )
                filename = path.name
            else:
                path, filename = schema.path, schema.download_name
            content = path.read_bytes()
        except (SchemasUnavailable, LookupError, OSError) as error:
            log.error("EDT schema file unavailable: %s", error)
            return HttpResponse(
                "The EDT schema files are unavailable just now; try again later.",
                status=503,
                content_type="text/plain; charset=utf-8",
            )
        response = HttpResponse(content, content_type="application/xml")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


def _not_found(message: str) -> HttpResponse:
    """A 404 as the services answer one: a plain message a client's program can read."""
    return HttpResponse(message, status=404, content_type=PLAIN_TEXT)


@csrf_exempt  # a program's POST to a wrong path learns the path is wrong, not about CSRF
def not_an_endpoint(request, environment, unknown=""):
    """A path under an environment's base that names no endpoint: 404 in the services' own
    error shape (a plain message, or JSON when asked for), which a client's program reads, not
    the portal's page. It says where the list of endpoints is; no transaction is logged, as no
    endpoint was called."""
    shown = request.path if len(request.path) <= 200 else request.path[:200] + "..."
    message = (
        f"{shown} is not an EDT endpoint. Check the path against the list of endpoints and "
        f"their paths at {base_url(request, environment)}"
    )
    if wants_json(request):
        body = JsonRenderer().render(ErrorBody(message, 404))
        return HttpResponse(body, status=404, content_type=JsonRenderer.media_type)
    return _not_found(message)
