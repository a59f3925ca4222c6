"""Which view answers which endpoint. Endpoint modules decorate their views with ``serves``;
``load_endpoint_modules`` imports them all (at start-up, in web processes and workers alike)."""

from __future__ import annotations

VIEWS: dict[str, type] = {}


def serves(acronym: str):
    """Class decorator: this view answers the endpoint ``acronym`` (from the catalogue)."""
    from .catalogue import BY_ACRONYM

    def register(view_class):
        view_class.endpoint = BY_ACRONYM[acronym]
        VIEWS[acronym] = view_class
        return view_class

    return register


ENDPOINT_MODULES = (
    "edt.api.views",
    "edt.api.library",
    "edt.api.queries",
    "edt.api.submittal_query",
    "edt.api.upload_views",
    "edt.api.cme_query",
    "edt.processors.cme",
    "edt.processors.facility",
    "edt.processors.review",
    "edt.processors.submittal",
)


def load_endpoint_modules() -> None:
    """Import every endpoint and processor module: each registers its views (``serves``) or
    processors (``edt.uploads.processes``) when imported. Called by ``EdtConfig.ready`` so that
    a Celery worker, which never loads the URLconf, knows every processor too."""
    from importlib import import_module

    for module in ENDPOINT_MODULES:
        import_module(module)
