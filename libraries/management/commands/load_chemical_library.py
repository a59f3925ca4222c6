"""``manage.py load_chemical_library FILE``: see libraries.chemical_file."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from libraries.chemical_file import MAX_BYTES, read_chemical_library
from libraries.services import load_chemical_library


class Command(BaseCommand):
    help = (
        "Load CalEPA's published CERS Chemical Library from the XML a Chemical Library Query "
        "answers with (ChemicalLibraryQuery 1/05 or later). Chemicals are added or brought up "
        "to date by CCL ID (an entry without one takes CalEPA's by CAS number). Any problem "
        "loads nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The chemical library XML file.")

    def handle(self, *args, file, **options):
        path = Path(file)
        try:
            if path.stat().st_size > MAX_BYTES:
                raise CommandError(f"{file} is larger than {MAX_BYTES // (1024 * 1024)} MB.")
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from exc
        try:
            library = read_chemical_library(data)
            load = load_chemical_library(actor=None, entries=library.entries, source=path.name)
        except ValidationError as exc:
            for message in exc.messages:
                self.stderr.write(message)
            raise CommandError(
                f"{len(exc.messages)} problem(s) found in {file}; nothing was loaded."
            ) from exc
        self.stdout.write(load.summary())
