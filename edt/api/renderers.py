"""XML and JSON for the EDT services through Django REST framework's content negotiation.

CalEPA's clients send no Accept header, or one that names XML, and get XML; JSON is for clients
that ask for it first. ``EdtContentNegotiation`` keeps the rule the services have always used
(``wants_json``) rather than DRF's media-type precedence, so an ``Accept`` that mentions JSON
anywhere but first, behind XML, still gets XML.

Small answers are DRF ``Response`` objects rendered here: an ``EdtDocument`` (an lxml element
with its schema) renders as the XML document or as JSON built from the same element, and an
``ErrorBody`` as a plain message or ``{"error": ..., "status": ...}``. Queries stream: their
views return a ``StreamingHttpResponse`` in the format the negotiation chose
(``EdtCall.wants_json``).

The parsers name the media types the upload endpoints take. Uploads are read from the raw
body, with the size checked while reading (``edt.uploads.receive``), never through
``request.data``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder
from lxml import etree
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer

from .output import element_to_json

PLAIN_TEXT = "text/plain; charset=utf-8"


def wants_json(request) -> bool:
    """JSON when the Accept header names ``application/json`` and its first choice is not XML."""
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "xml" not in accept.split(",")[0]


@dataclass(frozen=True)
class EdtDocument:
    """A whole (small) answer: CalEPA's XML root and the schema and version it is written in."""

    root: etree._Element
    schema: str
    version: str

    def as_json(self) -> dict:
        name = etree.QName(self.root).localname
        return {"schema": self.schema, "version": self.version, name: element_to_json(self.root)}


@dataclass(frozen=True)
class ErrorBody:
    """A refusal: the message tells the client what to change."""

    message: str
    status: int


class XmlRenderer(BaseRenderer):
    media_type = "text/xml"
    format = "xml"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        if isinstance(data, EdtDocument):
            data = data.root
        if isinstance(data, etree._Element):
            return etree.tostring(data, xml_declaration=True, encoding="utf-8")
        if isinstance(data, ErrorBody):
            return data.message.encode("utf-8")
        if isinstance(data, str):
            return data.encode("utf-8")
        return bytes(data)


class JsonRenderer(BaseRenderer):
    """JSON as Django's ``JsonResponse`` writes it (the services' answers byte for byte)."""

    media_type = "application/json"
    format = "json"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        if isinstance(data, EdtDocument):
            data = data.as_json()
        elif isinstance(data, ErrorBody):
            data = {"error": data.message, "status": data.status}
        return json.dumps(data, cls=DjangoJSONEncoder).encode("utf-8")


class EdtContentNegotiation(BaseContentNegotiation):
    """JSON or XML by ``wants_json``; an upload's parser by its Content-Type."""

    def select_renderer(self, request, renderers, format_suffix=None):
        json_wanted = wants_json(request)
        for renderer in renderers:
            if (renderer.format == "json") == json_wanted:
                return renderer, renderer.media_type
        return renderers[0], renderers[0].media_type

    def select_parser(self, request, parsers):
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        for parser in parsers:
            if content_type in parser.media_types:
                return parser
        return None


class _UploadParser(BaseParser):
    """An upload's body as bytes. The upload endpoints read the raw body themselves, bounded
    while reading; this names the media types they take (for the OpenAPI document)."""

    media_types: tuple[str, ...] = ()

    def parse(self, stream, media_type=None, parser_context=None) -> bytes:
        return stream.read() if stream is not None else b""


class XmlParser(_UploadParser):
    media_type = "text/xml"
    media_types = ("text/xml", "application/xml")


class ZipParser(_UploadParser):
    media_type = "application/zip"
    media_types = ("application/zip", "application/x-zip-compressed")
