"""content=record import: onto records_import, all or nothing, with REDCap's parameters and answers."""
import json

import pytest

from registry.models import Patient, TreatmentLine
from tests import factories
from tests.records.flat_files import EMPTY, csv_text, instance_row, record_row, row_counts
from tests.redcap.conftest import make_token


def _import(redcap, token, rows, file_format="json", **parameters):
    data = json.dumps(rows) if file_format == "json" else csv_text(rows)
    return redcap(token, "record", format=file_format, data=data, returnFormat="json", **parameters)


NEW = [
    record_row("NEW-1", sex="1", adv_dx_date="2021-02-03"),
    instance_row("NEW-1", "treatment_line", 1, line_no="1", line_type="1", line_drug="2", line_start="2021-02-10"),
    record_row("NEW-2", sex="2", adv_dx_date="2021-03-04"),
]


@pytest.mark.parametrize("file_format", ["json", "csv"])
def test_an_import_answers_the_count_of_its_records(redcap, coordinator_token, site_a, file_format):
    answer = _import(redcap, coordinator_token, NEW, file_format)

    assert (answer.status, answer.json()) == (200, {"count": 2})
    assert dict(Patient.objects.values_list("record_id", "site__code")) == {"NEW-1": "site-a", "NEW-2": "site-a"}
    assert TreatmentLine.objects.get().patient.record_id == "NEW-1"


def test_return_content_ids_nothing_and_the_csv_and_xml_counts(redcap, coordinator_token, site_a):
    data = json.dumps(NEW)

    def answer(**parameters):
        return redcap(coordinator_token, "record", format="json", data=data, **parameters)

    assert answer(returnFormat="json", returnContent="ids").json() == ["NEW-1", "NEW-2"]
    assert answer(returnFormat="json", returnContent="nothing").text == "{}"
    assert answer(returnFormat="csv").text == "2"
    assert answer(returnFormat="csv", returnContent="ids").text == "id\nNEW-1\nNEW-2\n"
    assert answer(returnFormat="xml").text == '<?xml version="1.0" encoding="UTF-8" ?><count>2</count>'


def test_every_problem_is_listed_as_record_field_value_message_and_nothing_is_written(redcap, coordinator_token,
                                                                                     site_a):
    rows = [
        record_row("OK-1", sex="1", adv_dx_date="2021-02-03"),
        record_row("BAD-1", sex="7", adv_dx_date="2021-02-30"),
        instance_row("BAD-1", "treatment_line", 1, line_no="1", line_type="1", line_drug="2", line_start="soon"),
    ]

    answer = _import(redcap, coordinator_token, rows, "csv")

    assert answer.status == 400
    assert answer.json()["error"].splitlines() == [
        '"BAD-1","sex","7","is not a code of this field (1 Male, 2 Female) (row 3)"',
        '"BAD-1","adv_dx_date","2021-02-30","is not a real calendar date (row 3)"',
        '"BAD-1","line_start","soon","is not a date in YYYY-MM-DD format (row 4, treatment_line instance 1)"',
    ]
    assert row_counts() == EMPTY


def test_the_csv_error_body_starts_with_error(redcap, coordinator_token, site_a):
    answer = redcap(coordinator_token, "record", format="csv", returnFormat="csv",
                    data=csv_text([record_row("BAD-1", sex="7", adv_dx_date="2021-01-01")]))

    assert answer.status == 400 and answer.text.startswith('ERROR: "BAD-1","sex","7",')


def test_overwrite_erases_values_left_blank_and_normal_keeps_them(redcap, coordinator_token, site_a):
    factories.make_patient(site_a, "P-1", mrn="MRN-1", smoking=1)
    blank_mrn = [record_row("P-1", mrn="", smoking="2")]

    _import(redcap, coordinator_token, blank_mrn, overwriteBehavior="normal")
    assert Patient.objects.values_list("mrn", "smoking").get() == ("MRN-1", 2)

    _import(redcap, coordinator_token, blank_mrn, overwriteBehavior="overwrite")
    assert Patient.objects.values_list("mrn", "smoking").get() == ("", 2)


@pytest.mark.parametrize(("date_format", "given"), [("MDY", "02/03/2021"), ("DMY", "03/02/2021"),
                                                    ("MDY", "2/3/2021"), ("YMD", "2021-02-03")])
def test_date_format_reads_dates_in_that_order(redcap, coordinator_token, site_a, date_format, given):
    answer = _import(redcap, coordinator_token, [record_row("P-1", sex="1", adv_dx_date=given)], dateFormat=date_format)

    assert answer.json() == {"count": 1}
    assert Patient.objects.get().adv_dx_date.isoformat() == "2021-02-03"


def test_a_date_not_in_the_date_format_is_reported_once_in_that_format(redcap, coordinator_token, site_a):
    answer = _import(redcap, coordinator_token, [record_row("P-1", sex="1", adv_dx_date="Feb 3rd")], "csv",
                     dateFormat="DMY")

    assert answer.json()["error"] == (
        '"P-1","adv_dx_date","Feb 3rd","is not a date in DD/MM/YYYY format (dateFormat=DMY) (row 2)"'
    )
    assert row_counts() == EMPTY


def test_a_user_of_several_sites_names_each_new_records_site(redcap, admin_token, site_a, site_b):
    rows = [
        {**record_row("A-1", sex="1", adv_dx_date="2021-01-01"), "redcap_data_access_group": "site-a"},
        {**record_row("B-1", sex="2", adv_dx_date="2021-01-01"), "redcap_data_access_group": "site-b"},
        {**instance_row("B-1", "biopsy", 1, bx_date="2021-02-01", bx_specimen="2"), "redcap_data_access_group": ""},
    ]

    for file_format in ("csv", "json"):
        assert _import(redcap, admin_token, rows, file_format).json() == {"count": 2}

    assert dict(Patient.objects.values_list("record_id", "site__code")) == {"A-1": "site-a", "B-1": "site-b"}


def test_without_a_data_access_group_a_user_of_several_sites_cannot_create_records(redcap, admin_token, site_a, site_b):
    factories.make_patient(site_b, "B-1")
    answer = _import(redcap, admin_token, [record_row("NEW-1", sex="1", adv_dx_date="2021-01-01"),
                                           record_row("B-1", mrn="MRN-B")])

    assert answer.json()["error"] == (
        '"NEW-1","record_id","NEW-1","is a new record, but no site was chosen for new records (item 1)"'
    )
    assert list(Patient.objects.values_list("record_id", flat=True)) == ["B-1"]


def test_a_data_access_group_the_user_may_not_change_is_refused(redcap, coordinator_token, site_a, site_b):
    rows = [
        {**record_row("NEW-1", sex="1", adv_dx_date="2021-01-01"), "redcap_data_access_group": "site-b"},
        {**record_row("NEW-2", sex="1", adv_dx_date="2021-01-01"), "redcap_data_access_group": "site-z"},
        {**record_row("NEW-3", sex="1", adv_dx_date="2021-01-01"), "redcap_data_access_group": "site-a"},
    ]

    answer = _import(redcap, coordinator_token, rows)

    assert answer.json()["error"].splitlines() == [
        '"NEW-1","redcap_data_access_group","site-b","is not a data access group (site code) whose records you may '
        'add or change (item 1)"',
        '"NEW-2","redcap_data_access_group","site-z","is not a data access group (site code) whose records you may '
        'add or change (item 2)"',
    ]
    assert row_counts() == EMPTY


def test_a_record_of_a_site_the_user_cannot_see_is_refused_without_naming_its_site(redcap, coordinator_token, site_a,
                                                                                  site_b):
    factories.make_patient(site_b, "B-1", mrn="SECRET")

    answer = _import(redcap, coordinator_token, [record_row("B-1", mrn="MINE")], "csv")

    assert answer.json()["error"] == (
        '"B-1","record_id","B-1","A record with the ID B-1 exists already (record IDs are unique in the registry, '
        'ignoring letter case) (row 2)"'
    )
    assert Patient.objects.get().mrn == "SECRET"


def test_writes_carry_the_tokens_prefix_in_the_audit_trail(redcap, coordinator_a, site_a):
    token = make_token(coordinator_a)

    _import(redcap, token, NEW)

    reasons = set(Patient.history.values_list("history_change_reason", flat=True))
    assert reasons == {f"redcap api: token {token[:8]}"}
    assert set(Patient.history.values_list("history_user__username", flat=True)) == {"coordinator_a"}


@pytest.mark.parametrize(("parameters", "message"), [
    ({"format": "xml", "data": "<records/>"}, "Records are imported as csv or json, not xml"),
    ({"format": "json", "data": "[]", "type": "eav"}, "Records are imported in the flat format only (type=flat)"),
    ({"format": "json", "data": "[]", "forceAutoNumber": "true"}, "Record auto-numbering is not used"),
    ({"format": "json", "data": "[]", "returnContent": "auto_ids"}, "Record auto-numbering is not used"),
    ({"format": "json", "action": "import"}, "The data parameter is missing"),
    ({"format": "json", "data": "[]", "overwriteBehavior": "replace"}, 'parameter "overwriteBehavior" is not valid'),
    ({"format": "json", "data": "[]", "dateFormat": "YDM"}, 'parameter "dateFormat" is not valid'),
])
def test_imports_refuse_what_the_registry_does_not_do(redcap, coordinator_token, site_a, parameters, message):
    answer = redcap(coordinator_token, "record", returnFormat="json", **parameters)

    assert answer.status == 400 and message in answer.json()["error"]


def test_an_unreadable_file_is_reported_by_the_import(redcap, coordinator_token, site_a):
    answer = redcap(coordinator_token, "record", format="json", returnFormat="json", data='[{"record_id": ')

    assert answer.status == 400 and answer.json()["error"].startswith('"","","","The file is not valid JSON')


def test_pycaps_false_force_auto_number_and_integers_are_read(redcap, coordinator_token, site_a):
    answer = redcap(coordinator_token, "record", format="json", returnFormat="json", forceAutoNumber="False",
                    data=json.dumps([{"record_id": 7, "sex": 1, "adv_dx_date": "2021-01-01", "cns_mets_dx": True}]))

    assert answer.json() == {"count": 1}
    assert Patient.objects.values_list("record_id", "sex", "cns_mets_dx").get() == ("7", 1, 1)


def test_a_csv_with_another_delimiter_is_read_with_it(redcap, coordinator_token, site_a):
    data = "record_id;sex;adv_dx_date;mrn\nP-1;1;2021-01-01;\"A;B\"\n"

    answer = redcap(coordinator_token, "record", format="csv", returnFormat="json", csvDelimiter=";", data=data)

    assert answer.json() == {"count": 1}
    assert Patient.objects.values_list("record_id", "mrn").get() == ("P-1", "A;B")
