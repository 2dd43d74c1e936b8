"""Write the study report's survival input, rebuilt from the exported analysis datasets, as one CSV.

    python manage.py r_parity_input --output fixtures/reference/demo_survival_input.csv

One row per patient of each group of each survival comparison (Figs. 5 and 6): comparison, endpoint,
group (1 or 2; the Cox model's covariate is 1 for group 1), label, record_id, line_no, months, status
(1 event, 0 censored). fixtures/reference/demo_survival.R reads it; scripts/r-parity runs both on the
demo cohort (fixtures/reference/README.md).
"""
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from registry.reports.r_parity import exported_survival_input, write_survival_input


class Command(BaseCommand):
    help = "Write the study report's survival input (from the exported lines and patients) as CSV."

    def add_arguments(self, parser):
        parser.add_argument("--output", required=True, help="CSV file to write")

    def handle(self, *args, **options):
        with tempfile.TemporaryDirectory() as directory:
            try:
                rows = exported_survival_input(Path(directory))
            except ValueError as error:
                raise CommandError(str(error)) from None
        write_survival_input(rows, Path(options["output"]))
        self.stdout.write(f"Wrote {len(rows)} rows to {options['output']}.")
