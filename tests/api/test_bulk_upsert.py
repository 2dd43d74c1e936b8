"""Bulk upserts of many records: nested JSON or REDCap flat records, all or nothing, idempotent."""
from registry.models import LesionMeasurement, NgsVariant, Patient, PatientDerivation, Role
from registry.services.derivation import patients_derive
from tests import factories

from .api_helpers import database_state, problems_of
from .conftest import token_client


def nested_record(record_id: str, **extra) -> dict:
    return {
        "record_id": record_id, "sex": 1, "adv_dx_date": "2021-01-04", "alk_method___1": 1,
        "vital_status": {"vital": 1, "last_alive_date": "2023-02-01"},
        "treatment_line": [{"redcap_repeat_instance": 1, "line_no": 1, "line_type": 1, "line_drug": 2,
                            "line_start": "2021-01-10"}],
        "tumor_assessment": [{"redcap_repeat_instance": 1, "ta_date": "2021-01-05", "ta_scope___1": 1}],
        "lesion": [{"redcap_repeat_instance": 1, "les_id": "L1", "les_line": 1, "les_class": 1, "les_site": 1}],
        "lesion_measurement": [{"redcap_repeat_instance": 1, "lm_date": "2021-01-05", "lm_lesion": "L1",
                                "lm_status": 1, "lm_mm": 21.5}],
        "biopsy": [{"redcap_repeat_instance": 1, "bx_date": "2021-01-02", "bx_specimen": 1}],
        "ngs_variant": [{"redcap_repeat_instance": 1, "var_bx_date": "2021-01-02", "var_gene": "ALK", "var_kind": 1,
                         "var_protein": "G1202R", "var_vaf": 3.25}],
        **extra,
    }


def test_nested_records_are_created_with_every_instrument(coordinator_api, site_a):
    response = coordinator_api.post("/api/v1/records/", [nested_record("N-1"), nested_record("N-2")], format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["created"]["lesion_measurement"] == 2
    assert set(body["versions"]) == {"N-1", "N-2"}
    measurement = LesionMeasurement.objects.get(patient__record_id="N-1")
    assert (str(measurement.lm_mm), measurement.assessment.ta_date.isoformat(), measurement.lesion.les_id) == (
        "21.50", "2021-01-05", "L1")
    assert NgsVariant.objects.get(patient__record_id="N-2").biopsy.bx_date.isoformat() == "2021-01-02"
    assert Patient.objects.get(record_id="N-1").site == site_a


def test_sending_the_same_records_again_changes_nothing(coordinator_api, site_a):
    first = coordinator_api.post("/api/v1/records/", [nested_record("N-1")], format="json")
    before = database_state()

    again = coordinator_api.post("/api/v1/records/", [nested_record("N-1")], format="json")

    assert again.status_code == 200
    assert again.json()["created"] == again.json()["updated"] == {}
    assert again.json()["versions"] == first.json()["versions"]
    assert database_state() == before


def test_what_get_records_answers_can_be_sent_back_unchanged(coordinator_api, site_a):
    factories.make_full_patient(site_a, "P-A")
    records = coordinator_api.get("/api/v1/records/").json()["results"]
    before = database_state()

    response = coordinator_api.post("/api/v1/records/", records, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["updated"] == {}
    assert database_state()[0] == before[0]


def test_a_record_of_the_request_with_a_problem_keeps_every_other_record_out(coordinator_api, site_a):
    before = database_state()
    broken = nested_record("N-2")
    broken["lesion_measurement"][0]["lm_lesion"] = "L9"

    response = coordinator_api.post("/api/v1/records/", [nested_record("N-1"), broken], format="json")

    assert response.status_code == 400
    assert problems_of(response) == [
        ("N-2", "lesion_measurement", "lm_lesion", "no lesion of this patient is identified as L9"),
    ]
    assert database_state() == before


def test_a_dry_run_checks_and_writes_nothing(coordinator_api, site_a):
    before = database_state()

    response = coordinator_api.post("/api/v1/records/?dry_run=true", [nested_record("N-1")], format="json")

    assert response.status_code == 200
    assert response.json()["dry_run"] is True
    assert response.json()["created"]["enrollment"] == 1
    assert database_state() == before


def test_null_erases_only_with_overwrite_behavior_overwrite(coordinator_api, site_a):
    factories.make_patient(site_a, "P-A", smoking=1)

    kept = coordinator_api.post("/api/v1/records/", [{"record_id": "P-A", "smoking": None}], format="json")
    smoking_after_normal = Patient.objects.get(record_id="P-A").smoking
    erased = coordinator_api.post("/api/v1/records/?overwrite_behavior=overwrite",
                                  [{"record_id": "P-A", "smoking": None}], format="json")

    assert kept.status_code == erased.status_code == 200
    assert smoking_after_normal == 1
    assert Patient.objects.get(record_id="P-A").smoking is None


def test_a_current_version_in_a_record_lets_it_through(coordinator_api, site_a):
    patient = factories.make_patient(site_a, "P-A")

    response = coordinator_api.post("/api/v1/records/", [{"record_id": "P-A", "version": f"{patient.id}.1",
                                                           "smoking": 2}], format="json")

    assert response.status_code == 200
    assert response.json()["versions"] == {"P-A": f"{patient.id}.2"}


def test_flat_csv_records_go_through_the_redcap_import(coordinator_api, site_a):
    body = ("record_id,redcap_repeat_instrument,redcap_repeat_instance,sex,adv_dx_date,line_no,line_type,line_drug,"
            "line_start\nF-1,,,2,2020-05-06,,,,\nF-1,treatment_line,1,,,1,1,2,2020-05-10\n")

    response = coordinator_api.generic("POST", "/api/v1/records/flat/", body, content_type="text/csv")

    assert response.status_code == 200, response.content
    assert response.json()["created"] == {"enrollment": 1, "treatment_line": 1}


def test_flat_json_records_report_problems_as_the_import_does(coordinator_api, site_a):
    before = database_state()

    response = coordinator_api.post("/api/v1/records/flat/", [{"record_id": "F-1", "sex": "9",
                                                               "adv_dx_date": "2020-05-06"}], format="json")

    assert response.status_code == 400
    assert problems_of(response)[0][:3] == ("F-1", "enrollment", "sex")
    assert database_state() == before


def test_a_coordinator_of_two_sites_names_the_site_of_each_new_record(site_a, site_b):
    client = token_client(factories.make_user(role=Role.COORDINATOR, sites=[site_a, site_b]))
    unnamed = client.post("/api/v1/records/", [nested_record("N-0")], format="json")

    named = client.post("/api/v1/records/", [nested_record("N-1", site="site-a"), nested_record("N-2", site="site-b")],
                        format="json")

    assert unnamed.status_code == 400
    assert named.status_code == 200
    assert dict(Patient.objects.values_list("record_id", "site__code")) == {"N-1": "site-a", "N-2": "site-b"}


def test_a_bulk_upsert_marks_the_written_patients_stale_and_derives_them_after_the_commit(
    coordinator_api, site_a, django_capture_on_commit_callbacks,
):
    patient = factories.make_full_patient(site_a, "P-A")
    patients_derive(patient_ids=[patient.id])

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        coordinator_api.post("/api/v1/records/", [{"record_id": "P-A", "smoking": 2}], format="json")
    stale = PatientDerivation.objects.get(patient=patient).is_stale
    for callback in callbacks:
        callback()  # the commit: one task, eager without a broker

    assert stale is True
    assert PatientDerivation.objects.get(patient=patient).is_stale is False
