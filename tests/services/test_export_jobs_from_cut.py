"""An export job that names a data cut writes the cut's rows, the same however the live data change."""
import zipfile

import pytest

from registry.models import ExportJobStatus, Role
from registry.services.data_cuts import data_cut_freeze
from registry.services.export_jobs import export_job_request
from tests import factories
from tests.data_cut_world import SITE_A_RECORDS, build_cut_world, change_everything

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def exports_dir(settings, tmp_path):
    settings.EXPORTS_DIR = tmp_path / "exports"
    settings.DEIDENTIFICATION_KEY = "k" * 32
    return settings.EXPORTS_DIR


def _job_csv(user, cut, django_capture_on_commit_callbacks, exports_dir) -> bytes:
    with django_capture_on_commit_callbacks(execute=True):
        job = export_job_request(user=user, dataset="lines", file_format="csv", deidentify=False, cut=cut)
    job.refresh_from_db()
    assert job.status == ExportJobStatus.DONE, job.error_message
    with zipfile.ZipFile(exports_dir / job.file_name) as archive:
        return archive.read("lines.csv")


def test_an_export_job_from_a_cut_writes_the_same_file_after_changes_and_only_the_user_s_site(
    site_a, site_b, exports_dir, django_capture_on_commit_callbacks,
):
    build_cut_world(site_a, site_b)
    cut = data_cut_freeze(name="2024-analysis")
    coordinator = factories.make_user("coordinator_a", role=Role.COORDINATOR, sites=[site_a])
    first = _job_csv(coordinator, cut, django_capture_on_commit_callbacks, exports_dir)

    change_everything(site_a)

    assert _job_csv(coordinator, cut, django_capture_on_commit_callbacks, exports_dir) == first
    assert {line.split(",")[0] for line in first.decode().splitlines()[1:]} == set(SITE_A_RECORDS)
