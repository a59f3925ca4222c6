"""The OpenAPI description of the EDT services, built from the catalogue, and a browsable page
(Swagger UI, served from the drf-spectacular-sidecar package's static files)."""

from __future__ import annotations

from django.http import JsonResponse
from django.views import View
from django.views.generic import TemplateView

from .catalogue import ENDPOINTS, TIER_CATEGORIES

_TYPES = {
    "integer": {"type": "integer"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "example": "10-14-2021"},
    "integer list": {"type": "string", "pattern": "^\\d+(,\\d+)*$", "example": "2,3"},
    "string": {"type": "string"},
}

_ERRORS = {
    "400": {"description": "A parameter or the document is wrong; the message says which."},
    "401": {
        "description": "Not authenticated or not authorized; the body and the "
        "X-CERS-Authentication-Result header carry CalEPA's result code (1-9)."
    },
    "413": {"description": "The query's result or the upload is too large; narrow it."},
}


def _operation(endpoint, *, with_argument: bool) -> dict:
    parameters = [
        {
            "name": p.name,
            "in": "query",
            "required": p.required,
            "description": p.description + " Names are matched without regard to case.",
            "schema": _TYPES.get(p.data_type, {"type": "string"}),
        }
        for p in endpoint.parameters
    ]
    if with_argument:
        parameters.insert(
            0,
            {
                "name": endpoint.path_argument,
                "in": "path",
                "required": True,
                "schema": {"type": "string"},
            },
        )
    content = {
        "text/xml": {"schema": {"type": "string", "description": "CalEPA's XML"}},
        "application/json": {"schema": {"type": "object"}},
    }
    operation = {
        "operationId": endpoint.acronym + ("_one" if with_argument else ""),
        "summary": endpoint.name,
        "description": endpoint.description
        + (f" Output schema: {endpoint.output_schema}." if endpoint.output_schema else ""),
        "tags": [f"Tier {endpoint.tier}" if endpoint.tier else "Open"],
        "parameters": parameters,
        "responses": {"200": {"description": "The answer", "content": content}, **_ERRORS},
    }
    if endpoint.tier is None:
        operation["security"] = []
    if endpoint.is_upload and not with_argument:
        body = {"text/xml": {"schema": {"type": "string"}}}
        if endpoint.accepts_zip:
            body["application/zip"] = {"schema": {"type": "string", "format": "binary"}}
        operation["requestBody"] = {"required": True, "content": body}
    return operation


def openapi_document(request) -> dict:
    paths: dict[str, dict] = {}
    for endpoint in ENDPOINTS:
        method = endpoint.method.lower()
        paths.setdefault(f"/{endpoint.path}", {})[method] = _operation(
            endpoint, with_argument=False
        )
        if endpoint.path_argument:
            # Uploads answer GET on their path with a transaction key: the status query.
            one_method = "get" if endpoint.is_upload else method
            paths.setdefault(f"/{endpoint.path}/{{{endpoint.path_argument}}}", {})[one_method] = (
                _operation(endpoint, with_argument=True)
            )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "CERS EDT services",
            "version": "1",
            "description": "CalEPA-compatible EDT endpoints. Every answer is XML by default; send "
            "Accept: application/json for JSON.",
        },
        "servers": [
            {"url": request.build_absolute_uri("/EDT"), "description": "Production"},
            {"url": request.build_absolute_uri("/Staging"), "description": "Testing"},
        ],
        "tags": [
            {"name": f"Tier {tier}", "description": category}
            for tier, category in TIER_CATEGORIES.items()
        ]
        + [{"name": "Open", "description": "No authentication"}],
        "components": {
            "securitySchemes": {
                "legacy": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "user NAME:BASE64(SHA1(secret))",
                },
                "token": {"type": "http", "scheme": "bearer"},
            }
        },
        "security": [{"legacy": []}, {"token": []}],
        "paths": paths,
    }


class OpenApiView(View):
    def get(self, request, environment: str):
        return JsonResponse(openapi_document(request), json_dumps_params={"indent": 1})


class ApiDocsView(TemplateView):
    template_name = "edt/api/docs.html"
