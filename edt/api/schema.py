"""How drf-spectacular describes an EDT endpoint: everything from its catalogue entry, so the
OpenAPI document, the endpoint pages and the metadata feed never disagree.

Each operation carries the endpoint's name, description and output schema, its query parameters
in CalEPA's order with their types, the path argument where it has one, a tag per tier, the two
credential schemes (none for open endpoints), the upload body's media types, and the answers
with the headers that matter to a client.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

_TYPES = {
    "integer": {"type": "integer"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "example": "10-14-2021"},
    "integer list": {"type": "string", "pattern": "^\\d+(,\\d+)*$", "example": "2,3"},
    "string": {"type": "string"},
}

_ERRORS = {
    400: "A parameter or the document is wrong; the message says which.",
    401: "Not authenticated or not authorized; the body and the X-CERS-Authentication-Result "
    "header carry CalEPA's result code (1-9).",
    413: "The query's result or the upload is too large; narrow it.",
    429: "Too many calls without working credentials; Retry-After says when to try again.",
}

_HEADERS = (
    OpenApiParameter(
        "X-CERS-Transaction-Key",
        OpenApiTypes.UUID,
        OpenApiParameter.HEADER,
        description="The call's transaction in the agency's EDT transaction log.",
        response=[200],
    ),
    OpenApiParameter(
        "X-CERS-Authentication-Result",
        OpenApiTypes.INT,
        OpenApiParameter.HEADER,
        description="CalEPA's authentication result code.",
        response=[401],
    ),
    OpenApiParameter(
        "Retry-After",
        OpenApiTypes.INT,
        OpenApiParameter.HEADER,
        description="Seconds to wait before the next call.",
        response=[429],
    ),
)


class EndpointSchema(AutoSchema):
    """The OpenAPI operation of an ``EndpointView``, from ``view.endpoint``."""

    @property
    def _endpoint(self):
        return self.view.endpoint

    @property
    def _with_argument(self) -> bool:
        return "{" in self.path

    def is_excluded(self) -> bool:
        """Only CalEPA's spelling of a path is described (RFTQ answers a corrected one too)."""
        path = "/" + self.path.split("/{")[0].strip("/")
        return not path.endswith("/" + self._endpoint.path) or super().is_excluded()

    def _get_format_parameters(self) -> list:
        return []  # the format is negotiated from Accept; there is no ?format=

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        operation.setdefault("parameters", [])  # listed even when there are none
        if self._endpoint.tier is None:
            operation["security"] = []  # open: no credentials
        return operation

    def get_operation_id(self) -> str:
        return self._endpoint.acronym + ("_one" if self._with_argument else "")

    def get_summary(self) -> str:
        return self._endpoint.name

    def get_description(self) -> str:
        endpoint = self._endpoint
        output = f" Output schema: {endpoint.output_schema}." if endpoint.output_schema else ""
        return endpoint.description + output

    def get_tags(self) -> list[str]:
        tier = self._endpoint.tier
        return [f"Tier {tier}" if tier else "Open"]

    def get_override_parameters(self) -> list:
        endpoint = self._endpoint
        parameters = []
        if self._with_argument:
            parameters.append(OpenApiParameter(endpoint.path_argument, str, OpenApiParameter.PATH))
        parameters += [
            OpenApiParameter(
                p.name,
                _TYPES.get(p.data_type, {"type": "string"}),
                OpenApiParameter.QUERY,
                required=p.required,
                description=p.description + " Names are matched without regard to case.",
            )
            for p in endpoint.parameters
        ]
        headers = _HEADERS if endpoint.tier is not None else _HEADERS[2:]
        return [*parameters, *headers]

    def get_request_serializer(self):
        endpoint = self._endpoint
        if not endpoint.is_upload or self._with_argument:
            return None
        body = {"text/xml": {"type": "string", "description": f"{endpoint.input_schema} XML"}}
        if endpoint.accepts_zip:
            body["application/zip"] = {
                "type": "string",
                "format": "binary",
                "description": "A ZIP package: data.xml and the documents it references.",
            }
        return body

    def _get_request_for_media_type(self, serializer, direction="request"):
        schema, _required = super()._get_request_for_media_type(serializer, direction)
        return schema, True  # an upload always has a body

    def get_response_serializers(self) -> dict:
        answer = "The answer"
        return {
            (200, "text/xml"): OpenApiResponse(
                {"type": "string", "description": "CalEPA's XML"}, description=answer
            ),
            (200, "application/json"): OpenApiResponse({"type": "object"}, description=answer),
            **{
                code: OpenApiResponse(description=text)
                for code, text in _ERRORS.items()
                if self._endpoint.tier is not None or code not in (401, 413)
            },
        }


def production_paths_only(endpoints):
    """drf-spectacular preprocessing hook: with the whole URLconf (``manage.py spectacular``,
    the deploy check) every EDT path comes twice, under ``/EDT/`` and ``/Staging/``; the
    document describes each once, relative to its servers (``SCHEMA_PATH_PREFIX``)."""
    return [endpoint for endpoint in endpoints if not endpoint[0].startswith("/Staging/")]


def tiers_and_servers(result, generator, request, public):
    """drf-spectacular postprocessing hook: a tag per tier, described by its category, and the
    two environments as the document's servers, on the host the document was asked from."""
    from .catalogue import TIER_CATEGORIES

    result["tags"] = [
        *({"name": f"Tier {tier}", "description": text} for tier, text in TIER_CATEGORIES.items()),
        {"name": "Open", "description": "No authentication"},
    ]

    def url(path: str) -> str:
        return request.build_absolute_uri(path) if request is not None else path

    result["servers"] = [
        {"url": url("/EDT"), "description": "Production"},
        {"url": url("/Staging"), "description": "Testing"},
    ]
    return result
