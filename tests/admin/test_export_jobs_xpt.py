"""SAS transport (xpt) through the admin's export jobs: offered for the ADaM datasets, refused on the
form for another dataset, storing no job and writing no file (the other doors: tests/exports/test_xpt.py,
tests/api/test_xpt_doors.py)."""
import io
import zipfile

import pytest
from django.urls import reverse

from registry.models import ExportJob, ExportJobStatus
from tests.exports.exported import read_xpt_bytes
from tests.exports.populated import make_derived_patient


@pytest.fixture
def patient(site_a):
    return make_derived_patient(site_a, "A-1")


@pytest.fixture
def exports_dir(settings, tmp_path):
    settings.EXPORTS_DIR = tmp_path / "exports"
    settings.DEIDENTIFICATION_KEY = "k" * 32
    return settings.EXPORTS_DIR


def _ask(client, django_capture_on_commit_callbacks, **data):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("admin:registry_exportjob_add"), data)


def test_an_admin_export_job_writes_endpoints_as_xpt(client, investigator, patient, exports_dir,
                                                     django_capture_on_commit_callbacks):
    client.force_login(investigator)

    response = _ask(client, django_capture_on_commit_callbacks, dataset="endpoints", file_format="xpt",
                    deidentify="on")

    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert (job.file_format, job.status) == ("xpt", ExportJobStatus.DONE)
    download = client.get(reverse("admin:registry_exportjob_download", args=[job.pk]))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    assert sorted(archive.namelist()) == [
        "endpoints.xpt", "endpoints.xpt.codebook.csv", "endpoints.xpt.provenance.json"]
    assert read_xpt_bytes(archive.read("endpoints.xpt"))[1].table_name == "ADTTE"


def test_an_admin_export_job_of_xpt_for_another_dataset_is_refused_on_the_form(
    client, investigator, patient, exports_dir, django_capture_on_commit_callbacks,
):
    client.force_login(investigator)

    response = _ask(client, django_capture_on_commit_callbacks, dataset="lines", file_format="xpt",
                    deidentify="on")

    assert response.status_code == 200
    assert "xpt (SAS transport, ADaM) is offered for endpoints" in " ".join(response.context["form"].non_field_errors())
    assert ExportJob.objects.count() == 0
    assert not exports_dir.exists() or list(exports_dir.iterdir()) == []
