"""Count every agency's dashboard again now (what the beat does every
``CERS_SUMMARY_SECONDS``): after a bulk load, or to see the counts at once."""

import time

from django.core.management.base import BaseCommand

from portal.services import refresh_summaries


class Command(BaseCommand):
    help = "Count every agency's dashboard again from the records (the beat does it too)."

    def handle(self, *args, **options):
        started = time.monotonic()
        agencies = refresh_summaries()
        self.stdout.write(
            f"Counted the dashboards of {agencies} agencies in {time.monotonic() - started:.1f} s."
        )
