"""Dataset downloads as background jobs through the REST API (registry/api/dataset_jobs.py): asked for
with POST (202 and the job's URL), watched (status and progress), downloaded (the zip), expired (410);
and the download that is too large to answer at once (409 naming the job URL)."""
import io
import zipfile
from datetime import timedelta

import pytest

from registry.exports import datasets
from registry.models import ExportDoor, ExportJob, ExportJobStatus, IdentifiedExport, RegistryRole, Role, SiteMembership
from registry.services.data_cuts import data_cut_freeze
from registry.services.export_jobs import export_job_request, export_job_run, export_jobs_expire
from tests import factories
from tests.data_cut_world import build_cut_world
from tests.exports.exported import read_xpt_bytes
from tests.exports.populated import make_derived_patient

from .conftest import token_client

KEY = "k" * 40


@pytest.fixture(autouse=True)
def exports_dir(settings, tmp_path):
    settings.EXPORTS_DIR = tmp_path / "exports"
    settings.DEIDENTIFICATION_KEY = KEY
    return settings.EXPORTS_DIR


@pytest.fixture
def three_patients(site_a):
    return [make_derived_patient(site_a, f"P-{number}") for number in range(3)]


def _post(client, dataset="lines", run=None, **parameters):
    """POST a job; with `run` (django_capture_on_commit_callbacks), the export runs after the commit as it
    does without a broker. The query string carries the parameters, as the download's does."""
    url = f"/api/v1/datasets/{dataset}/jobs/"
    if parameters:
        url += "?" + "&".join(f"{name}={value}" for name, value in parameters.items())
    if run is None:
        return client.post(url)
    with run(execute=True):
        return client.post(url)


def _content(response) -> bytes:
    return b"".join(response.streaming_content)


def _member(zip_bytes: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
        return archive.read(name)


def test_a_job_answers_202_with_its_url_and_its_file_holds_what_the_download_gives(
    investigator_api, three_patients, django_capture_on_commit_callbacks,
):
    response = _post(investigator_api, run=django_capture_on_commit_callbacks, format="csv")

    assert response.status_code == 202, response.content
    job = ExportJob.objects.get()
    body = response.json()
    assert response["Location"] == body["url"] == f"http://testserver/api/v1/datasets/lines/jobs/{job.pk}/"
    # The test runs the queued task once the answer is given (a worker would, after the commit).
    assert (body["status"], body["dataset"], body["format"], body["identified"], body["site"], body["cut"]) == (
        "queued", "lines", "csv", False, None, None)
    assert job.door == ExportDoor.API_DATASET

    status = investigator_api.get(body["url"]).json()
    # 3 patients of make_derived_patient, each with 2 lines: 6 rows.
    assert (status["status"], status["patients_done"], status["patients_total"], status["rows"], status["error"]) == (
        "done", 3, 3, 6, None)
    assert status["file"] == f"http://testserver/api/v1/datasets/lines/jobs/{job.pk}/file/"
    download = investigator_api.get(status["file"])
    assert (download.status_code, download["Content-Type"]) == (200, "application/zip")
    zipped = _content(download)
    with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
        assert sorted(archive.namelist()) == ["lines.csv", "lines.csv.codebook.csv", "lines.csv.provenance.json"]

    synchronous = _content(investigator_api.get("/api/v1/datasets/lines/", {"format": "csv", "package": "zip"}))
    # The same rows and the same codebook as the download written during a request (same key, so the
    # same pseudonyms and date shifts); the provenance differs only in its time.
    assert _member(zipped, "lines.csv") == _member(synchronous, "lines.csv")
    assert _member(zipped, "lines.csv.codebook.csv") == _member(synchronous, "lines.csv.codebook.csv")


def test_a_queued_job_shows_its_progress_and_has_no_file_until_done(
    investigator_api, three_patients, exports_dir,
):
    # The task is queued after the commit, which a test's transaction never reaches: the job waits.
    response = _post(investigator_api, format="parquet")
    job_url = response["Location"]

    assert response.status_code == 202
    queued = investigator_api.get(job_url).json()
    assert (queued["status"], queued["patients_done"], queued["patients_total"], queued["file"],
            queued["expires_at"]) == ("queued", 0, None, None, None)
    assert investigator_api.get(f"{job_url}file/").status_code == 409

    # A worker half-way (as export_job_run's progress callback records it).
    ExportJob.objects.update(status=ExportJobStatus.RUNNING, patients_done=1, patients_total=3)
    running = investigator_api.get(job_url).json()
    assert (running["status"], running["patients_done"], running["patients_total"]) == ("running", 1, 3)
    refused = investigator_api.get(f"{job_url}file/")
    assert refused.status_code == 409
    assert refused.json()["detail"].endswith("is running: its file is not written yet; ask again later.")

    export_job_run(job_id=ExportJob.objects.get().pk)
    done = investigator_api.get(job_url).json()
    assert (done["status"], done["patients_done"], done["patients_total"], done["rows"]) == ("done", 3, 3, 6)
    job = ExportJob.objects.get()
    # Retention 7 days (the default) after it finished.
    assert done["expires_at"] == (job.finished_at + timedelta(days=7)).isoformat().replace("+00:00", "Z")
    assert investigator_api.get(done["file"]).status_code == 200


def test_the_dataset_list_gives_each_datasets_job_url(investigator_api, db):
    [lines] = [dataset for dataset in investigator_api.get("/api/v1/datasets/").json()["results"]
               if dataset["name"] == "lines"]

    assert lines["jobs"] == "http://testserver/api/v1/datasets/lines/jobs/"


def test_a_download_of_more_patients_than_the_limit_answers_409_with_the_job_url_and_writes_nothing(
    administrator_api, three_patients, settings, exports_dir,
):
    settings.API_SYNC_DATASET_PATIENTS = 2

    response = administrator_api.get("/api/v1/datasets/lines/", {"format": "sav", "identified": "true",
                                                                 "site": "site-a"})

    assert response.status_code == 409
    assert response.json()["detail"] == (
        "This export holds 3 patients, more than the 2 a download answers at once; nothing was written. POST "
        "http://testserver/api/v1/datasets/lines/jobs/?format=sav&identified=true&site=site-a to have it written in "
        "the background, then follow the job's URL (the Location header of the 202) for its progress and its file.")
    assert not IdentifiedExport.objects.exists()
    assert not ExportJob.objects.exists()
    assert not exports_dir.exists()


def test_a_download_of_as_many_patients_as_the_limit_is_answered_at_once(
    administrator_api, site_a, site_b, settings,
):
    settings.API_SYNC_DATASET_PATIENTS = 2
    for record_id in ("A-1", "A-2"):
        make_derived_patient(site_a, record_id)
    make_derived_patient(site_b, "B-1")

    # The patients counted are those of the export: site-a's 2 (the limit itself) are answered at once,
    # the 3 of every site are not.
    assert administrator_api.get("/api/v1/datasets/lines/", {"site": "site-a"}).status_code == 200
    assert administrator_api.get("/api/v1/datasets/lines/").status_code == 409


def test_with_a_limit_of_zero_every_download_is_a_job(investigator_api, site_a, settings):
    settings.API_SYNC_DATASET_PATIENTS = 0
    make_derived_patient(site_a, "P-1")

    assert investigator_api.get("/api/v1/datasets/lines/").status_code == 409


def test_a_refusal_comes_before_the_size(investigator_api, three_patients, settings):
    settings.API_SYNC_DATASET_PATIENTS = 1

    # An investigator without the grant asking for identified data: 403, whatever the size.
    assert investigator_api.get("/api/v1/datasets/lines/", {"identified": "true"}).status_code == 403
    # SAS transport for a dataset that is not ADaM: 400 (the one format rule).
    assert investigator_api.get("/api/v1/datasets/lines/", {"format": "xpt"}).status_code == 400


@pytest.mark.parametrize("parameters, status, message", [
    ({"identified": "true"}, 403, "investigator (investigator) may export de-identified data only"),
    ({"format": "xpt"}, 400, "1 value was refused; nothing was written."),
    ({"site": "nowhere"}, 400, "1 value was refused; nothing was written."),
    ({"cut": "no-such-cut"}, 404, "No data cut named 'no-such-cut'."),
])
def test_a_refused_job_request_stores_nothing(
    investigator_api, three_patients, exports_dir, django_capture_on_commit_callbacks, parameters, status, message,
):
    response = _post(investigator_api, run=django_capture_on_commit_callbacks, **parameters)

    assert response.status_code == status
    assert message in response.json()["detail"]
    assert not ExportJob.objects.exists()
    assert not IdentifiedExport.objects.exists()
    assert not exports_dir.exists()


def test_an_unknown_dataset_is_no_job(investigator_api, db):
    assert _post(investigator_api, dataset="survival").status_code == 404
    assert not ExportJob.objects.exists()


def test_without_a_de_identification_key_a_job_is_refused_503_and_nothing_stored(
    investigator_api, three_patients, settings, django_capture_on_commit_callbacks,
):
    settings.DEIDENTIFICATION_KEY = None
    settings.SECRET_KEY = settings.LOCAL_DEVELOPMENT_SECRET_KEY

    response = _post(investigator_api, run=django_capture_on_commit_callbacks)

    assert response.status_code == 503
    assert not ExportJob.objects.exists()


def test_an_identified_job_is_logged_as_an_export_through_the_api(
    administrator_api, three_patients, django_capture_on_commit_callbacks,
):
    response = _post(administrator_api, run=django_capture_on_commit_callbacks, identified="true")

    assert response.json()["identified"] is True
    assert ExportJob.objects.get().status == ExportJobStatus.DONE
    [logged] = IdentifiedExport.objects.all()
    assert (logged.door, logged.content, logged.file_format, logged.record_count) == (
        ExportDoor.API_DATASET, "lines", "csv", 3)


def test_another_users_job_is_no_job_at_all(
    site_a, three_patients, investigator_api, administrator_api, django_capture_on_commit_callbacks,
):
    job_url = _post(investigator_api, run=django_capture_on_commit_callbacks)["Location"]
    other_investigator = token_client(factories.make_user("other", role=Role.INVESTIGATOR))

    # Not even an administrator sees it: jobs are their requester's, as in the admin.
    for client in (other_investigator, administrator_api):
        assert client.get(job_url).status_code == 404
        assert client.get(f"{job_url}file/").status_code == 404
    # Nor is it found under another dataset's name.
    job_id = ExportJob.objects.get().pk
    assert investigator_api.get(f"/api/v1/datasets/patients/jobs/{job_id}/").status_code == 404


def test_a_job_of_a_site_the_user_left_is_no_job_of_theirs(
    site_a, site_b, django_capture_on_commit_callbacks,
):
    coordinator = factories.make_user("coordinator", role=Role.COORDINATOR, sites=[site_a, site_b])
    make_derived_patient(site_b, "B-1")
    client = token_client(coordinator)
    job_url = _post(client, run=django_capture_on_commit_callbacks, site="site-b")["Location"]
    assert client.get(job_url).status_code == 200

    SiteMembership.objects.filter(user=coordinator, site=site_b).delete()

    assert client.get(job_url).status_code == 404
    assert client.get(f"{job_url}file/").status_code == 404


def test_a_job_of_every_site_is_refused_403_once_one_of_its_sites_is_left(
    site_a, site_b, django_capture_on_commit_callbacks,
):
    coordinator = factories.make_user("coordinator", role=Role.COORDINATOR, sites=[site_a, site_b])
    make_derived_patient(site_a, "A-1")
    make_derived_patient(site_b, "B-1")
    client = token_client(coordinator)
    job_url = _post(client, run=django_capture_on_commit_callbacks)["Location"]

    SiteMembership.objects.filter(user=coordinator, site=site_b).delete()

    # The job (of every site) is still theirs to see; its file holds site-b's patient and stays.
    assert client.get(job_url).status_code == 200
    refused = client.get(f"{job_url}file/")
    assert refused.status_code == 403
    assert refused.json()["detail"] == "coordinator no longer sees every site of this export"


def test_an_identified_file_no_longer_leaves_once_the_grant_is_withdrawn(
    site_a, three_patients, django_capture_on_commit_callbacks,
):
    investigator = factories.make_user("granted", role=Role.INVESTIGATOR)
    RegistryRole.objects.filter(user=investigator).update(may_export_identified=True)
    client = token_client(investigator)
    job_url = _post(client, run=django_capture_on_commit_callbacks, identified="true")["Location"]
    assert client.get(f"{job_url}file/").status_code == 200

    RegistryRole.objects.filter(user=investigator).update(may_export_identified=False)

    assert client.get(f"{job_url}file/").status_code == 403


def test_an_expired_job_says_so_and_its_file_is_gone_410(
    investigator_api, three_patients, exports_dir, settings, django_capture_on_commit_callbacks,
):
    job_url = _post(investigator_api, run=django_capture_on_commit_callbacks)["Location"]
    job = ExportJob.objects.get()

    # The nightly task, run 8 days after the job finished (the retention is 7 days).
    assert export_jobs_expire(now=job.finished_at + timedelta(days=8)).jobs == 1

    status = investigator_api.get(job_url).json()
    assert (status["status"], status["file"], status["expires_at"]) == ("expired", None, None)
    gone = investigator_api.get(f"{job_url}file/")
    assert gone.status_code == 410
    assert list(exports_dir.iterdir()) == []


def test_a_file_deleted_under_a_done_job_is_gone_410(
    investigator_api, three_patients, exports_dir, django_capture_on_commit_callbacks,
):
    job_url = _post(investigator_api, run=django_capture_on_commit_callbacks)["Location"]
    (exports_dir / ExportJob.objects.get().file_name).unlink()

    assert investigator_api.get(f"{job_url}file/").status_code == 410


def test_a_failed_job_says_why_and_has_no_file(
    investigator_api, site_a, exports_dir, monkeypatch, django_capture_on_commit_callbacks,
):
    make_derived_patient(site_a, "P-1")

    def failing(batch):
        raise RuntimeError("database went away")
        yield  # a generator, like the real one

    monkeypatch.setitem(datasets.DATASETS, "lines", datasets.Dataset("lines", datasets.LINE_ROWS.columns, failing))
    response = _post(investigator_api, run=django_capture_on_commit_callbacks, format="xlsx")

    assert response.status_code == 202  # the request was accepted; the export failed afterwards
    status = investigator_api.get(response["Location"]).json()
    assert (status["status"], status["error"], status["file"]) == (
        "failed", "Unexpected error (RuntimeError): database went away", None)
    refused = investigator_api.get(f"{response['Location']}file/")
    assert refused.status_code == 409
    assert refused.json()["detail"].endswith("failed: Unexpected error (RuntimeError): database went away")
    assert list(exports_dir.iterdir()) == []


def test_the_admin_lists_a_job_asked_for_through_the_api(
    client, investigator_api, three_patients, django_capture_on_commit_callbacks,
):
    _post(investigator_api, run=django_capture_on_commit_callbacks)
    investigator = ExportJob.objects.get().requested_by
    client.force_login(investigator)

    page = client.get("/admin/registry/exportjob/")

    assert page.status_code == 200
    assert f"/admin/registry/exportjob/{ExportJob.objects.get().pk}/download/" in page.content.decode()
    assert "REST API: dataset" in page.content.decode()  # where it was asked for


def test_reading_a_job_takes_three_queries(investigator_api, three_patients, django_assert_num_queries):
    job_url = _post(investigator_api)["Location"]
    investigator_api.get(job_url)  # the token used once (its last-use time written), as when polling

    # 1 the token with its user, 2 the user's role (and grant), 3 the job with its site and cut joined
    # (an investigator sees every site: no membership query).
    with django_assert_num_queries(3):
        response = investigator_api.get(job_url)
    assert response.json()["status"] == "queued"


def test_reading_a_job_of_a_coordinator_adds_their_sites(site_a, django_assert_num_queries):
    make_derived_patient(site_a, "P-1")
    client = token_client(factories.make_user("coordinator", role=Role.COORDINATOR, sites=[site_a]))
    job_url = _post(client, site="site-a")["Location"]
    client.get(job_url)

    # The investigator's three, and 4 the coordinator's sites (to see the job's site is still theirs).
    with django_assert_num_queries(4):
        response = client.get(job_url)
    assert response.json()["site"] == "site-a"


def test_from_a_data_cut_the_limit_counts_the_cuts_patients_and_a_job_writes_its_adam_file_as_xpt(
    site_a, site_b, settings, django_capture_on_commit_callbacks,
):
    build_cut_world(site_a, site_b)  # 12 patients at site-a, 8 at site-b
    data_cut_freeze(name="2024-analysis")
    make_derived_patient(site_a, "LATER-1")  # live only: site-a now has 13 live patients, the cut 12
    settings.API_SYNC_DATASET_PATIENTS = 12
    client = token_client(factories.make_user("admin", superuser=True))

    from_cut = {"cut": "2024-analysis", "site": "site-a", "identified": "true"}
    assert client.get("/api/v1/datasets/endpoints/", from_cut).status_code == 200
    assert client.get("/api/v1/datasets/endpoints/", {"site": "site-a", "identified": "true"}).status_code == 409
    too_large = client.get("/api/v1/datasets/endpoints/", {"cut": "2024-analysis", "identified": "true"})
    assert too_large.json()["detail"].startswith("This export holds 20 patients, more than the 12 ")

    response = _post(client, dataset="endpoints", run=django_capture_on_commit_callbacks, format="xpt",
                     cut="2024-analysis", identified="true")

    assert (response.json()["cut"], response.json()["format"]) == ("2024-analysis", "xpt")
    status = client.get(response["Location"]).json()
    assert (status["status"], status["patients_total"]) == ("done", 20)
    zipped = _content(client.get(status["file"]))
    assert read_xpt_bytes(_member(zipped, "endpoints.xpt"))[1].table_name == "ADTTE"


def test_a_job_asked_for_in_the_admin_is_read_and_downloaded_through_the_api(
    investigator_api, three_patients, django_capture_on_commit_callbacks,
):
    investigator = investigator_api.token.user
    with django_capture_on_commit_callbacks(execute=True):
        job = export_job_request(user=investigator, dataset="patients", file_format="csv", deidentify=True)

    status = investigator_api.get(f"/api/v1/datasets/patients/jobs/{job.pk}/").json()

    assert (status["status"], status["rows"]) == ("done", 3)  # one row per patient
    assert investigator_api.get(status["file"]).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_without_a_broker_the_job_has_run_when_the_202_is_answered(site_a):
    # Real commits (no test transaction around the request): the task queued after the commit runs
    # in-process, eagerly, before the view reads the job back.
    make_derived_patient(site_a, "P-1")
    client = token_client(factories.make_user("investigator", role=Role.INVESTIGATOR))

    response = _post(client)

    assert response.status_code == 202
    assert (response.json()["status"], response.json()["rows"]) == ("done", 2)  # make_derived_patient: 2 lines


# --- the user's jobs of a dataset ----------------------------------------------------------------

def _list(client, dataset="lines", **parameters):
    url = f"/api/v1/datasets/{dataset}/jobs/"
    if parameters:
        url += "?" + "&".join(f"{name}={value}" for name, value in parameters.items())
    return client.get(url)


def test_the_job_list_gives_the_users_own_jobs_of_the_dataset_newest_first(
    investigator_api, administrator_api, three_patients,
):
    first = _post(investigator_api, format="csv")["Location"]
    second = _post(investigator_api, format="dta")["Location"]
    _post(investigator_api, dataset="patients")  # another dataset: not in the lines list
    _post(administrator_api)  # another user's job of the same dataset: not theirs

    answer = _list(investigator_api).json()

    assert [job["url"] for job in answer["results"]] == [second, first]
    assert [job["format"] for job in answer["results"]] == ["dta", "csv"]
    assert answer["truncated"] is False
    # Each entry is what the job's own URL answers.
    assert answer["results"][0] == investigator_api.get(second).json()


def test_the_job_list_stops_at_the_limit_and_says_there_were_more(investigator_api, three_patients):
    urls = [_post(investigator_api)["Location"] for _ in range(3)]

    answer = _list(investigator_api, limit=2).json()

    # Three jobs, limit 2: the two newest, and truncated.
    assert [job["url"] for job in answer["results"]] == urls[:0:-1]
    assert answer["truncated"] is True


@pytest.mark.parametrize("limit", ["0", "101", "x", "-1"])
def test_a_limit_out_of_range_is_refused_400(investigator_api, db, limit):
    response = _list(investigator_api, limit=limit)

    assert response.status_code == 400
    assert "limit" in str(response.json())


def test_the_job_list_of_an_unknown_dataset_is_404(investigator_api, db):
    assert _list(investigator_api, dataset="nonsense").status_code == 404


def test_the_job_list_leaves_out_a_job_of_a_site_the_user_left(site_a, site_b):
    coordinator = factories.make_user("coordinator", role=Role.COORDINATOR, sites=[site_a, site_b])
    make_derived_patient(site_a, "A-1")
    make_derived_patient(site_b, "B-1")
    client = token_client(coordinator)
    of_a = _post(client, site="site-a")["Location"]
    of_b = _post(client, site="site-b")["Location"]
    of_every_site = _post(client)["Location"]
    assert [job["url"] for job in _list(client).json()["results"]] == [of_every_site, of_b, of_a]

    SiteMembership.objects.filter(user=coordinator, site=site_b).delete()

    # As each job's own URL answers: site-b's job is none of theirs (404); the job of every site still is.
    client = token_client(coordinator)
    assert [job["url"] for job in _list(client).json()["results"]] == [of_every_site, of_a]


def test_listing_jobs_takes_the_same_queries_for_one_job_as_for_five(
    site_a, django_assert_num_queries,
):
    make_derived_patient(site_a, "P-1")
    client = token_client(factories.make_user("coordinator", role=Role.COORDINATOR, sites=[site_a]))
    _post(client, site="site-a")
    _list(client)  # the token used once (its last-use time written)

    # 1 the token with its user, 2 the role, 3 the coordinator's sites, 4 the jobs with sites and cuts.
    with django_assert_num_queries(4):
        assert len(_list(client).json()["results"]) == 1
    for _ in range(4):
        _post(client, site="site-a")
    with django_assert_num_queries(4):
        assert len(_list(client).json()["results"]) == 5


def test_one_job_more_than_the_open_jobs_cap_is_429_and_stores_nothing_until_one_finishes(
    investigator_api, three_patients, settings,
):
    """Cap 2: two queued jobs (no broker runs them here: the commit's callbacks are not executed), the
    third answers 429 and stores nothing; once one of the two has failed (finished), a third is taken."""
    settings.EXPORT_MAX_OPEN_JOBS = 2
    _post(investigator_api)
    _post(investigator_api)

    refused = _post(investigator_api)

    assert refused.status_code == 429
    assert "2 export jobs queued or running" in refused.json()["detail"]
    assert ExportJob.objects.count() == 2
    ExportJob.objects.filter(pk=ExportJob.objects.order_by("pk").first().pk).update(
        status=ExportJobStatus.FAILED, error_message="worker lost")
    assert _post(investigator_api).status_code == 202
    assert ExportJob.objects.count() == 3
