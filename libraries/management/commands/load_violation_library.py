"""``manage.py load_violation_library FILE``: see libraries.violation_file."""

from libraries.published import VIOLATIONS

from ._load_library import LoadLibraryCommand


class Command(LoadLibraryCommand):
    library = VIOLATIONS
    help = (
        "Load the published Unified Program Violation Library from the XML a Violation "
        "Library Query answers with (ViolationLibraryQuery 1/05 or 1/06). Types are added or "
        "brought up to date by type number; the seeded examples the file does not list are "
        "removed unless violations cite them. Any problem loads nothing."
    )
