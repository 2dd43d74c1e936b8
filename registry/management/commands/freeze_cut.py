"""Freeze a data cut: the records and their derived results as they stand now, kept unchanged.

    python manage.py freeze_cut NAME [--cutoff YYYY-MM-DD] [--locked-only] [--user USERNAME]

The results are those stored: run `derive` first. --cutoff checks that the analysis settings' data
cut-off is the one meant. Runs as the system unless --user names the administrator freezing it.
Exports and reports are made from a cut with `export_dataset NAME --cut CUT`, `study_report --cut CUT`.
"""
from datetime import date

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from registry.services.data_cuts import DataCutRefused, data_cut_freeze


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--cutoff {text!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = "Freeze a named data cut of the records and their derived results."

    def add_arguments(self, parser):
        parser.add_argument("name", help="The cut's name (unique)")
        parser.add_argument("--cutoff", help="The data cut-off date the results were derived with (YYYY-MM-DD)")
        parser.add_argument("--locked-only", action="store_true", help="Only the locked records")
        parser.add_argument("--user", help="The administrator freezing the cut (default: the system)")

    def handle(self, *args, name, cutoff=None, locked_only=False, user=None, **options):
        freezer = None
        if user:
            freezer = get_user_model().objects.filter(username=user).first()
            if freezer is None:
                raise CommandError(f"No user named {user!r}")
        try:
            cut = data_cut_freeze(
                name=name, cutoff=_date(cutoff) if cutoff else None, locked_only=locked_only, user=freezer,
            )
        except DataCutRefused as error:
            raise CommandError(str(error)) from None
        self.stdout.write(self.style.SUCCESS(
            f"Froze the data cut {cut.name!r}: {cut.patients} records ({cut.get_scope_display().lower()}), "
            f"cut-off {cut.cutoff.isoformat()}, content hash {cut.content_hash}, "
            f"{cut.new_blob_bytes} bytes of new content."
        ))
        if cut.stale_patients or cut.not_derived_patients:
            self.stderr.write(
                f"Warning: {cut.stale_patients} records' results were stale and {cut.not_derived_patients} had none "
                "when frozen; they are kept so. Run `python manage.py derive` before freezing for a consistent cut."
            )
