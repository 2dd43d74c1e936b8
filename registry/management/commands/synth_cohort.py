"""Write an invented cohort for demos and load tests: deterministic for a seed.

    python manage.py synth_cohort --patients 10000 --seed 7 [--site CODE] [--batch-size 500]
        [--follow-up registry|long_follow_up]

`registry` (default): about 2 lines and 70 lesion measurements a patient; `long_follow_up`: long
survivors followed through up to four lines, about 3.6 lines and 200 measurements a patient (the
volume benchmarks/derive.py is specified at). See FollowUpProfile.
"""
from django.core.management.base import BaseCommand, CommandError

from registry.models import Site
from registry.services.synthetic_cohort import (
    DEFAULT_FOLLOW_UP, FOLLOW_UP_PROFILES, SYNTHETIC_SITE_CODE, synthetic_cohort_create,
)


class Command(BaseCommand):
    help = "Create N invented ALK-positive patients (record IDs SYN-<seed>-000001...), all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("--patients", type=int, required=True, help="Number of patients to create")
        parser.add_argument("--seed", type=int, required=True, help="The same seed gives the same patients")
        parser.add_argument("--site", help=f"Code of an existing site (default: '{SYNTHETIC_SITE_CODE}', created if missing)")
        parser.add_argument("--batch-size", type=int, default=500, help="Patients written per batch (default 500)")
        parser.add_argument("--follow-up", choices=FOLLOW_UP_PROFILES, default=DEFAULT_FOLLOW_UP,
                            help=f"How long and densely patients are followed (default {DEFAULT_FOLLOW_UP})")

    def handle(self, *args, patients, seed, site=None, batch_size=500, follow_up=DEFAULT_FOLLOW_UP, **options):
        site_object = None
        if site:
            site_object = Site.objects.filter(code=site).first()
            if site_object is None:
                raise CommandError(f"No site with the code {site!r}")
        try:
            summary = synthetic_cohort_create(
                patients=patients, seed=seed, site=site_object, batch_size=batch_size, progress=self._progress,
                follow_up=follow_up,
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        if patients:
            self.stderr.write("")  # ends the progress line
        self.stdout.write(f"{'model':<22} {'rows':>10}")
        for name, rows in summary.rows_by_model.items():
            self.stdout.write(f"{name:<22} {rows:>10}")
        self.stdout.write(self.style.SUCCESS(
            f"Created {summary.patients} synthetic patients in site {summary.site_code} "
            f"({summary.total_rows} rows, {summary.batches} batches)."
        ))

    def _progress(self, done: int, total: int) -> None:
        # In place on stderr, so that stdout holds only the summary.
        self.stderr.write(f"\r{done}/{total} patients written", ending="")
        self.stderr.flush()
