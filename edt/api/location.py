"""A facility's location as CERS writes it (``GeographicInformation``): in RFQ's answer and
RFC's result, and in RFSQ's Facility Information, from the facility's columns (Facility Create
and Metadata set them)."""

from __future__ import annotations

from lxml import etree

from .output import sub, text

# The parts of ``GeographicInformation/CERSPoint``, in the schema's order, with the facility
# column each is written from; a location is written only when every part is known.
LOCATION_PARTS = (
    ("LatitudeMeasure", "latitude"),
    ("LongitudeMeasure", "longitude"),
    ("HorizontalAccuracyMeasure", "horizontal_accuracy"),
    ("HorizontalCollectionMethod", "horizontal_collection_method"),
    ("GeographicReferencePoint", "geographic_reference_point"),
    ("HorizontalReferenceDatum", "horizontal_reference_datum"),
    ("DataCollectionDate", "location_collected_on"),
)


def degrees(value) -> str:
    whole, _, fraction = f"{value:.8f}".partition(".")
    return f"{whole}.{fraction.rstrip('0').ljust(2, '0')}"  # 4-13 characters, as the schema asks


def location_texts(facility) -> list[str] | None:
    """The text of each part of the facility's point, in ``LOCATION_PARTS`` order (not yet
    escaped); None unless every part the schema requires is known."""
    parts = [getattr(facility, column) for _tag, column in LOCATION_PARTS]
    if any(part is None or part == "" for part in parts):
        return None
    latitude, longitude, accuracy, method, point, datum, collected_on = parts
    return [
        degrees(latitude),
        degrees(longitude),
        format(accuracy.normalize(), "f"),
        str(method),
        str(point),
        str(datum),
        text(collected_on),
    ]


def geographic_information(facility) -> etree._Element | None:
    """The facility's ``GeographicInformation`` (RFC's result, RFSQ), when every part the
    schema requires is known."""
    texts = location_texts(facility)
    if texts is None:
        return None
    info = etree.Element("GeographicInformation")
    point = etree.SubElement(info, "CERSPoint")
    for (tag, _column), value in zip(LOCATION_PARTS, texts, strict=True):
        sub(point, tag, value)
    return info
