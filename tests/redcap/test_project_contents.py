"""The project's description (version, project, metadata, instruments, field names, repeating
instruments, data access groups, user, next record name) and its log."""
import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from registry.models import Patient, Role
from registry.records.dictionary import DICTIONARY_PATH
from tests import factories
from tests.redcap.conftest import make_token


def _shipped_rows() -> list[list[str]]:
    with DICTIONARY_PATH.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.reader(handle))[1:]


def test_the_version_is_plain_text_whatever_the_format(redcap, admin_token):
    assert redcap(admin_token, "version", format="json").text == "14.0.0"


def test_project_information_has_redcaps_keys(redcap, admin_token):
    information = redcap(admin_token, "project", format="json").json()

    assert list(information) == [
        "project_id", "project_title", "creation_time", "production_time", "in_production", "project_language",
        "purpose", "purpose_other", "project_notes", "custom_record_label", "secondary_unique_field",
        "is_longitudinal", "has_repeating_instruments_or_events", "surveys_enabled", "scheduling_enabled",
        "record_autonumbering_enabled", "randomization_enabled", "ddp_enabled", "project_irb_number",
        "project_grant_number", "project_pi_firstname", "project_pi_lastname", "display_today_now_button",
        "missing_data_codes", "external_modules", "bypass_branching_erase_field_prompt",
    ]
    assert (information["is_longitudinal"], information["has_repeating_instruments_or_events"]) == (0, 1)
    assert information["project_title"] == "ALK+ NSCLC registry"
    assert len(information["creation_time"]) == len("2024-01-01 00:00:00")


def test_metadata_in_csv_has_the_api_keys_as_header_and_the_dictionarys_rows(redcap, admin_token):
    rows = list(csv.reader(io.StringIO(redcap(admin_token, "metadata", format="csv").text)))

    assert rows[0][:2] == ["field_name", "form_name"] and len(rows[0]) == 18
    assert rows[1:] == _shipped_rows()


def test_metadata_of_some_fields_and_forms(redcap, admin_token):
    rows = redcap(admin_token, "metadata", format="json", **{"fields[0]": "sex", "forms[0]": "vital_status"}).json()

    assert [row["field_name"] for row in rows] == ["sex", "last_alive_date", "vital", "death_date", "death_cause"]
    assert redcap(admin_token, "metadata", format="json", forms="vital").json() == {
        "error": "The following values in the parameter \"forms\" are not valid: 'vital'"}


def test_export_field_names_expand_checkboxes_and_add_each_forms_status(redcap, admin_token):
    rows = redcap(admin_token, "exportFieldNames", format="json").json()

    names = [row["export_field_name"] for row in rows]
    assert names[:4] == ["record_id", "mrn", "birth_date", "sex"]
    assert "alk_method___5" in names and "alk_method" not in names
    assert names[-1] == "vital_status_complete"
    assert redcap(admin_token, "exportFieldNames", format="json", field="nope").status == 400


def test_instruments_and_repeating_instruments(redcap, admin_token):
    instruments = redcap(admin_token, "instrument", format="csv").text.splitlines()
    repeating = redcap(admin_token, "repeatingFormsEvents", format="json").json()

    assert instruments[:3] == ["instrument_name,instrument_label", "enrollment,Enrollment",
                               "treatment_line,Treatment line"]
    assert repeating[0] == {"form_name": "treatment_line", "custom_form_label": ""}
    assert "enrollment" not in {row["form_name"] for row in repeating} and len(repeating) == 7


def test_data_access_groups_are_the_sites_the_token_sees(redcap, admin_token, coordinator_token, site_a, site_b):
    every = redcap(admin_token, "dag", format="json").json()
    own = redcap(coordinator_token, "dag", format="json").json()

    assert [group["unique_group_name"] for group in every] == ["site-a", "site-b"]
    assert own == [{"data_access_group_name": "Hospital A", "unique_group_name": "site-a",
                    "data_access_group_id": site_a.id}]


def test_the_user_export_shows_the_tokens_own_rights(redcap, coordinator_token, site_a):
    (user,) = redcap(coordinator_token, "user", format="json").json()
    (as_csv,) = csv.DictReader(io.StringIO(redcap(coordinator_token, "user", format="csv").text))

    assert (user["username"], user["data_access_group"], user["api_import"], user["record_delete"],
            user["logging"]) == ("coordinator_a", "site-a", 1, 0, 0)
    assert user["forms"]["treatment_line"] == 1
    assert as_csv["forms"].startswith("enrollment:1,treatment_line:1")


def test_the_next_record_name_is_numeric_or_prefixed_by_the_users_one_site(redcap, admin_token, coordinator_token,
                                                                           site_a):
    for record_id in ("9", "10", "EX-1", f"{site_a.id}-4"):
        factories.make_patient(site_a, record_id)

    assert redcap(admin_token, "generateNextRecordName", format="csv").text == "11"
    assert redcap(coordinator_token, "generateNextRecordName", format="csv").text == f"{site_a.id}-5"


def test_only_writers_ask_for_a_record_name(redcap, investigator):
    assert redcap(make_token(investigator), "generateNextRecordName", format="json").status == 403


@pytest.fixture
def logged_changes(redcap, coordinator_a, site_a, site_b):
    """A record created and changed through the API by coordinator_a, one of site B by the system."""
    token = make_token(coordinator_a)
    for mrn in ("MRN-1", "MRN-2"):
        redcap(token, "record", format="csv", data=f"record_id,sex,adv_dx_date,mrn\nLOG-1,1,2021-01-01,{mrn}\n")
    factories.make_patient(site_b, "B-1")
    return token


def test_the_log_lists_the_audit_trail_newest_first(redcap, admin_token, logged_changes):
    log = redcap(admin_token, "log", format="json", record="LOG-1").json()

    assert [(entry["username"], entry["action"]) for entry in log] == [
        ("coordinator_a", "Update record LOG-1"), ("coordinator_a", "Create record LOG-1")]
    assert log[0]["details"] == f"enrollment: mrn = 'MRN-2' (via redcap api: token {logged_changes[:8]})"
    assert list(log[0]) == ["timestamp", "username", "action", "details"]


def test_the_log_filters_by_type_user_site_and_time(redcap, admin_token, logged_changes):
    def actions(**filters):
        return [entry["action"] for entry in redcap(admin_token, "log", format="json", **filters).json()]

    assert actions(logtype="record_add") == ["Create record B-1", "Create record LOG-1"]
    assert actions(logtype="record_edit") == ["Update record LOG-1"]
    assert actions(logtype="manage") == []
    assert actions(user="coordinator_a", logtype="record_add") == ["Create record LOG-1"]
    assert actions(dag="site-b") == ["Create record B-1"]
    later = (timezone.now() + timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M")
    assert actions(beginTime=later) == []
    assert len(actions(endTime=later)) == 3


def test_the_log_is_for_administrators(redcap, logged_changes, site_a):
    viewer = factories.make_user("viewer_a", role=Role.VIEWER, sites=[site_a])

    for token in (logged_changes, make_token(viewer)):
        answer = redcap(token, "log", format="json")
        assert answer.status == 403 and "administrators only" in answer.json()["error"]
    assert Patient.objects.count() == 2
