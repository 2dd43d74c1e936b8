"""Exports requested in the admin or the REST API and written in the background, then downloaded by
their requester (registry/api/dataset_jobs.py is the API's door; both doors share everything here).

    export_job_request(...)   checks the request, stores an ExportJob, queues its task after the commit
    export_job_run(job_id=)   the task's work: writes the export as a zip under settings.EXPORTS_DIR
    export_job_file(...)      the zip of a finished job, for its requester while still allowed
    export_jobs_expire()      deletes zips older than settings.EXPORT_RETENTION_DAYS (a daily task)

What may be exported is decided by registry.services.datasets.dataset_export (its rule is
registry/selectors/export_access.py), at the request, when the job runs and again at the download:
a grant withdrawn or a site membership ended in between stops the file from leaving. A user has at
most settings.EXPORT_MAX_OPEN_JOBS jobs queued or running at once (TooManyOpenJobs), whichever door
asked for them.

A job may name a frozen data cut (`cut`): its file is then written from the cut's stored rows.
A job's zip holds the data file, its codebook and its provenance: `<dataset>.<ext>`,
`<dataset>.<ext>.codebook.csv`, `<dataset>.<ext>.provenance.json`.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from registry.exports.formats import EXTENSIONS
from registry.models import DataCut, ExportDoor, ExportJob, ExportJobStatus, Site
from registry.selectors.access import access_for
from registry.selectors.export_access import ExportNotAllowed, check_export_allowed

from .datasets import codebook_path, dataset_export, export_checked, provenance_path

logger = logging.getLogger(__name__)


class TooManyOpenJobs(Exception):
    """The user already has settings.EXPORT_MAX_OPEN_JOBS export jobs queued or running."""


def exports_directory() -> Path:
    return Path(settings.EXPORTS_DIR)


def _check_request(*, user, dataset: str, file_format: str, deidentify: bool, site: Site | None) -> None:
    if access_for(user).role is None:
        raise ExportNotAllowed(f"{user.get_username()} has no registry role")
    if site is not None and not access_for(user).can_see_site(site.id):
        raise ExportNotAllowed(f"{user.get_username()} does not see the site {site.code}")
    # The export's own checks, now rather than in the worker: also that a key is there to de-identify with.
    export_checked(name=dataset, file_format=file_format, user=user, deidentify=deidentify)


@transaction.atomic
def export_job_request(
    *, user, dataset: str, file_format: str, deidentify: bool, site: Site | None = None, cut: DataCut | None = None,
    door: ExportDoor | str = ExportDoor.ADMIN_EXPORT_JOB,
) -> ExportJob:
    """Stores the request and queues its export after the commit (at once, in-process, without a
    broker). `cut`: export from that frozen data cut instead of the live records. `door`: where it was
    asked for, which an identified export's log names. Raises ValueError, ExportNotAllowed,
    DeidentificationKeyMissing or TooManyOpenJobs, storing nothing."""
    _check_request(user=user, dataset=dataset, file_format=file_format, deidentify=deidentify, site=site)
    # The user's row locked (PostgreSQL) so that two requests at once cannot both pass the count.
    list(get_user_model().objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))
    open_jobs = ExportJob.objects.filter(
        requested_by=user, status__in=[ExportJobStatus.QUEUED, ExportJobStatus.RUNNING]).count()
    if open_jobs >= settings.EXPORT_MAX_OPEN_JOBS:
        raise TooManyOpenJobs(
            f"{user.get_username()} has {open_jobs} export jobs queued or running, the most one user may have "
            f"(REGISTRY_EXPORT_MAX_OPEN_JOBS = {settings.EXPORT_MAX_OPEN_JOBS}); ask again once one has finished.")
    job = ExportJob(requested_by=user, dataset=dataset, file_format=file_format, deidentified=deidentify, site=site,
                    cut=cut, door=door)
    job.full_clean()
    job.save()
    transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    from registry.tasks import export_job_run_task

    export_job_run_task.delay(job_id)


def _zip_name(job: ExportJob) -> str:
    kind = "deidentified" if job.deidentified else "identified"
    return f"export-{job.pk}-{job.dataset}-{kind}-{job.file_format}.zip"


def export_job_run(*, job_id: int) -> ExportJob | None:
    """Writes the job's export as a zip, recording its progress, and marks it done or failed.

    Idempotent: a job already done or failed is left as it is; a job found running (its worker
    died, and the task was delivered again) is written again from the start. Returns the job, or
    None when there is nothing to do. A failure records its message and leaves no file.
    Not one transaction: each update commits at once, so that the admin shows the progress.
    """
    claimed = ExportJob.objects.filter(
        pk=job_id, status__in=[ExportJobStatus.QUEUED, ExportJobStatus.RUNNING],
    ).update(status=ExportJobStatus.RUNNING, started_at=timezone.now(), patients_done=0, error_message="")
    if not claimed:
        return None
    job = ExportJob.objects.select_related("requested_by", "site", "cut").get(pk=job_id)
    directory = exports_directory()
    directory.mkdir(parents=True, exist_ok=True)
    zip_path = directory / _zip_name(job)
    partial = zip_path.with_name(f"{zip_path.name}.partial")

    def progress(done: int, total: int) -> None:
        ExportJob.objects.filter(pk=job_id).update(patients_done=done, patients_total=total)

    try:
        with tempfile.TemporaryDirectory(dir=directory, prefix=f"job-{job.pk}-") as work:
            data = Path(work) / f"{job.dataset}{EXTENSIONS[job.file_format]}"
            rows = dataset_export(
                name=job.dataset, output=data, file_format=job.file_format, user=job.requested_by, site=job.site,
                deidentify=job.deidentified, progress=progress, door=job.door, cut=job.cut,
            )
            with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                for path in (data, codebook_path(data), provenance_path(data)):
                    archive.write(path, arcname=path.name)
            os.replace(partial, zip_path)
    except Exception as error:  # any failure is the job's, recorded for its requester to read
        partial.unlink(missing_ok=True)
        logger.exception("Export job %s failed", job_id)
        ExportJob.objects.filter(pk=job_id).update(
            status=ExportJobStatus.FAILED, error_message=_message(error), finished_at=timezone.now(),
        )
        return ExportJob.objects.get(pk=job_id)
    ExportJob.objects.filter(pk=job_id).update(
        status=ExportJobStatus.DONE, file_name=zip_path.name, rows=rows, finished_at=timezone.now(),
    )
    return ExportJob.objects.get(pk=job_id)


def _message(error: Exception) -> str:
    if isinstance(error, (ValueError, PermissionError)):  # refusals and bad requests say why themselves
        return str(error)
    return f"Unexpected error ({type(error).__name__}): {error}"


def _sites_of(path: Path) -> set[str]:
    """The codes of the sites whose patients the job's file holds, from its provenance."""
    with zipfile.ZipFile(path) as archive:
        name = next(member for member in archive.namelist() if member.endswith(".provenance.json"))
        return set(json.loads(archive.read(name))["sites"])


def _still_sees(user, site_codes: set[str]) -> bool:
    access = access_for(user)
    if access.sees_all_sites:
        return True
    site_ids = set(Site.objects.filter(code__in=site_codes).values_list("id", flat=True))
    return len(site_ids) == len(site_codes) and all(access.can_see_site(site_id) for site_id in site_ids)


def export_job_file(*, job_id: int, user) -> tuple[ExportJob, Path]:
    """The finished job's zip, for its requester while they may still make that export.

    Raises ExportJob.DoesNotExist (no such job of this user, or not done) or ExportNotAllowed."""
    job = ExportJob.objects.get(pk=job_id, requested_by=user, status=ExportJobStatus.DONE)
    path = exports_directory() / job.file_name
    if not path.is_file():
        raise ExportJob.DoesNotExist(f"The file of export job {job_id} is gone")
    if access_for(user).role is None:
        raise ExportNotAllowed(f"{user.get_username()} has no registry role")
    check_export_allowed(user, deidentified=job.deidentified)
    # The sites the requester saw when the job ran may be more than they see now.
    if not _still_sees(user, _sites_of(path)):
        raise ExportNotAllowed(f"{user.get_username()} no longer sees every site of this export")
    return job, path


@dataclass(frozen=True)
class ExpiredExports:
    jobs: int  # finished jobs whose file was deleted (now "expired")
    stray_files: int  # files and folders under EXPORTS_DIR that no downloadable job owned


def export_jobs_expire(*, now: datetime | None = None) -> ExpiredExports:
    """Deletes the zips of jobs finished more than settings.EXPORT_RETENTION_DAYS ago and marks those
    jobs expired (their row stays: who exported what, when, is kept), then removes what no
    downloadable job owns and is as old: a zip whose job row was deleted, the `.partial` file or work
    folder of a worker that died. Younger strays are left: a running job may be writing them.
    Idempotent; a file already gone is no error."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.EXPORT_RETENTION_DAYS)
    directory = exports_directory()
    old = dict(ExportJob.objects.filter(status=ExportJobStatus.DONE, finished_at__lt=cutoff)
               .values_list("id", "file_name"))
    for file_name in old.values():
        (directory / file_name).unlink(missing_ok=True)
    # The files are gone before the rows say so: a download in between finds no file (404), never a
    # row that promises a file and has none. One statement for every job.
    expired = ExportJob.objects.filter(pk__in=list(old), status=ExportJobStatus.DONE).update(
        status=ExportJobStatus.EXPIRED, file_name="") if old else 0
    stray = 0
    if directory.is_dir():
        kept = set(ExportJob.objects.filter(status=ExportJobStatus.DONE).values_list("file_name", flat=True))
        oldest_kept = cutoff.timestamp()
        for path in directory.iterdir():
            if path.name in kept or path.stat().st_mtime >= oldest_kept:
                continue
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            stray += 1
    if expired or stray:
        logger.info("Export retention: %s jobs expired, %s stray files removed", expired, stray)
    return ExpiredExports(jobs=expired, stray_files=stray)
