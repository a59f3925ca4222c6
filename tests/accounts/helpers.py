import re
from urllib.parse import urlsplit

from django.conf import settings


def link_url(body: str) -> str:
    """The one link an e-mail body carries (built from ``SITE_URL``)."""
    urls = re.findall(r"https?://\S+", body)
    assert len(urls) == 1, body
    assert urls[0].startswith(settings.SITE_URL + "/"), urls[0]
    return urls[0]


def link_path(body: str) -> str:
    """The path of the one link an e-mail body carries (built from ``SITE_URL``)."""
    return urlsplit(link_url(body)).path
