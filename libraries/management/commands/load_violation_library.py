"""``manage.py load_violation_library FILE``: see libraries.violation_file."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from libraries.services import load_violation_library
from libraries.violation_file import MAX_BYTES, read_violation_library


class Command(BaseCommand):
    help = (
        "Load the published Unified Program Violation Library from the XML a Violation "
        "Library Query answers with (ViolationLibraryQuery 1/05 or 1/06). Types are added or "
        "brought up to date by type number; the seeded examples the file does not list are "
        "removed unless violations cite them. Any problem loads nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The violation library XML file.")

    def handle(self, *args, file, **options):
        path = Path(file)
        try:
            if path.stat().st_size > MAX_BYTES:
                raise CommandError(f"{file} is larger than {MAX_BYTES // (1024 * 1024)} MB.")
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from exc
        try:
            library = read_violation_library(data)
            load = load_violation_library(actor=None, entries=library.entries, source=path.name)
        except ValidationError as exc:
            for message in exc.messages:
                self.stderr.write(message)
            raise CommandError(
                f"{len(exc.messages)} problem(s) found in {file}; nothing was loaded."
            ) from exc
        for note in library.notes:
            self.stdout.write(note)
        self.stdout.write(load.summary())
