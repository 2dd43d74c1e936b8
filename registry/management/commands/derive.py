"""Derive the stored results (derivation rules) now, in this process.

    python manage.py derive [--record ID ...] [--cutoff YYYY-MM-DD] [--batch-size N]

Without --record every patient is derived. --cutoff first changes the analysis settings' data
cut-off (kept in their history, every stored result marked stale).
"""
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from registry.models import Patient
from registry.selectors.derivation_inputs import all_patient_ids
from registry.services.derivation import DEFAULT_BATCH_SIZE, analysis_settings_update, patients_derive

BAR_WIDTH = 30


class Command(BaseCommand):
    help = "Derive progression, PFS, OS, cohorts and resistance labels of the given patients (default: all)."

    def add_arguments(self, parser):
        parser.add_argument("--record", action="append", default=[], metavar="ID",
                            help="Record ID of a patient to derive (repeat for several; default: every patient)")
        parser.add_argument("--cutoff", metavar="YYYY-MM-DD",
                            help="Set the data cut-off date of the analysis settings first")
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE,
                            help=f"Patients derived per transaction (default {DEFAULT_BATCH_SIZE})")

    def handle(self, *args, record, cutoff=None, batch_size=DEFAULT_BATCH_SIZE, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        patient_ids = self._patient_ids(record)
        if cutoff is not None:
            try:
                # Deriving everyone here anyway: no need for the task that would do it again. With
                # --record the others are left to it.
                analysis_settings_update(values={"data_cutoff": cutoff}, user=None,
                                         derive_all_after_commit=bool(record))
            except ValidationError as error:
                raise CommandError(f"--cutoff {cutoff}: {'; '.join(error.messages)}") from None
        summary = patients_derive(patient_ids=patient_ids, batch_size=batch_size, progress=self._progress)
        if patient_ids:
            self.stderr.write("")  # ends the progress line
        self.stdout.write(
            f"patients {summary.patients}\nlines {summary.lines}\nassessments {summary.assessments}\n"
            f"biopsies {summary.biopsies}\nflags {summary.flags}\nseconds {summary.seconds:.1f}"
        )
        self.stdout.write(self.style.SUCCESS(f"Derived {summary.patients} patients in {summary.seconds:.1f} s."))

    def _patient_ids(self, record_ids: list[str]) -> list[int]:
        if not record_ids:
            return all_patient_ids()
        found = dict(Patient.objects.filter(record_id__in=record_ids).values_list("record_id", "id"))
        missing = [record_id for record_id in record_ids if record_id not in found]
        if missing:
            raise CommandError(f"No patient with the record ID {', '.join(missing)}")
        return sorted(found.values())

    def _progress(self, done: int, total: int) -> None:
        # In place on stderr, so that stdout holds only the summary.
        filled = BAR_WIDTH * done // total
        self.stderr.write(f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total} patients", ending="")
        self.stderr.flush()
