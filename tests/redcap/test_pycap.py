"""PyCap, the REDCap client sites already use, against a running registry (tests/redcap/live_server.py:
a gunicorn process on PostgreSQL). Nothing here knows the endpoint's insides: only what PyCap sends
and parses, and what the database holds before and after."""
import csv
import io
import json

import pandas as pd
import pytest
import requests
import semantic_version
from redcap import Project, RedcapError
from redcap import request as redcap_request

from registry.models import Patient, Role, TreatmentLine
from registry.records.dictionary import DICTIONARY_PATH
from registry.services.records import records_export, records_import
from tests import factories
from tests.records.flat_files import EVERY_INSTRUMENT_CSV, row_counts
from tests.redcap.conftest import make_token

# Once, on PostgreSQL: against a gunicorn server, as deployed (the SQLite run would use Django's live-server
# thread).
pytestmark = [pytest.mark.usefixtures("transactional_db"), pytest.mark.one_database("postgresql")]


@pytest.fixture(autouse=True)
def _no_kept_alive_connections():
    """PyCap posts through one module-wide requests Session, which keeps connections open: close
    them after each test, so that no server thread still waits on one when the server stops."""
    yield
    redcap_request._session.close()


def _server_export(file_format: str = "csv", **options) -> str:
    """The flat export as the registry's own service writes it, to compare the API's with."""
    output = io.StringIO()
    records_export(output=output, file_format=file_format, **options)
    return output.getvalue()


@pytest.fixture
def every_instrument(site_a):
    """Four records of site A with every instrument, and one record of site B."""
    result = records_import(source=EVERY_INSTRUMENT_CSV, file_format="csv", site=site_a, user=None)
    assert result.ok
    factories.make_full_patient(factories.make_site("site-b", "Hospital B"), "B-001")


@pytest.fixture
def admin_project(redcap_url, administrator):
    return Project(redcap_url, make_token(administrator))


@pytest.fixture
def coordinator_project(redcap_url, coordinator_a):
    return Project(redcap_url, make_token(coordinator_a))


def test_pycap_sees_a_classic_project_with_record_id_first(admin_project):
    assert admin_project.is_longitudinal is False
    assert admin_project.def_field == "record_id"
    assert admin_project.export_project_info()["is_longitudinal"] == 0
    assert admin_project.export_project_info()["has_repeating_instruments_or_events"] == 1
    assert admin_project.export_version() >= semantic_version.Version("12.0.1")


def test_exported_metadata_is_the_shipped_data_dictionary(admin_project):
    with DICTIONARY_PATH.open(newline="", encoding="utf-8-sig") as handle:
        shipped = list(csv.reader(handle))[1:]

    metadata = admin_project.export_metadata()

    assert [list(row.values()) for row in metadata] == shipped
    assert list(metadata[0]) == [
        "field_name", "form_name", "section_header", "field_type", "field_label", "select_choices_or_calculations",
        "field_note", "text_validation_type_or_show_slider_number", "text_validation_min", "text_validation_max",
        "identifier", "branching_logic", "required_field", "custom_alignment", "question_number",
        "matrix_group_name", "matrix_ranking", "field_annotation",
    ]
    as_csv = list(csv.reader(io.StringIO(admin_project.export_metadata(format_type="csv"))))
    assert as_csv[1:] == shipped
    as_frame = admin_project.export_metadata(format_type="df")
    assert list(as_frame.index) == [row[0] for row in shipped]


def test_records_export_as_json_csv_and_dataframe_equal_the_registrys_own_export(admin_project, every_instrument):
    as_json = admin_project.export_records()
    as_csv = admin_project.export_records(format_type="csv")
    as_frame = admin_project.export_records(format_type="df")

    assert as_json == json.loads(_server_export("json"))
    assert as_csv == _server_export("csv")
    assert sorted(set(as_frame.index)) == ["B-001", "EX-001", "EX-002", "EX-003", "ex-004"]
    assert len(as_frame) == len(as_json) == _server_export("csv").count("\n") - 1
    assert list(as_frame.columns[:2]) == ["redcap_repeat_instrument", "redcap_repeat_instance"]


def test_records_export_by_record_field_and_form(admin_project, every_instrument):
    rows = admin_project.export_records(records=["EX-002"], fields=["sex", "alk_method"], forms=["biopsy"])

    assert {row["record_id"] for row in rows} == {"EX-002"}
    assert list(rows[0]) == [
        "record_id", "redcap_repeat_instrument", "redcap_repeat_instance", "sex", "alk_method___1", "alk_method___2",
        "alk_method___3", "alk_method___4", "alk_method___5", "bx_date", "bx_specimen", "bx_site", "bx_adequate",
        "bx_histology", "bx_ngs", "bx_ngs_panel", "biopsy_complete",
    ]
    assert {row["redcap_repeat_instrument"] for row in rows} == {"", "biopsy"}


def test_filter_logic_and_data_access_groups_through_pycap(admin_project, every_instrument):
    rows = admin_project.export_records(filter_logic='[line_drug] = "2" or [record_id] = "B-001"',
                                        export_data_access_groups=True, fields=["record_id"])

    groups = {row["record_id"]: row["redcap_data_access_group"] for row in rows}
    expected = set(TreatmentLine.objects.filter(line_drug=2).values_list("patient__record_id", flat=True)) | {"B-001"}
    assert set(groups) == expected
    assert groups["B-001"] == "site-b"


def test_json_import_creates_records_and_answers_count_and_ids(coordinator_project, site_a):
    new = [
        {"record_id": "NEW-1", "sex": "1", "adv_dx_date": "2021-02-03"},
        {"record_id": "NEW-1", "redcap_repeat_instrument": "treatment_line", "redcap_repeat_instance": 1,
         "line_no": 1, "line_type": "1", "line_drug": "2", "line_start": "2021-02-10"},
        {"record_id": "NEW-2", "sex": 2, "adv_dx_date": "2021-03-04"},
    ]

    assert coordinator_project.import_records(new) == {"count": 2}
    assert coordinator_project.import_records(new, return_content="ids") == ["NEW-1", "NEW-2"]  # unchanged: still 2

    assert dict(Patient.objects.values_list("record_id", "site__code")) == {"NEW-1": "site-a", "NEW-2": "site-a"}
    line = TreatmentLine.objects.get()
    assert (line.patient.record_id, line.line_drug) == ("NEW-1", 2)
    assert line.history.get().history_change_reason.startswith("redcap api: token ")


def test_dataframe_import_and_mdy_dates(coordinator_project, site_a):
    frame = pd.DataFrame(
        {"sex": ["2", "1"], "adv_dx_date": ["02/03/2021", "12/31/2020"]},
        index=pd.Index(["DF-1", "DF-2"], name="record_id"),
    )

    answer = coordinator_project.import_records(frame, import_format="df", date_format="MDY")

    assert answer == {"count": 2}
    assert {patient.record_id: patient.adv_dx_date.isoformat() for patient in Patient.objects.all()} == {
        "DF-1": "2021-02-03", "DF-2": "2020-12-31",
    }


def test_an_exported_dataframe_imports_back_unchanged(admin_project, every_instrument):
    frame = admin_project.export_records(format_type="df", df_kwargs={
        "index_col": "record_id", "dtype": str, "keep_default_na": False,
    })
    counts_before = row_counts()

    assert admin_project.import_records(frame, import_format="df") == {"count": 5}

    assert row_counts() == counts_before  # nothing changed, so no audit-trail row either


def test_delete_then_import_then_export_gives_back_the_same_records(admin_project, every_instrument):
    # Given the export of every record, and the same with each record's site (for the import:
    # an administrator names the site of each new record, REDCap's data access group)
    exported = admin_project.export_records(format_type="csv")
    with_sites = admin_project.export_records(format_type="csv", export_data_access_groups=True)
    record_ids = sorted(Patient.objects.values_list("record_id", flat=True))

    # When they are all deleted, then imported again from that export
    assert admin_project.delete_records(record_ids) == len(record_ids)
    assert admin_project.export_records() == []
    answer = admin_project.import_records(with_sites, import_format="csv")

    # Then the registry holds what it held, each record at its site
    assert answer["count"] == len(record_ids)
    # The example records hold a target lesion that shrinks by more than half between two scans: a
    # soft check, accepted, which the JSON answer lists beside the count (PyCap hands it over as it is).
    assert {(w["record"], w["check"]) for w in answer["warnings"]} <= {
        (record_id, "target_change") for record_id in record_ids}
    assert admin_project.export_records(format_type="csv") == exported
    assert Patient.objects.get(record_id="B-001").site.code == "site-b"


def test_the_audit_trail_is_exported_as_the_log(admin_project, coordinator_project, site_a, coordinator_a):
    coordinator_project.import_records([{"record_id": "LOG-1", "sex": "1", "adv_dx_date": "2021-02-03"}])

    log = admin_project.export_logging(record="LOG-1")

    assert [(entry["username"], entry["action"]) for entry in log] == [("coordinator_a", "Create record LOG-1")]
    assert "via redcap api: token " in log[0]["details"]
    assert admin_project.export_logging(log_type="record_delete") == []
    with pytest.raises(RedcapError):
        coordinator_project.export_logging()  # administrators only


def test_repeating_instruments_instruments_field_names_and_groups(admin_project, every_instrument):
    assert [row["form_name"] for row in admin_project.export_repeating_instruments_events()] == [
        "treatment_line", "local_therapy", "tumor_assessment", "lesion", "lesion_measurement", "biopsy",
        "ngs_variant",
    ]
    assert admin_project.export_instruments()[0] == {"instrument_name": "enrollment", "instrument_label": "Enrollment"}
    assert admin_project.export_field_names(field="alk_method")[1] == {
        "original_field_name": "alk_method", "choice_value": "2", "export_field_name": "alk_method___2",
    }
    assert [group["unique_group_name"] for group in admin_project.export_dags()] == ["site-a", "site-b"]
    assert admin_project.export_users()[0]["username"] == "administrator"


def test_a_site_token_sees_and_changes_only_its_site(coordinator_project, every_instrument):
    # Export: only site A's records, and only site A as data access group
    rows = coordinator_project.export_records()
    assert {row["record_id"] for row in rows} == {"EX-001", "EX-002", "EX-003", "ex-004"}
    assert [group["unique_group_name"] for group in coordinator_project.export_dags()] == ["site-a"]
    assert coordinator_project.export_records(records=["B-001"]) == []

    # Import: site B's record is refused without saying where it is, and nothing is written
    counts_before = row_counts()
    with pytest.raises(RedcapError) as refused:
        coordinator_project.import_records([{"record_id": "EX-001", "mrn": "NEW"}, {"record_id": "B-001", "mrn": "X"}])
    assert "site-b" not in str(refused.value)
    assert '"B-001","record_id","B-001","A record with the ID B-001 exists already' in str(refused.value)
    assert row_counts() == counts_before

    # Delete: administrators only
    with pytest.raises(RedcapError):
        coordinator_project.delete_records(["EX-001"])
    assert Patient.objects.filter(record_id="EX-001").exists()


def test_errors_are_redcap_errors_with_redcaps_status_codes(redcap_url, admin_project, site_a):
    viewer = factories.make_user("viewer_a", role=Role.VIEWER, sites=[site_a])
    viewer_project = Project(redcap_url, make_token(viewer))

    with pytest.raises(RedcapError):
        admin_project.export_events()
    with pytest.raises(RedcapError):
        admin_project.export_arms()
    with pytest.raises(RedcapError):
        admin_project.export_records(fields=["no_such_field"])
    with pytest.raises(RedcapError):
        Project(redcap_url, "0123456789ABCDEF0123456789ABCDEF").export_records()
    with pytest.raises(RedcapError):
        viewer_project.import_records([{"record_id": "V-1", "sex": "1", "adv_dx_date": "2021-01-01"}])
    with pytest.raises(RedcapError) as invalid:
        admin_project.import_records([{"record_id": "BAD-1", "sex": "7", "adv_dx_date": "2021-01-01"}])
    assert '"BAD-1","sex","7","is not a code of this field' in str(invalid.value)
    assert not Patient.objects.exists()

    def status(**payload) -> int:
        return requests.post(redcap_url, data=payload, timeout=30).status_code

    assert status(token="0123456789ABCDEF0123456789ABCDEF", content="record", format="json") == 401
    assert status(content="record", format="json") == 401
    assert status(token=viewer_project.token, content="record", format="json", data="[]") == 403
    assert status(token=admin_project.token, content="event", format="json") == 400
    assert status(token=admin_project.token, content="nonsense", format="json") == 400


def test_next_record_name_for_a_site_coordinator(coordinator_project, site_a):
    assert coordinator_project.generate_next_record_name() == f"{site_a.id}-1"
