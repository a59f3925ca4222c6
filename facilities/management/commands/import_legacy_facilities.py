"""``manage.py import_legacy_facilities FILE [--mapping FILE]``: see facilities.legacy."""

from django.core.management.base import BaseCommand, CommandError

from facilities.legacy import LegacyImportError, import_legacy_facilities


class Command(BaseCommand):
    help = (
        "Import legacy facilities that have no organization (CSV: legacy_key, name, street, "
        "city, zip_code[, county]). Each becomes a new organization with one facility unless "
        "the mapping file (legacy_key, organization_name[, organization_code]) groups them. "
        "Already imported legacy keys are skipped; any bad row imports nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The legacy facilities CSV file.")
        parser.add_argument("--mapping", help="Optional CSV mapping legacy keys to organizations.")

    def handle(self, *args, file, mapping=None, **options):
        try:
            result = import_legacy_facilities(file, mapping=mapping)
        except OSError as exc:
            raise CommandError(f"Cannot read {exc.filename}: {exc.strerror}.") from exc
        except LegacyImportError as exc:
            for error in exc.errors:
                self.stderr.write(str(error))
            raise CommandError(
                f"{len(exc.errors)} problem(s) found; nothing was imported."
            ) from exc
        self.stdout.write(
            f"Created {len(result.created)} facilities in "
            f"{len(result.organizations_created)} new organizations; "
            f"skipped {len(result.skipped)} already imported."
        )
