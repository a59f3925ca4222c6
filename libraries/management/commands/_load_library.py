"""What ``load_chemical_library`` and ``load_violation_library`` share: one file read, checked
and loaded all or nothing (``libraries.published``)."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from libraries.library_file import PublishedLibrary, check_size


class LoadLibraryCommand(BaseCommand):
    library: PublishedLibrary

    def add_arguments(self, parser):
        parser.add_argument("file", help=f"The {self.library.title} XML file.")

    def handle(self, *args, file, **options):
        path = Path(file)
        try:
            check_size(path.stat().st_size, self.library.limit)
            data = path.read_bytes()
        except ValidationError as exc:
            raise CommandError(f"{file}: {exc.messages[0]}") from exc
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from exc
        try:
            library, load = self.library.load_file(data, actor=None, source=path.name)
        except ValidationError as exc:
            for message in exc.messages:
                self.stderr.write(message)
            raise CommandError(
                f"{len(exc.messages)} problem(s) found in {file}; nothing was loaded."
            ) from exc
        self.stdout.write(load.summary())
        for note in library.notes:
            self.stdout.write(note)
