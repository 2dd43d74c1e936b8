"""The admin's data cut pages: administrators freeze a cut; everyone with a role lists and reads them;
nobody changes or deletes one."""
import pytest
from django.urls import reverse

from registry.models import DataCut, DataCutBlob, DataCutEntry, Role
from registry.services.data_cuts import data_cut_freeze
from tests.access_roles import ROLE_CASES, user_for
from tests.data_cut_world import build_cut_world

pytestmark = pytest.mark.django_db
ADD_URL = "admin:registry_datacut_add"


@pytest.fixture
def world(site_a, site_b):
    return build_cut_world(site_a, site_b)


def _stored():
    return DataCut.objects.count(), DataCutEntry.objects.count(), DataCutBlob.objects.count()


def test_an_administrator_freezes_a_cut_from_the_admin(client, world):
    administrator = user_for("administrator", world)
    client.force_login(administrator)

    response = client.post(reverse(ADD_URL), {"name": "2024-analysis", "cutoff": "2024-06-30"})

    assert response.status_code == 302 and response.url == reverse("admin:registry_datacut_changelist")
    cut = DataCut.objects.get()
    assert (cut.name, cut.patients, cut.frozen_by) == ("2024-analysis", 20, administrator)


def test_the_admin_shows_a_refusal_and_writes_nothing(client, world):
    client.force_login(user_for("administrator", world))
    data_cut_freeze(name="2024-analysis")
    before = _stored()

    response = client.post(reverse(ADD_URL), {"name": "2024-analysis"})

    assert response.status_code == 200
    assert "A data cut named &#x27;2024-analysis&#x27; exists already" in response.content.decode()
    assert _stored() == before


@pytest.mark.parametrize("role", [name for role, (name, _) in ROLE_CASES.items() if role != Role.ADMINISTRATOR])
def test_no_other_role_may_freeze_a_cut_from_the_admin(client, world, role):
    client.force_login(user_for(role, world))

    assert client.get(reverse(ADD_URL)).status_code == 403
    assert client.post(reverse(ADD_URL), {"name": "2024-analysis"}).status_code == 403
    assert _stored() == (0, 0, 0)


@pytest.mark.parametrize("role", [name for name, _ in ROLE_CASES.values()])
def test_every_role_lists_and_reads_the_cuts_and_none_changes_or_deletes_one(client, world, role):
    cut = data_cut_freeze(name="2024-analysis")
    client.force_login(user_for(role, world))

    assert "2024-analysis" in client.get(reverse("admin:registry_datacut_changelist")).content.decode()
    page = client.get(reverse("admin:registry_datacut_change", args=[cut.pk]))
    assert page.status_code == 200 and cut.content_hash in page.content.decode()
    client.post(reverse("admin:registry_datacut_change", args=[cut.pk]), {"name": "renamed"})
    assert client.post(reverse("admin:registry_datacut_delete", args=[cut.pk]), {"post": "yes"}).status_code == 403
    assert DataCut.objects.get().name == "2024-analysis"


def test_an_export_job_asked_for_in_the_admin_names_a_cut_and_writes_its_rows(
    client, world, site_a, settings, tmp_path, django_capture_on_commit_callbacks,
):
    from registry.models import ExportJob, ExportJobStatus
    from tests.data_cut_world import SITE_A_RECORDS, change_everything

    settings.EXPORTS_DIR = tmp_path / "exports"
    cut = data_cut_freeze(name="2024-analysis")
    change_everything(site_a)
    coordinator = user_for("coordinator of A", world)
    client.force_login(coordinator)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:registry_exportjob_add"),
                               {"dataset": "patients", "file_format": "csv", "cut": "2024-analysis"})

    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert (job.cut, job.status) == (cut, ExportJobStatus.DONE)
    import zipfile

    with zipfile.ZipFile(settings.EXPORTS_DIR / job.file_name) as archive:
        lines = archive.read("patients.csv").decode().splitlines()
    # The cut's site A records, without the record NEW-1 added to site A after the freeze.
    assert [line.split(",")[0] for line in lines[1:]] == SITE_A_RECORDS
