"""Derive the stored results (derivation rules) now.

    python manage.py derive [--record ID ...] [--cutoff YYYY-MM-DD] [--batch-size N] [--parallel N]
    python manage.py derive --retry-run RUN_ID

--record: only those patients, in this process. Without it every patient is derived as a run of
chunks (registry/services/derivation_runs.py): sent to the Celery workers when a broker is
configured (CELERY_BROKER_URL), this command printing their progress until the run is finished; with
no broker, derived here, or in N local processes with --parallel N (PostgreSQL only). --cutoff first
changes the analysis settings' data cut-off (kept in their history, every stored result marked
stale). --retry-run runs again the chunks of an earlier run that are not done (failed ones).

With a broker, the chunks wait in its queue until a worker takes them, and so does this command: it
warns when no worker answers a ping before the chunks are sent, and again when no chunk has finished
for STALL_WARNING_SECONDS; it keeps waiting (Ctrl-C stops the waiting, not the run, which the workers
finish when they start).
"""
import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from registry.models import DerivationRun, Patient
from registry.selectors.derivation_inputs import all_patient_ids
from registry.services.derivation import DEFAULT_BATCH_SIZE, analysis_settings_update, patients_derive
from registry.services.derivation_runs import (
    ParallelNotPossible, chunks_go_to_workers, derivation_run_dispatch, derivation_run_inline, derivation_run_retry, derivation_run_start,
    derivation_run_summary,
)

BAR_WIDTH = 30
POLL_SECONDS = 0.5
WORKER_PING_SECONDS = 2.0  # how long the workers are given to answer the ping before a run is sent
STALL_WARNING_SECONDS = 120  # no chunk finished for this long: a warning (once per stall)


class Command(BaseCommand):
    help = "Derive progression, PFS, OS, cohorts and resistance labels of the given patients (default: all)."

    def add_arguments(self, parser):
        parser.add_argument("--record", action="append", default=[], metavar="ID",
                            help="Record ID of a patient to derive (repeat for several; default: every patient)")
        parser.add_argument("--cutoff", metavar="YYYY-MM-DD",
                            help="Set the data cut-off date of the analysis settings first")
        parser.add_argument("--batch-size", type=int, default=None,
                            help="Patients derived per transaction (default: REGISTRY_DERIVE_CHUNK_PATIENTS for "
                                 f"every patient, {DEFAULT_BATCH_SIZE} with --record)")
        parser.add_argument("--parallel", type=int, default=1, metavar="N",
                            help="Without a broker: derive the chunks in N local processes (PostgreSQL only)")
        parser.add_argument("--retry-run", type=int, metavar="RUN_ID",
                            help="Run again the chunks of this derivation run that are not done")

    def handle(self, *args, record, cutoff=None, batch_size=None, parallel=1, retry_run=None, **options):
        # Every refusal before anything is written.
        if batch_size is not None and batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        if parallel < 1:
            raise CommandError("--parallel must be at least 1")
        brokered = chunks_go_to_workers()
        if parallel > 1:
            if record:
                raise CommandError("--parallel derives every patient; it cannot be used with --record")
            if brokered:
                raise CommandError("--parallel is for a machine without a broker: with CELERY_BROKER_URL set, the "
                                   "chunks go to the Celery workers (start more workers to derive in parallel)")
            if connection.vendor == "sqlite":
                raise CommandError("--parallel needs PostgreSQL: SQLite takes one writer at a time, so the "
                                   "chunks cannot be derived in parallel on it (derive without --parallel)")
        if retry_run is not None:
            if record or cutoff:
                raise CommandError("--retry-run cannot be combined with --record or --cutoff")
            run = DerivationRun.objects.filter(pk=retry_run).first()
            if run is None:
                raise CommandError(f"No derivation run {retry_run}")
            chunk_ids = derivation_run_retry(run=run)
            self._run(run, chunk_ids, brokered, parallel)
            return
        patient_ids = self._patient_ids(record)
        if cutoff is not None:
            try:
                # Deriving everyone here anyway: no need for the task that would do it again. With
                # --record the others are left to it.
                analysis_settings_update(values={"data_cutoff": cutoff}, user=None,
                                         derive_all_after_commit=bool(record))
            except ValidationError as error:
                raise CommandError(f"--cutoff {cutoff}: {'; '.join(error.messages)}") from None
        if record:
            summary = patients_derive(patient_ids=patient_ids, batch_size=batch_size or DEFAULT_BATCH_SIZE,
                                      progress=self._progress)
            self.stderr.write("")  # ends the progress line
            self._summary(summary, summary.seconds)
            return
        run = derivation_run_start(patient_ids=patient_ids, trigger=DerivationRun.Trigger.COMMAND,
                                   reason="derive command", chunk_patients=batch_size)
        if run is None:
            self._summary(None, 0.0)
            return
        self._run(run, None, brokered, parallel)

    def _run(self, run: DerivationRun, chunk_ids, brokered: bool, parallel: int) -> None:
        started = time.perf_counter()
        self.stderr.write(f"Derivation run {run.pk}: {run.total_patients} patients in {run.total_chunks} chunks "
                          f"of up to {run.chunk_patients}"
                          + (", sent to the Celery workers" if brokered else
                             f", in {parallel} local processes" if parallel > 1 else ""))
        if brokered:
            self._warn_without_workers()
            derivation_run_dispatch(run=run, chunk_ids=chunk_ids)
            self._wait(run)
        else:
            try:
                derivation_run_inline(run=run, chunk_ids=chunk_ids, processes=parallel, progress=self._progress)
            except ParallelNotPossible as error:
                raise CommandError(str(error)) from None
        self.stderr.write("")  # ends the progress line
        run.refresh_from_db()
        self._summary(derivation_run_summary(run=run), time.perf_counter() - started)
        if run.chunks_failed:
            raise CommandError(
                f"{run.chunks_failed} of {run.total_chunks} chunks failed (their errors: the admin's derivation "
                f"run {run.pk}); derive them again with: manage.py derive --retry-run {run.pk}")

    def _warn_without_workers(self) -> None:
        """A warning when no Celery worker answers: the run would wait in the queue, and so would
        this command, with nothing on the screen to say why."""
        from config.celery import app

        try:
            replies = app.control.ping(timeout=WORKER_PING_SECONDS)
        except Exception as error:  # noqa: BLE001 - the broker's own error, shown as it is
            self.stderr.write(self.style.WARNING(f"Could not ask the Celery workers for a reply ({error}); the run "
                                                 "is sent anyway."))
            return
        if not replies:
            self.stderr.write(self.style.WARNING(
                f"No Celery worker answered within {WORKER_PING_SECONDS:g} s: the chunks wait in the queue until "
                "one starts (celery -A config worker). Ctrl-C stops this command's waiting, not the run."))

    def _wait(self, run: DerivationRun) -> None:
        """Prints the run's progress, read from the database, until its last chunk is done or failed;
        warns once per stall when nothing has changed for STALL_WARNING_SECONDS."""
        shown = None
        changed_at = time.monotonic()
        warned = False
        while True:
            run.refresh_from_db(fields=["patients_done", "chunks_done", "chunks_failed", "finished_at"])
            if (run.patients_done, run.chunks_failed) != shown:
                shown = (run.patients_done, run.chunks_failed)
                changed_at, warned = time.monotonic(), False
                self._progress(run.patients_done, run.total_patients)
            if run.finished:
                return
            if not warned and time.monotonic() - changed_at >= STALL_WARNING_SECONDS:
                warned = True
                self.stderr.write("")  # ends the progress line
                self.stderr.write(self.style.WARNING(
                    f"No chunk of run {run.pk} has finished for {STALL_WARNING_SECONDS} s: are the Celery workers "
                    f"running (celery -A config inspect ping)? The admin's derivation run {run.pk} shows each "
                    "chunk's state."))
            time.sleep(POLL_SECONDS)

    def _summary(self, summary, seconds: float) -> None:
        if summary is None:
            summary_lines = "patients 0\nlines 0\nassessments 0\nbiopsies 0\nflags 0"
            patients = 0
        else:
            summary_lines = (f"patients {summary.patients}\nlines {summary.lines}\nassessments {summary.assessments}\n"
                             f"biopsies {summary.biopsies}\nflags {summary.flags}")
            patients = summary.patients
        self.stdout.write(f"{summary_lines}\nseconds {seconds:.1f}")
        self.stdout.write(self.style.SUCCESS(f"Derived {patients} patients in {seconds:.1f} s."))

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
        filled = BAR_WIDTH * done // total if total else BAR_WIDTH
        self.stderr.write(f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total} patients", ending="")
        self.stderr.flush()
