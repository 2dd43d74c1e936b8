"""For maintainers: write fixtures/demo_cohort.csv again from registry/services/demo_cohort.py.

    python manage.py demo_cohort_fixture [--output fixtures/demo_cohort.csv]

The committed file must equal what this writes (tests/services/test_demo_cohort.py checks it), so
run it after changing the cohort's plan, then commit both.
"""
from pathlib import Path

from django.core.management.base import BaseCommand

from registry.services.demo_cohort import DEMO_COHORT_FILE, write_demo_cohort


class Command(BaseCommand):
    help = "Write the demo cohort's REDCap flat CSV from its plan."

    def add_arguments(self, parser):
        parser.add_argument("--output", default=str(DEMO_COHORT_FILE), help="File to write (default: the fixture)")

    def handle(self, *args, output, **options):
        path = Path(output)
        with path.open("w", newline="", encoding="utf-8") as stream:
            rows = write_demo_cohort(stream)
        self.stdout.write(self.style.SUCCESS(f"Wrote {rows} rows to {path}."))
