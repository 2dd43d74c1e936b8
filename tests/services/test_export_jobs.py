"""Export jobs: requested, run after the commit (at once without a broker), downloaded by their requester."""
import json
import zipfile

import pytest

from registry.exports import datasets
from registry.models import ExportJob, ExportJobStatus, RegistryRole, Role, SiteMembership
from registry.selectors.export_access import ExportNotAllowed
from registry.services.export_jobs import export_job_file, export_job_request, export_job_run
from registry.tasks import export_job_run_task
from tests import factories
from tests.exports.populated import make_derived_patient

KEY = "k" * 32


@pytest.fixture(autouse=True)
def exports_dir(settings, tmp_path):
    settings.EXPORTS_DIR = tmp_path / "exports"
    settings.DEIDENTIFICATION_KEY = KEY
    return settings.EXPORTS_DIR


@pytest.fixture
def investigator(db):
    return factories.make_user("investigator", role=Role.INVESTIGATOR)


def _request(user, django_capture_on_commit_callbacks, **options):
    values = {"dataset": "lines", "file_format": "csv", "deidentify": True, "site": None, **options}
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = export_job_request(user=user, **values)
    return job, callbacks


def test_a_requested_export_runs_after_the_commit_and_leaves_a_zip_of_data_codebook_and_provenance(
    site_a, investigator, exports_dir, django_capture_on_commit_callbacks,
):
    for number in range(3):
        make_derived_patient(site_a, f"P-{number}")

    job, callbacks = _request(investigator, django_capture_on_commit_callbacks, file_format="parquet")

    assert len(callbacks) == 1  # the task, queued once, after the commit
    job.refresh_from_db()
    assert (job.status, job.rows, job.patients_done, job.patients_total, job.error_message) == (
        ExportJobStatus.DONE, 6, 3, 3, "",
    )
    assert job.file_name == f"export-{job.pk}-lines-deidentified-parquet.zip"
    assert job.started_at <= job.finished_at
    assert sorted(path.name for path in exports_dir.iterdir()) == [job.file_name]
    with zipfile.ZipFile(exports_dir / job.file_name) as archive:
        assert sorted(archive.namelist()) == ["lines.parquet", "lines.parquet.codebook.csv",
                                              "lines.parquet.provenance.json"]
        provenance = json.loads(archive.read("lines.parquet.provenance.json"))
    assert (provenance["user"], provenance["deidentified"], provenance["rows"]) == ("investigator", True, 6)


@pytest.mark.parametrize("options, message", [
    ({"deidentify": False}, "investigator \\(investigator\\) may export de-identified data only"),
    ({"dataset": "survival"}, "Unknown dataset 'survival'"),
    ({"file_format": "json"}, "file_format must be one of csv, xlsx, sav, dta, parquet, not 'json'"),
])
def test_a_request_that_may_not_be_made_stores_nothing(investigator, exports_dir, django_capture_on_commit_callbacks,
                                                      options, message):
    with pytest.raises((ExportNotAllowed, ValueError), match=message):
        _request(investigator, django_capture_on_commit_callbacks, **options)

    assert not ExportJob.objects.exists()
    assert not exports_dir.exists()


def test_a_request_for_a_site_not_seen_or_without_a_key_stores_nothing(
    site_a, site_b, coordinator_a, settings, django_capture_on_commit_callbacks,
):
    with pytest.raises(ExportNotAllowed, match="coordinator_a does not see the site site-b"):
        _request(coordinator_a, django_capture_on_commit_callbacks, site=site_b)
    settings.DEIDENTIFICATION_KEY = None
    settings.SECRET_KEY = settings.LOCAL_DEVELOPMENT_SECRET_KEY
    with pytest.raises(ValueError, match="De-identified exports need a key"):
        _request(coordinator_a, django_capture_on_commit_callbacks, site=site_a)

    assert not ExportJob.objects.exists()


def test_a_failed_export_records_its_error_and_leaves_no_file(site_a, investigator, exports_dir, monkeypatch,
                                                             django_capture_on_commit_callbacks):
    make_derived_patient(site_a, "P-1")

    def failing(batch):
        raise RuntimeError("database went away")
        yield  # a generator, like the real one

    monkeypatch.setitem(datasets.DATASETS, "lines", datasets.Dataset("lines", datasets.LINE_ROWS.columns, failing))
    job, _ = _request(investigator, django_capture_on_commit_callbacks, file_format="xlsx")

    job.refresh_from_db()
    assert (job.status, job.file_name, job.rows) == (ExportJobStatus.FAILED, "", None)
    assert job.error_message == "Unexpected error (RuntimeError): database went away"
    assert list(exports_dir.iterdir()) == []


def _data_of(zip_path) -> bytes:
    with zipfile.ZipFile(zip_path) as archive:
        return archive.read("lines.csv")


def test_running_a_job_again_is_harmless(site_a, investigator, exports_dir, django_capture_on_commit_callbacks):
    make_derived_patient(site_a, "P-1")
    job, _ = _request(investigator, django_capture_on_commit_callbacks)
    job.refresh_from_db()
    written = _data_of(exports_dir / job.file_name)

    # Delivered again after it finished: nothing to do.
    assert export_job_run_task(job.pk) is None
    # Found running (its worker died): written again from the start, to the same file.
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJobStatus.RUNNING)
    assert export_job_run(job_id=job.pk).status == ExportJobStatus.DONE
    assert sorted(path.name for path in exports_dir.iterdir()) == [job.file_name]
    assert _data_of(exports_dir / job.file_name) == written


def test_only_the_requester_gets_the_file_and_only_while_still_allowed(
    site_a, investigator, django_capture_on_commit_callbacks,
):
    make_derived_patient(site_a, "P-1")
    RegistryRole.objects.filter(user=investigator).update(may_export_identified=True)
    identified, _ = _request(investigator, django_capture_on_commit_callbacks, deidentify=False)
    other = factories.make_user("other", role=Role.INVESTIGATOR)

    found, path = export_job_file(job_id=identified.pk, user=investigator)
    assert path.name == found.file_name == f"export-{identified.pk}-lines-identified-csv.zip"
    with pytest.raises(ExportJob.DoesNotExist):
        export_job_file(job_id=identified.pk, user=other)
    # The grant withdrawn after the export ran: the identified file no longer leaves.
    RegistryRole.objects.filter(user=investigator).update(may_export_identified=False)
    fresh = type(investigator).objects.get(pk=investigator.pk)
    with pytest.raises(ExportNotAllowed, match="may export de-identified data only"):
        export_job_file(job_id=identified.pk, user=fresh)


def test_a_coordinator_who_left_a_site_no_longer_gets_its_patients(
    site_a, site_b, django_capture_on_commit_callbacks,
):
    coordinator = factories.make_user("coordinator", role=Role.COORDINATOR, sites=[site_a, site_b])
    make_derived_patient(site_a, "A-1")
    make_derived_patient(site_b, "B-1")
    job, _ = _request(coordinator, django_capture_on_commit_callbacks, deidentify=False)
    assert export_job_file(job_id=job.pk, user=coordinator)[0].rows == 4

    SiteMembership.objects.filter(user=coordinator, site=site_b).delete()
    fresh = type(coordinator).objects.get(pk=coordinator.pk)

    with pytest.raises(ExportNotAllowed, match="coordinator no longer sees every site of this export"):
        export_job_file(job_id=job.pk, user=fresh)


def test_a_job_whose_file_is_gone_has_nothing_to_download(site_a, investigator, exports_dir,
                                                         django_capture_on_commit_callbacks):
    job, _ = _request(investigator, django_capture_on_commit_callbacks)
    (exports_dir / ExportJob.objects.get(pk=job.pk).file_name).unlink()

    with pytest.raises(ExportJob.DoesNotExist):
        export_job_file(job_id=job.pk, user=investigator)
