"""EDT fixtures: an EDT account with grants, headers to call the services with, and a check of
answers against CalEPA's schemas as published (the files in ``settings.EDT_SCHEMA_DIR``)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from lxml import etree

from edt.credentials import legacy_value
from edt.models import EdtAccount

SECRET = "edt-test-secret-0123456789"
XSD_DIR = Path(settings.EDT_SCHEMA_DIR)


def make_edt_account(regulator_code: str, username: str, tiers: str, environment: str):
    call_command(
        "create_edt_account",
        "--regulator",
        regulator_code,
        "--username",
        username,
        "--tiers",
        tiers,
        "--environment",
        environment,
        "--secret",
        SECRET,
        stdout=open("/dev/null", "w"),  # noqa: SIM115 - the secret is known here
    )
    return EdtAccount.objects.get(username=username)


@pytest.fixture(autouse=True)
def no_calls_counted():
    """Each test starts with no calls counted by the EDT rate limits (they live in the cache,
    which outlives a test)."""
    from django.core.cache import cache

    from edt.api.throttles import FailedCallThrottle, OpenEndpointThrottle

    cache.delete_many(
        [
            throttle.cache_format % {"scope": throttle.scope, "ident": "127.0.0.1"}
            for throttle in (FailedCallThrottle, OpenEndpointThrottle)
        ]
    )


@pytest.fixture
def edt_account(cast):
    """Sacramento County CUPA's EDT account: every tier, both environments."""
    return make_edt_account("1001", "sac_edt", "1-6", "both")


@pytest.fixture
def pa_edt_account(cast):
    """The City PA's EDT account: tiers 1-2 in both environments."""
    return make_edt_account("1101", "pa_edt", "1-2", "both")


def legacy_header(account, secret: str = SECRET) -> dict:
    return {"HTTP_AUTHORIZATION": f"user {account.username}:{legacy_value(secret)}"}


@cache
def _schema(schema_set: str, file_name: str) -> etree.XMLSchema:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.XMLSchema(etree.parse(str(XSD_DIR / schema_set / file_name), parser))


def assert_valid(body: bytes, schema_set: str, file_name: str) -> etree._Element:
    """Parse ``body`` and validate it against CalEPA's ``schema_set/file_name``."""
    document = etree.fromstring(body)
    schema = _schema(schema_set, file_name)
    if not schema.validate(document):
        errors = "\n".join(f"line {e.line}: {e.message}" for e in schema.error_log)
        raise AssertionError(f"{file_name} ({schema_set}) does not validate:\n{errors}")
    return document


def assert_valid_beyond_2024(body: bytes, schema_set: str, file_name: str) -> etree._Element:
    """For an answer dated after 2024: CalEPA's ``schema_set/file_name`` ends ``cers:Date``
    and ``cers:DateTime`` at 2024-12-31, a placeholder. The answer validates against the schema
    the service itself checks with (``core.xmlsafe.schema_for``: the same file with that facet
    lifted), and the file as published finds fault with nothing but dates past that ceiling."""
    from core.xmlsafe import parse_document

    document = parse_document(body)
    lifted = document.schema()
    if not lifted.validate(document.root):
        errors = "\n".join(f"line {e.line}: {e.message}" for e in lifted.error_log)
        raise AssertionError(f"{file_name} (ceiling lifted) does not validate:\n{errors}")
    published = _schema(schema_set, file_name)
    assert not published.validate(document.root), "no date after 2024 in this answer"
    faults = [e.message for e in published.error_log]
    assert all("2024-12-31" in fault for fault in faults), faults
    return document.root


def content(response) -> bytes:
    """A response's body, streamed (the upload answers, the queries) or not (refusals); read
    once and kept, so that it can be asked for again."""
    if not response.streaming:
        return response.content
    if not hasattr(response, "read_body"):
        response.read_body = b"".join(response.streaming_content)
    return response.read_body
