"""The admin's export page: ask for an export, see your own jobs, download a finished one.

Tasks run eagerly (no broker), after the request's commit: so the job is done when the page answers.
"""
import io
import zipfile

import pytest
from django.urls import reverse

from registry.models import ExportDoor, ExportJob, ExportJobStatus, RegistryRole, Role
from tests import factories
from tests.exports.populated import make_derived_patient

ADD_URL = "admin:registry_exportjob_add"
LIST_URL = "admin:registry_exportjob_changelist"


@pytest.fixture(autouse=True)
def exports_dir(settings, tmp_path):
    settings.EXPORTS_DIR = tmp_path / "exports"
    settings.DEIDENTIFICATION_KEY = "k" * 32
    return settings.EXPORTS_DIR


@pytest.fixture
def patients(site_a, site_b):
    make_derived_patient(site_a, "A-1")
    make_derived_patient(site_b, "B-1")


def _download_url(job) -> str:
    return reverse("admin:registry_exportjob_download", args=[job.pk])


def _ask(client, django_capture_on_commit_callbacks, **data):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse(ADD_URL), {"dataset": "lines", "file_format": "csv", **data})


def test_an_investigator_asks_for_an_export_which_is_de_identified_whatever_is_posted(
    client, investigator, patients, django_capture_on_commit_callbacks,
):
    client.force_login(investigator)

    page = client.get(reverse(ADD_URL))
    form = page.context["form"]
    assert form.fields["deidentify"].disabled
    assert "Your role exports de-identified data only." in page.content.decode()
    # A browser would not post a disabled checkbox; a hand-made request that does is ignored too.
    response = _ask(client, django_capture_on_commit_callbacks, file_format="xlsx", deidentify="")

    assert response.status_code == 302 and response.url == reverse(LIST_URL)
    job = ExportJob.objects.get()
    assert (job.requested_by, job.dataset, job.file_format, job.deidentified, job.status) == (
        investigator, "lines", "xlsx", True, ExportJobStatus.DONE,
    )


def test_the_list_shows_the_users_own_jobs_with_progress_and_a_download_link(
    client, investigator, patients, django_capture_on_commit_callbacks,
):
    other = factories.make_user("other", role=Role.INVESTIGATOR)
    client.force_login(other)
    _ask(client, django_capture_on_commit_callbacks, dataset="patients")
    client.force_login(investigator)
    _ask(client, django_capture_on_commit_callbacks, dataset="endpoints")
    mine = ExportJob.objects.get(requested_by=investigator)

    page = client.get(reverse(LIST_URL))

    assert list(page.context["cl"].result_list) == [mine]
    content = page.content.decode()
    assert "2 of 2 patients" in content
    assert _download_url(mine) in content
    assert 'http-equiv="refresh"' not in content  # nothing is running


def test_a_finished_export_downloads_as_a_zip_of_data_codebook_and_provenance(
    client, investigator, patients, django_capture_on_commit_callbacks,
):
    client.force_login(investigator)
    _ask(client, django_capture_on_commit_callbacks, dataset="biopsies", file_format="dta")
    job = ExportJob.objects.get()

    response = client.get(_download_url(job))

    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{job.file_name}"'
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert sorted(archive.namelist()) == ["biopsies.dta", "biopsies.dta.codebook.csv", "biopsies.dta.provenance.json"]


def test_nobody_else_downloads_it_and_a_withdrawn_grant_stops_an_identified_file(
    client, investigator, patients, django_capture_on_commit_callbacks,
):
    RegistryRole.objects.filter(user=investigator).update(may_export_identified=True)
    client.force_login(investigator)
    assert not client.get(reverse(ADD_URL)).context["form"].fields["deidentify"].disabled
    _ask(client, django_capture_on_commit_callbacks, deidentify="")  # unticked: identified
    job = ExportJob.objects.get()
    assert job.deidentified is False and client.get(_download_url(job)).status_code == 200

    client.force_login(factories.make_user("other", role=Role.ADMINISTRATOR))
    assert client.get(_download_url(job)).status_code == 404
    RegistryRole.objects.filter(user=investigator).update(may_export_identified=False)
    client.force_login(investigator)
    assert client.get(_download_url(job)).status_code == 403


def test_a_coordinator_chooses_among_their_sites_and_may_export_them_identified(
    coordinator_client, coordinator_a, site_a, patients, django_capture_on_commit_callbacks,
):
    page = coordinator_client.get(reverse(ADD_URL))
    assert list(page.context["form"].fields["site"].queryset) == [site_a]

    _ask(coordinator_client, django_capture_on_commit_callbacks, dataset="patients", site=site_a.pk, deidentify="")

    job = ExportJob.objects.get()
    assert (job.site, job.deidentified, job.rows) == (site_a, False, 1)


def test_a_request_the_service_refuses_shows_why_and_stores_nothing(
    client, investigator, settings, django_capture_on_commit_callbacks,
):
    settings.DEIDENTIFICATION_KEY = None
    settings.SECRET_KEY = settings.LOCAL_DEVELOPMENT_SECRET_KEY
    client.force_login(investigator)

    response = _ask(client, django_capture_on_commit_callbacks)

    assert response.status_code == 200
    assert "De-identified exports need a key" in str(response.context["form"].non_field_errors())
    assert not ExportJob.objects.exists()


def test_a_user_without_a_role_has_no_export_page(client, db):
    client.force_login(factories.make_user("nobody"))

    assert client.get(reverse(ADD_URL)).status_code == 403
    assert client.get(reverse(LIST_URL)).status_code == 403


def test_the_list_reloads_itself_while_a_job_is_queued(client, investigator):
    ExportJob.objects.create(requested_by=investigator, dataset="lines", file_format="csv", deidentified=True)
    client.force_login(investigator)

    page = client.get(reverse(LIST_URL))

    assert '<meta http-equiv="refresh" content="5">' in page.content.decode()


def test_an_administrator_grants_identified_exports_on_the_role_with_its_history(client, investigator):
    client.force_login(factories.make_user("chief", role=Role.ADMINISTRATOR))
    role = RegistryRole.objects.get(user=investigator)
    url = reverse("admin:registry_registryrole_change", args=[role.pk])
    assert "may_export_identified" in client.get(url).context["adminform"].form.fields

    response = client.post(url, {"user": investigator.pk, "role": Role.INVESTIGATOR, "may_export_identified": "on"})

    assert response.status_code == 302
    role.refresh_from_db()
    assert role.may_export_identified is True
    assert role.history.first().history_change_reason == "admin"


@pytest.mark.parametrize("dataset", ["responses", "tumor_sums"])
def test_the_adam_style_datasets_are_offered_and_exported_de_identified(
    client, investigator, patients, django_capture_on_commit_callbacks, dataset,
):
    client.force_login(investigator)
    choices = dict(client.get(reverse(ADD_URL)).context["form"].fields["dataset"].choices)
    _ask(client, django_capture_on_commit_callbacks, dataset=dataset)
    job = ExportJob.objects.get()

    archive = zipfile.ZipFile(io.BytesIO(b"".join(client.get(_download_url(job)).streaming_content)))

    assert job.status == ExportJobStatus.DONE
    rows = archive.read(f"{dataset}.csv").decode("utf-8").splitlines()
    # make_derived_patient's A-1 and B-1: an OVRLRESP row each, or a baseline and a follow-up sum each.
    assert len(rows) == 1 + {"responses": 2, "tumor_sums": 4}[dataset]
    assert "A-1" not in "\n".join(rows) and "B-1" not in "\n".join(rows)
    assert dataset in str(choices)


def test_one_job_more_than_the_open_jobs_cap_is_refused_with_why_and_stores_nothing(
    client, investigator, patients, settings,
):
    """The cap counts queued and running jobs of the user, whichever door asked for them: with a cap of
    2 and two queued jobs (one asked for here, one through the API), a third is refused here."""
    settings.EXPORT_MAX_OPEN_JOBS = 2
    client.force_login(investigator)
    # Not run (the commit's callbacks are not executed): the jobs stay queued, as behind a busy worker.
    client.post(reverse(ADD_URL), {"dataset": "lines", "file_format": "csv"})
    ExportJob.objects.create(requested_by=investigator, dataset="patients", file_format="csv", deidentified=True,
                             door=ExportDoor.API_DATASET)

    response = client.post(reverse(ADD_URL), {"dataset": "lines", "file_format": "csv"})

    assert response.status_code == 200
    assert ("investigator has 2 export jobs queued or running, the most one user may have "
            "(REGISTRY_EXPORT_MAX_OPEN_JOBS = 2)") in response.content.decode()
    assert ExportJob.objects.count() == 2
