"""The EDT services' URLs, mounted twice by cers/urls.py: under /EDT/ (production) and under
/Staging/ (the testing environment), each passing ``environment`` to the views.

Paths are CalEPA's, so existing clients only change their base URL. Every catalogued endpoint
has its view in ``VIEWS``; a missing one stops the URLconf from loading. Each path answers its
own methods (``http_methods``), and a path's trailing argument is named as CalEPA names it
(``{CERSTransactionKey}``), which is also how the OpenAPI document shows it.

Every path matches as on CalEPA's IIS server, whatever the case of its letters and with or
without one trailing slash (``routing.iis_path``). A path under the base that names nothing
here answers the services' own 404 (``pages.not_an_endpoint``), the last pattern.
"""

from . import openapi, pages
from .base import http_methods
from .catalogue import ENDPOINTS
from .registry import VIEWS, load_endpoint_modules
from .routing import iis_path as path

load_endpoint_modules()  # also done by EdtConfig.ready(); imports are idempotent

urlpatterns = [
    path("", pages.EndpointListView.as_view(), name="endpoints"),
    path("openapi.json", openapi.OpenApiView.as_view(), name="openapi"),
    path("api-docs/", openapi.ApiDocsView.as_view(), name="api_docs"),
    path(
        "Home/EndpointDetail/<str:acronym>",
        pages.EndpointDetailView.as_view(),
        name="endpoint_detail",
    ),
    # CalEPA's schema files, each at its namespace's path: Schemas/{Name}/{major}/{minor}/
    path("Schemas/", pages.SchemaVersionsView.as_view(), name="schemas"),
    path(
        "Schemas/<str:family>/<str:major>/<str:minor>/",
        pages.SchemaFileView.as_view(),
        name="schema_file",
    ),
    path(
        "Schemas/<str:family>/<str:major>/<str:minor>/<path:location>",
        pages.SchemaFileView.as_view(),
        name="schema_include",
    ),
]

for _endpoint in ENDPOINTS:
    _view = VIEWS[_endpoint.acronym]
    _name = _endpoint.acronym.lower()
    _paths = [_endpoint.path]
    if _endpoint.acronym == "RFTQ":
        _paths.append("Regulator/Facility/Transfer")  # the spelling CalEPA's page shows
    for _index, _path in enumerate(_paths):
        _suffix = "" if _index == 0 else f"_{_index}"
        _plain = http_methods(_endpoint, with_argument=False)
        urlpatterns.append(
            path(_path, _view.as_view(http_method_names=_plain), name=f"{_name}{_suffix}")
        )
        if _endpoint.path_argument:
            _one = http_methods(_endpoint, with_argument=True)
            urlpatterns.append(
                path(
                    f"{_path}/<path:{_endpoint.path_argument}>",
                    _view.as_view(http_method_names=_one),
                    name=f"{_name}_one{_suffix}",
                )
            )

# Last: whatever else lies under the environment's base is not an endpoint.
urlpatterns.append(path("<path:unknown>", pages.not_an_endpoint))
