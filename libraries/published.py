"""The two published libraries a file can be loaded into: ``manage.py load_chemical_library``
/ ``load_violation_library`` and the state administrator's load pages use these, so a file
is read, checked and loaded the same way from either (``library_file.PublishedLibrary``)."""

from __future__ import annotations

from . import chemical_file, services, violation_file
from .library_file import PublishedLibrary

CHEMICALS = PublishedLibrary(
    title="chemical library",
    limit=chemical_file.MAX_BYTES,
    read=chemical_file.read_chemical_library,
    load=services.load_chemical_library,
)
VIOLATIONS = PublishedLibrary(
    title="violation library",
    limit=violation_file.MAX_BYTES,
    read=violation_file.read_violation_library,
    load=services.load_violation_library,
)
