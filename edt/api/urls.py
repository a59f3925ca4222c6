"""The EDT services' URLs, mounted twice by cers/urls.py: under /EDT/ (production) and under
/Staging/ (the testing environment), each passing ``environment`` to the views.

Paths are CalEPA's, so existing clients only change their base URL. Every catalogued endpoint
has its view in ``VIEWS``; a missing one stops the URLconf from loading.
"""

from django.urls import path

from . import openapi, pages
from .catalogue import ENDPOINTS
from .registry import VIEWS, load_endpoint_modules

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
]

for _endpoint in ENDPOINTS:
    _view = VIEWS[_endpoint.acronym]
    _name = _endpoint.acronym.lower()
    _paths = [_endpoint.path]
    if _endpoint.acronym == "RFTQ":
        _paths.append("Regulator/Facility/Transfer")  # the spelling CalEPA's page shows
    for _index, _path in enumerate(_paths):
        _suffix = "" if _index == 0 else f"_{_index}"
        urlpatterns.append(path(_path, _view.as_view(), name=f"{_name}{_suffix}"))
        if _endpoint.path_argument:
            urlpatterns.append(
                path(
                    f"{_path}/<path:argument>",
                    _view.as_view(),
                    name=f"{_name}_one{_suffix}",
                )
            )
