"""No lost updates: every record carries a version (its ETag); a write naming an older one is a 412
and changes nothing, whichever door made the newer change."""
import pytest

from registry.models import Patient, TreatmentLine
from tests import factories
from tests.admin.admin_pages import change_url, form_data_of

from .api_helpers import database_state, if_match


@pytest.fixture
def patient(site_a):
    return factories.make_full_patient(site_a, "P-A")


def test_a_record_and_each_of_its_instruments_answer_the_records_version_as_etag(coordinator_api, patient):
    record = coordinator_api.get("/api/v1/patients/P-A/")
    line = coordinator_api.get("/api/v1/patients/P-A/treatment_line/1/")
    lines = coordinator_api.get("/api/v1/patients/P-A/treatment_line/")

    assert record["ETag"] == line["ETag"] == lines["ETag"] == f'"{patient.id}.1"'
    assert record.json()["version"] == f"{patient.id}.1"


def test_a_write_answers_the_new_version_and_the_old_one_no_longer_matches(coordinator_api, patient):
    old = if_match(coordinator_api, "P-A")

    changed = coordinator_api.patch("/api/v1/patients/P-A/", {"smoking": 1}, format="json", **old)
    again = coordinator_api.patch("/api/v1/patients/P-A/", {"smoking": 2}, format="json", **old)

    assert changed.status_code == 200
    assert changed["ETag"] == f'"{patient.id}.2"' == f'"{changed.json()["version"]}"'
    assert again.status_code == 412
    assert Patient.objects.get(pk=patient.pk).smoking == 1


def test_a_change_in_the_admin_makes_the_apis_etag_stale(coordinator_api, patient, client, administrator):
    old = if_match(coordinator_api, "P-A")
    client.force_login(administrator)
    data = form_data_of(client.get(change_url(patient)))
    data["mrn"] = "from the admin"
    assert client.post(change_url(patient), data).status_code == 302
    before = database_state()

    response = coordinator_api.patch("/api/v1/patients/P-A/", {"mrn": "from the API"}, format="json", **old)

    assert response.status_code == 412
    assert database_state() == before


def test_a_write_to_a_nested_instance_checks_and_bumps_the_records_version(coordinator_api, patient):
    old = if_match(coordinator_api, "P-A")
    coordinator_api.patch("/api/v1/patients/P-A/vital_status/", {"vital": 2, "death_date": "2024-01-01"},
                          format="json", **old)
    before = database_state()

    stale = coordinator_api.patch("/api/v1/patients/P-A/treatment_line/1/", {"line_ecog": 1}, format="json", **old)
    deleted = coordinator_api.delete("/api/v1/patients/P-A/biopsy/1/", **old)

    assert stale.status_code == deleted.status_code == 412
    assert database_state() == before


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_a_change_without_if_match_is_a_428_and_writes_nothing(coordinator_api, patient, method):
    before = database_state()

    response = getattr(coordinator_api, method)("/api/v1/patients/P-A/treatment_line/1/", {"line_ecog": 1},
                                                format="json")

    assert response.status_code == 428
    assert database_state() == before


def test_if_match_star_accepts_any_current_version(coordinator_api, patient):
    response = coordinator_api.patch("/api/v1/patients/P-A/treatment_line/1/", {"line_ecog": 2}, format="json",
                                     HTTP_IF_MATCH="*")

    assert response.status_code == 200
    assert TreatmentLine.objects.get(patient=patient).line_ecog == 2


def test_an_unchanged_write_keeps_the_version(coordinator_api, patient):
    old = if_match(coordinator_api, "P-A")

    response = coordinator_api.patch("/api/v1/patients/P-A/", {"sex": 2}, format="json", **old)

    assert response.status_code == 200
    assert response["ETag"] == old["HTTP_IF_MATCH"]


def test_put_replaces_the_instance_and_erases_what_it_leaves_out(coordinator_api, patient):
    coordinator_api.patch("/api/v1/patients/P-A/treatment_line/1/", {"line_ecog": 1}, format="json",
                          **if_match(coordinator_api, "P-A"))

    response = coordinator_api.put("/api/v1/patients/P-A/treatment_line/1/", {
        "line_no": 1, "line_type": 1, "line_drug": 3, "line_start": "2020-03-10",
    }, format="json", **if_match(coordinator_api, "P-A"))

    line = TreatmentLine.objects.get(patient=patient)
    assert response.status_code == 200
    assert (line.line_drug, line.line_ecog) == (3, None)


def test_deleting_an_assessment_deletes_its_measurements_each_with_the_apis_door(coordinator_api, patient):
    response = coordinator_api.delete("/api/v1/patients/P-A/tumor_assessment/1/", **if_match(coordinator_api, "P-A"))

    assert response.status_code == 204
    assert not patient.lesion_measurements.exists()
    deletions = patient.lesion_measurements.model.history.filter(history_type="-")
    assert [row.history_change_reason for row in deletions] == [f"api: token {coordinator_api.token.prefix}"]


def test_if_match_with_several_versions_matches_any_strong_one_and_never_a_weak_one(coordinator_api, patient):
    current = if_match(coordinator_api, "P-A")["HTTP_IF_MATCH"]

    weak = coordinator_api.patch("/api/v1/patients/P-A/", {"smoking": 1}, format="json", HTTP_IF_MATCH=f"W/{current}")
    listed = coordinator_api.patch("/api/v1/patients/P-A/", {"smoking": 1}, format="json",
                                   HTTP_IF_MATCH=f'"0.9", {current}')

    assert (weak.status_code, listed.status_code) == (412, 200)
