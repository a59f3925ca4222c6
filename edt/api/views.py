"""The EDT endpoints that need no data of their own: the authentication test, the regulator
listing, the endpoint metadata feed, and the answer for endpoints not served yet."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils import timezone
from lxml import etree
from rest_framework.response import Response

from regulators.models import Regulator

from .base import EdtCall, EndpointView
from .catalogue import ENDPOINTS, SCHEMA_BASE, newest_version, schema_namespace
from .output import document, query_response, sub
from .registry import serves

LISTED_KINDS = {Regulator.Kind.CUPA: "CUPA", Regulator.Kind.PA: "PA"}


@serves("RAT")
class AuthenticationTestView(EndpointView):
    """RAT: 200 'Authentication Succeeded' when the header authenticates for the agency."""

    def answer(self, call: EdtCall):
        self.accepted(call)
        response = HttpResponse("Authentication Succeeded", content_type="text/plain")
        response.reason_phrase = "Authentication Succeeded"
        return response


@serves("RL")
class RegulatorListingView(EndpointView):
    """Every CUPA's and PA's code, type and name, by code; no authentication."""

    def answer(self, call: EdtCall):
        agencies = Regulator.objects.filter(kind__in=LISTED_KINDS).order_by("code")
        if call.wants_json:
            listed = [
                {"code": r.code, "type": LISTED_KINDS[r.kind], "name": r.name} for r in agencies
            ]
            return Response({"regulators": listed})
        root = etree.Element("Regulators")
        for agency in agencies:
            element = etree.SubElement(
                root, "regulator", code=agency.code, type=LISTED_KINDS[agency.kind]
            )
            element.text = agency.name
        return Response(root)


def base_url(request, environment: str) -> str:
    prefix = "EDT" if environment == "production" else "Staging"
    return request.build_absolute_uri(f"/{prefix}/")


def _schema(parent, tag: str, name: str):
    version = newest_version(name)
    element = etree.SubElement(parent, tag)
    sub(element, "Name", name)
    sub(element, "Location", f"{SCHEMA_BASE}/{version}/{name}.xsd")
    sub(element, "Namespace", schema_namespace(name, version))
    etree.SubElement(element, "PublishDate")  # required by the schema; CalEPA's dates unknown
    sub(element, "FileName", f"{name}.xsd")


def endpoint_elements(request, environment: str):
    """One ``Endpoint`` element per tiered endpoint (EndpointMetadata 1/06)."""
    base = base_url(request, environment)
    for endpoint in ENDPOINTS:
        if endpoint.tier is None:
            continue
        element = etree.Element("Endpoint")
        sub(element, "Name", endpoint.name)
        sub(element, "Tier", endpoint.tier)
        sub(element, "Acronym", endpoint.acronym)
        sub(element, "Status", "Active" if endpoint.implemented else "InDevelopment")
        sub(element, "Category", endpoint.category)
        sub(element, "AcceptsZipPackages", endpoint.accepts_zip)
        sub(element, "UrlFragment", endpoint.path)
        sub(element, "Description", endpoint.description)
        sub(element, "Uri", base + endpoint.path)
        if endpoint.input_schema:
            _schema(element, "InputSchema", endpoint.input_schema)
        if endpoint.output_schema:
            _schema(element, "OutputSchema", endpoint.output_schema)
        if endpoint.parameters:
            parameters = etree.SubElement(element, "Parameters")
            for parameter in endpoint.parameters:
                item = etree.SubElement(parameters, "Parameter")
                sub(item, "Name", parameter.name)
                sub(item, "DataType", parameter.data_type)
                sub(item, "Required", parameter.required)
                sub(item, "Description", parameter.description)
                sub(item, "PotentialValues", parameter.values)
        yield element


@serves("EM")
class EndpointMetadataView(EndpointView):
    """The endpoint catalogue as XML (EndpointMetadata 1/06); no authentication."""

    def answer(self, call: EdtCall):
        attributes = {
            "environment": call.environment.title(),
            "timeStamp": timezone.localdate(),
        }
        return query_response(
            call,
            schema="EndpointMetadata",
            version="1/06",
            root="Endpoints",
            attributes=attributes,
            record_name="Endpoint",
            records=list(endpoint_elements(call.request, call.environment)),
        )


def endpoint_metadata_document(request, environment: str) -> bytes:
    attributes = {"environment": environment.title(), "timeStamp": timezone.localdate()}
    return document(
        "EndpointMetadata", "1/06", "Endpoints", attributes, endpoint_elements(request, environment)
    )
