"""``manage.py load_chemical_library FILE``: see libraries.chemical_file."""

from libraries.published import CHEMICALS

from ._load_library import LoadLibraryCommand


class Command(LoadLibraryCommand):
    library = CHEMICALS
    help = (
        "Load CalEPA's published CERS Chemical Library from the XML a Chemical Library Query "
        "answers with (ChemicalLibraryQuery 1/05 or later). Chemicals are added or brought up "
        "to date by CCL ID (an entry without one takes CalEPA's by CAS number). Any problem "
        "loads nothing."
    )
