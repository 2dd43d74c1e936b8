"""Load the demo cohort: 73 invented patients whose derivations reproduce the reference study.

    python manage.py load_demo

Creates the demo sites when missing, imports the patients of fixtures/demo_cohort.csv that are not
in the registry yet (odd record numbers into demo-a, even into demo-b), sets the study's data
cut-off (2024-02-28) when the database has no analysis settings yet, and derives every patient
whose results are missing or stale. Safe to run again.
"""
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from registry.models import AnalysisSettings, Patient, PatientDerivation, Site
from registry.services.demo_cohort import DemoCohortError, demo_cohort_load
from registry.services.demo_setup import demo_sites_ensure
from registry.services.derivation import derivations_refresh


def ensure_demo_sites(stdout) -> dict[str, Site]:
    """The demo sites (demo_sites_ensure), saying which were created."""
    ensured = demo_sites_ensure()
    for site in ensured.created:
        stdout.write(f"Created site {site}.")
    return ensured.sites


def report_demo_load(command: BaseCommand, sites: dict[str, Site], load, caught_up) -> None:
    """What seed_demo and load_demo print after loading the cohort."""
    for code, record_ids in load.loaded.items():
        if record_ids:
            command.stdout.write(f"Loaded {len(record_ids)} demo patients into {code}.")
        else:
            command.stdout.write(f"Demo patients of {code} already loaded.")
    if load.cutoff_set is not None:
        command.stdout.write(f"Set the data cut-off to {load.cutoff_set.isoformat()}, the reference study's.")
    total = Patient.objects.filter(site__in=sites.values()).count()
    command.stdout.write(f"Demo sites {', '.join(sites)} hold {total} patients.")
    current = PatientDerivation.objects.filter(is_stale=False).count()
    cutoff = AnalysisSettings.objects.get(pk=1).data_cutoff
    command.stdout.write(f"Derived results are current for {current} patients ({caught_up.patients} derived just "
                         f"now), data cut-off {cutoff or 'not set'}.")


class Command(BaseCommand):
    help = "Load the demo cohort reproducing Wu et al. 2024 (73 invented patients) and derive it (safe to re-run)."

    def handle(self, *args, **options):
        try:
            with transaction.atomic():
                sites = ensure_demo_sites(self.stdout)
                load = demo_cohort_load(sites=sites)
        except DemoCohortError as error:
            raise CommandError(str(error)) from None
        caught_up = derivations_refresh()
        report_demo_load(self, sites, load, caught_up)
