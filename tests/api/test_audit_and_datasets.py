"""The audit trail of API changes, and the datasets and report for investigators."""
import csv
import io
import zipfile

import pytest
from django.utils import timezone

from tests import factories
from tests.exports.populated import make_derived_patient

from .api_helpers import if_match


@pytest.fixture
def patient(site_a):
    return factories.make_full_patient(site_a, "P-A")


def test_a_change_through_the_api_is_in_the_audit_trail_with_user_token_and_time(
    coordinator_api, administrator_api, patient,
):
    before = timezone.now()
    coordinator_api.patch("/api/v1/patients/P-A/treatment_line/1/", {"line_ecog": 2}, format="json",
                          **if_match(coordinator_api, "P-A"))

    response = administrator_api.get("/api/v1/audit/", {"record": "P-A", "since": before.isoformat()})

    [entry] = response.json()["results"]
    assert (entry["user"], entry["door"], entry["instrument"], entry["instance"], entry["action"]) == (
        "coordinator_a", f"api: token {coordinator_api.token.prefix}", "treatment_line", 1, "changed")
    assert entry["changes"] == [{"field": "line_ecog", "label": "ECOG performance status at start of line",
                                 "old": "(blank)", "new": "2 (2)"}]
    assert entry["when"] >= before.isoformat()
    assert coordinator_api.secret not in response.content.decode()


def test_the_audit_trail_says_when_it_holds_more_than_the_limit(administrator_api, patient):
    response = administrator_api.get("/api/v1/audit/", {"record": "P-A", "limit": "2"})

    assert len(response.json()["results"]) == 2
    assert response.json()["truncated"] is True


def test_an_investigator_downloads_a_de_identified_dataset(investigator_api, patient, settings):
    settings.DEIDENTIFICATION_KEY = "k" * 40

    response = investigator_api.get("/api/v1/datasets/patients/", {"format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert row["record_id"] != "P-A"


def test_an_investigator_without_the_grant_is_refused_identified_data(investigator_api, patient):
    response = investigator_api.get("/api/v1/datasets/patients/", {"identified": "true"})

    assert response.status_code == 403
    assert "de-identified data only" in response.json()["detail"]


def test_de_identified_data_without_a_key_is_a_503_saying_how_to_set_one(investigator_api, patient, settings):
    settings.DEIDENTIFICATION_KEY = None
    settings.SECRET_KEY = settings.LOCAL_DEVELOPMENT_SECRET_KEY

    response = investigator_api.get("/api/v1/datasets/lines/")

    assert response.status_code == 503
    assert "REGISTRY_DEIDENTIFICATION_KEY" in response.json()["detail"]


@pytest.mark.parametrize("name", ["responses", "tumor_sums"])
def test_an_investigator_downloads_the_adam_style_datasets_de_identified(investigator_api, site_a, settings, name):
    settings.DEIDENTIFICATION_KEY = "k" * 40
    make_derived_patient(site_a, "P-A")

    response = investigator_api.get(f"/api/v1/datasets/{name}/", {"format": "csv"})

    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    # make_derived_patient: one OVRLRESP row; a baseline and a follow-up sum.
    assert len(rows) == {"responses": 1, "tumor_sums": 2}[name]
    assert "P-A" not in text
    assert all(row["usubjid"] == f"ALK-REGISTRY-{row['record_id']}" for row in rows)


def test_a_dataset_comes_as_parquet_or_as_a_zip_with_its_codebook_and_provenance(administrator_api, patient):
    parquet = administrator_api.get("/api/v1/datasets/lines/", {"format": "parquet", "identified": "true"})
    bundle = administrator_api.get("/api/v1/datasets/lines/", {"identified": "true", "package": "zip"})

    assert parquet.status_code == bundle.status_code == 200
    assert b"".join(parquet.streaming_content)[:4] == b"PAR1"
    names = zipfile.ZipFile(io.BytesIO(b"".join(bundle.streaming_content))).namelist()
    assert sorted(names) == ["lines.csv", "lines.csv.codebook.csv", "lines.csv.provenance.json"]


def test_the_dataset_list_names_every_dataset_with_its_url(investigator_api, db):
    response = investigator_api.get("/api/v1/datasets/")

    names = [dataset["name"] for dataset in response.json()["results"]]
    assert {"lines", "endpoints", "assessments", "biopsies", "patients", "responses", "tumor_sums"} <= set(names)
    assert response.json()["results"][0]["url"].startswith("http://testserver/api/v1/datasets/")


def test_the_study_report_is_json(investigator_api, patient):
    response = investigator_api.get("/api/v1/report/")

    assert response.status_code == 200
    assert response.json()["report_version"] == 1


def test_a_patients_derived_results_are_read_as_stored(coordinator_api, patient):
    from registry.models import AnalysisSettings
    from registry.services.derivation import patients_derive

    AnalysisSettings.objects.update_or_create(pk=1, defaults={"data_cutoff": "2024-06-30"})
    patients_derive(patient_ids=[patient.id])

    response = coordinator_api.get("/api/v1/patients/P-A/derived/")

    body = response.json()
    assert response.status_code == 200
    assert body["patient"]["rules_version"] == 2 and body["patient"]["is_stale"] is False
    assert [line["line_no"] for line in body["lines"]] == [1]
    assert body["biopsies"][0]["bx_date"] == "2022-01-25"
