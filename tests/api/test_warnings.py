"""REST writes accept a value a soft check asks about, store it and answer the check in "warnings"
([{record, form, instance, field, value, check, message}]); a value of the wrong type is still a 400
with nothing written."""
from datetime import timedelta

import pytest
from django.utils import timezone

from registry.models import LesionMeasurement, Patient, TumorAssessment
from registry.records.soft_checks import FUTURE_DATE, OUTSIDE_RANGE
from tests import factories
from tests.api.api_helpers import database_state, if_match

FUTURE = (timezone.localdate() + timedelta(days=30)).isoformat()


@pytest.fixture
def patient(site_a):
    return factories.make_full_patient(site_a, "P-W")


def checks_of(response):
    return [(w["record"], w["form"], w["instance"], w["field"], w["value"], w["check"])
            for w in response.json()["warnings"]]


def test_a_new_assessment_dated_in_the_future_is_created_with_a_warning(coordinator_api, patient):
    response = coordinator_api.post("/api/v1/patients/P-W/tumor_assessment/", {"ta_date": FUTURE}, format="json")

    assert response.status_code == 201, response.content
    assert checks_of(response) == [("P-W", "tumor_assessment", 2, "ta_date", FUTURE, FUTURE_DATE)]
    assert response.json()["warnings"][0]["message"].endswith(
        f"{FUTURE} is in the future (today is {timezone.localdate().isoformat()}).")
    assert TumorAssessment.objects.filter(patient=patient, ta_date=FUTURE).exists()


def test_a_diameter_above_the_dictionarys_maximum_is_stored_with_a_warning(coordinator_api, patient):
    response = coordinator_api.patch("/api/v1/patients/P-W/lesion_measurement/1/", {"lm_mm": 501}, format="json",
                                     **if_match(coordinator_api, "P-W"))

    assert response.status_code == 200, response.content
    assert checks_of(response) == [("P-W", "lesion_measurement", 1, "lm_mm", "501", OUTSIDE_RANGE)]
    assert LesionMeasurement.objects.get(patient=patient).lm_mm == 501


def test_an_answer_without_warnings_is_the_resource_as_read(coordinator_api, patient):
    response = coordinator_api.patch("/api/v1/patients/P-W/", {"mrn": "M-2"}, format="json",
                                     **if_match(coordinator_api, "P-W"))

    assert response.status_code == 200
    assert "warnings" not in response.json()
    assert response.json() == coordinator_api.get("/api/v1/patients/P-W/").json()


def test_a_write_answer_sent_back_as_it_came_is_accepted(coordinator_api, patient):
    answer = coordinator_api.patch("/api/v1/patients/P-W/", {"consent_date": FUTURE}, format="json",
                                   **if_match(coordinator_api, "P-W")).json()
    assert [w["check"] for w in answer["warnings"]] == [FUTURE_DATE]

    again = coordinator_api.put("/api/v1/patients/P-W/", answer, format="json", **if_match(coordinator_api, "P-W"))

    assert again.status_code == 200, again.content


def test_a_bulk_upsert_lists_its_warnings_and_writes(coordinator_api, site_a):
    records = [{"record_id": "NEW-W", "sex": 1, "adv_dx_date": FUTURE,
                "treatment_line": [{"redcap_repeat_instance": 1, "line_no": 0, "line_type": 1, "line_drug": 2,
                                    "line_start": "2021-01-01"}]}]

    response = coordinator_api.post("/api/v1/records/", records, format="json")

    assert response.status_code == 200, response.content
    assert checks_of(response) == [
        ("NEW-W", "enrollment", None, "adv_dx_date", FUTURE, FUTURE_DATE),
        ("NEW-W", "treatment_line", 1, "line_no", "0", OUTSIDE_RANGE),
    ]
    assert Patient.objects.filter(record_id="NEW-W").exists()


def test_a_bulk_upsert_without_anything_to_ask_answers_an_empty_list(coordinator_api, site_a):
    response = coordinator_api.post("/api/v1/records/", [{"record_id": "NEW-X", "sex": 1, "adv_dx_date": "2021-01-01"}],
                                    format="json")

    assert response.status_code == 200 and response.json()["warnings"] == []


def test_a_value_of_the_wrong_type_is_refused_with_nothing_written_and_no_warning(coordinator_api, patient):
    before = database_state()

    response = coordinator_api.post("/api/v1/patients/P-W/tumor_assessment/",
                                    {"ta_date": FUTURE, "ta_new_lesion": 1, "ta_new_count": -2}, format="json")

    assert response.status_code == 400
    assert "warnings" not in response.json()
    assert database_state() == before
