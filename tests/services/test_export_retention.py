"""Export retention: a finished export's zip stays downloadable for EXPORT_RETENTION_DAYS, then the
daily task deletes it and marks the job expired; files no downloadable job owns go when as old."""
import json
import os
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone

from registry.models import ExportJob, ExportJobStatus, Role
from registry.services.export_jobs import export_job_file, export_jobs_expire
from registry.tasks import expire_export_jobs_task
from tests import factories

NOW = timezone.now()


@pytest.fixture(autouse=True)
def exports_dir(settings, tmp_path):
    settings.EXPORTS_DIR = tmp_path / "exports"
    settings.EXPORTS_DIR.mkdir()
    settings.EXPORT_RETENTION_DAYS = 7
    return settings.EXPORTS_DIR


@pytest.fixture
def coordinator(site_a):
    return factories.make_user("coordinator", role=Role.COORDINATOR, sites=[site_a])


def finished_job(user, directory, *, days_ago: float) -> ExportJob:
    """A done job whose zip was finished `days_ago` days before NOW (file modified then too)."""
    finished = NOW - timedelta(days=days_ago)
    job = ExportJob.objects.create(requested_by=user, dataset="lines", file_format="csv", deidentified=False,
                                   status=ExportJobStatus.DONE, finished_at=finished, file_name="pending")
    job.file_name = f"export-{job.pk}-lines-identified-csv.zip"
    job.save()
    path = directory / job.file_name
    with zipfile.ZipFile(path, "w") as archive:  # what export_job_file reads back: the provenance's sites
        archive.writestr("lines.csv.provenance.json", json.dumps({"sites": ["site-a"]}))
    os.utime(path, (finished.timestamp(), finished.timestamp()))
    return job


def aged(path, days_ago: float):
    when = (NOW - timedelta(days=days_ago)).timestamp()
    os.utime(path, (when, when))
    return path


def test_a_job_finished_longer_ago_than_the_retention_loses_its_file_and_is_marked_expired(coordinator, exports_dir):
    # Retention 7 days: 7 days and 1 hour ago is past it, 6 days 23 hours ago is not.
    old = finished_job(coordinator, exports_dir, days_ago=7 + 1 / 24)
    young = finished_job(coordinator, exports_dir, days_ago=7 - 1 / 24)
    old_file = old.file_name

    result = export_jobs_expire(now=NOW)

    assert (result.jobs, result.stray_files) == (1, 0)
    old.refresh_from_db()
    young.refresh_from_db()
    assert (old.status, old.file_name) == (ExportJobStatus.EXPIRED, "")
    assert young.status == ExportJobStatus.DONE
    assert sorted(path.name for path in exports_dir.iterdir()) == [young.file_name]
    assert not (exports_dir / old_file).exists()
    with pytest.raises(ExportJob.DoesNotExist):  # the admin's download answers 404
        export_job_file(job_id=old.pk, user=coordinator)
    assert export_job_file(job_id=young.pk, user=coordinator)[1].is_file()


def test_files_no_downloadable_job_owns_go_once_as_old_as_the_retention(coordinator, exports_dir):
    kept = finished_job(coordinator, exports_dir, days_ago=1)
    orphan = exports_dir / "export-999-lines-identified-csv.zip"  # its job row was deleted
    orphan.write_bytes(b"zip")
    aged(orphan, 8)
    partial = exports_dir / "export-998-lines-identified-csv.zip.partial"
    partial.write_bytes(b"half")
    aged(partial, 10)
    work = exports_dir / "job-997-abc"
    work.mkdir()
    (work / "lines.csv").write_text("a,b\n")
    aged(work, 9)
    running = exports_dir / "export-996-lines-identified-csv.zip.partial"  # a job writing it now
    running.write_bytes(b"being written")

    result = export_jobs_expire(now=NOW)

    assert (result.jobs, result.stray_files) == (0, 3)
    assert sorted(path.name for path in exports_dir.iterdir()) == sorted([kept.file_name, running.name])
    assert not orphan.exists()


def test_expiring_again_changes_nothing_and_a_missing_file_is_no_error(coordinator, exports_dir):
    job = finished_job(coordinator, exports_dir, days_ago=30)
    (exports_dir / job.file_name).unlink()  # removed by hand before the task ran

    first = export_jobs_expire(now=NOW)
    second = export_jobs_expire(now=NOW)

    assert (first.jobs, second.jobs, second.stray_files) == (1, 0, 0)
    assert ExportJob.objects.get(pk=job.pk).status == ExportJobStatus.EXPIRED


def test_queued_running_and_failed_jobs_are_left_alone(coordinator, exports_dir):
    for status in (ExportJobStatus.QUEUED, ExportJobStatus.RUNNING, ExportJobStatus.FAILED):
        ExportJob.objects.create(requested_by=coordinator, dataset="lines", file_format="csv", deidentified=True,
                                 status=status, finished_at=NOW - timedelta(days=40))

    assert export_jobs_expire(now=NOW).jobs == 0
    assert ExportJob.objects.filter(status=ExportJobStatus.EXPIRED).count() == 0


def test_the_daily_task_uses_the_setting(coordinator, exports_dir, settings):
    settings.EXPORT_RETENTION_DAYS = 30
    job = finished_job(coordinator, exports_dir, days_ago=10)  # inside 30 days, though past 7

    assert expire_export_jobs_task.delay().get() == 0
    settings.EXPORT_RETENTION_DAYS = 9
    assert expire_export_jobs_task.delay().get() == 1
    assert ExportJob.objects.get(pk=job.pk).status == ExportJobStatus.EXPIRED


def test_the_nightly_schedule_runs_the_task(settings):
    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert "registry.expire_export_jobs" in schedule


def test_expiring_takes_the_same_three_queries_for_one_job_or_many(coordinator, exports_dir,
                                                                    django_assert_num_queries):
    # The finished jobs past the retention (1), marking them expired in one UPDATE (2), the files the
    # jobs still downloadable own (3): never a query per job.
    for _ in range(4):
        finished_job(coordinator, exports_dir, days_ago=20)

    with django_assert_num_queries(3):
        result = export_jobs_expire(now=NOW)

    assert result.jobs == 4
    assert list(exports_dir.iterdir()) == []
