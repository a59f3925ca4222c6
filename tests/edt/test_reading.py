"""Reading values out of uploaded documents: what an absent, empty or unreadable value gives."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import timezone
from lxml import etree

from edt.processors.reading import moment, text

DOC = etree.fromstring("<r><a>  x  </a><empty/><b><c>y</c></b></r>")


def test_text_is_stripped_and_empty_for_an_empty_element():
    assert text(DOC, "a") == "x"
    assert text(DOC, "b/c") == "y"
    assert text(DOC, "empty") == ""
    assert text(DOC, "empty", default=None) == ""


def test_an_absent_element_or_parent_gives_the_default():
    assert text(DOC, "missing") == ""
    assert text(DOC, "missing", default=None) is None
    assert text(None, "a") == ""
    assert text(DOC.find("missing"), "a", default=None) is None


def test_moment_reads_a_date_time_in_the_projects_zone_unless_it_has_one():
    assert moment("2026-03-04T05:06:07Z") == datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    naive = moment(" 2026-03-04T05:06:07 ")
    assert timezone.is_aware(naive)
    assert timezone.localtime(naive).replace(tzinfo=None) == datetime(2026, 3, 4, 5, 6, 7)


def test_an_empty_or_unreadable_moment_is_none_unless_required():
    assert moment("") is None
    assert moment(None) is None
    assert moment("soon") is None
    with pytest.raises(ValueError, match="'soon' is not a date and time"):
        moment("soon", required=True)
    with pytest.raises(ValueError):
        moment(None, required=True)
