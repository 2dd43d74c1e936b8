"""content=record&action=delete: whole records, administrators only, all or nothing."""
import pytest

from registry.models import Patient, TreatmentLine
from tests import factories
from tests.records.flat_files import row_counts


@pytest.fixture
def two_patients(site_a):
    for record_id in ("P-1", "P-2"):
        factories.make_line(factories.make_patient(site_a, record_id))


def _delete(redcap, token, *record_ids, **parameters):
    indexed = {f"records[{number}]": record_id for number, record_id in enumerate(record_ids)}
    return redcap(token, "record", action="delete", **{"returnFormat": "json", **indexed, **parameters})


def test_an_administrator_deletes_whole_records_and_gets_their_number(redcap, admin_token, two_patients):
    answer = _delete(redcap, admin_token, "P-1", "P-2")

    assert (answer.status, answer.json()) == (200, 2)
    assert not Patient.objects.exists() and not TreatmentLine.objects.exists()
    assert set(Patient.history.filter(history_type="-").values_list("history_change_reason", flat=True)) == {
        f"redcap api: token {admin_token[:8]}"}


def test_the_number_deleted_is_plain_text_in_csv_and_xml(redcap, admin_token, two_patients):
    assert _delete(redcap, admin_token, "P-1", returnFormat="csv").text == "1"
    assert _delete(redcap, admin_token, "P-2", returnFormat="xml").text == "1"


def test_an_unknown_record_deletes_nothing(redcap, admin_token, two_patients):
    counts_before = row_counts()

    answer = _delete(redcap, admin_token, "P-1", "P-9")

    assert (answer.status, answer.json()) == (400, {"error": (
        "One or more of the records provided cannot be deleted because they do not exist in the project. "
        "The following records do not exist: P-9")})
    assert row_counts() == counts_before


def test_a_coordinator_may_not_delete_records(redcap, coordinator_token, two_patients):
    answer = _delete(redcap, coordinator_token, "P-1")

    assert (answer.status, answer.json()) == (403, {"error": "You do not have Delete Record privileges "
                                                             "(administrators only)"})
    assert Patient.objects.count() == 2


@pytest.mark.parametrize("partial", [{"instrument": "treatment_line"}, {"repeat_instance": "1"}, {"arm": "1"}])
def test_deleting_part_of_a_record_is_refused_rather_than_widened(redcap, admin_token, two_patients, partial):
    counts_before = row_counts()

    answer = _delete(redcap, admin_token, "P-1", **partial)

    assert answer.status == 400 and "Deleting part of a record" in answer.json()["error"]
    assert row_counts() == counts_before


def test_a_deletion_needs_records_and_keeps_the_audit_trail(redcap, admin_token, two_patients):
    assert _delete(redcap, admin_token).json() == {"error": 'The parameter "records" is missing: name the records to '
                                                            "delete"}
    assert _delete(redcap, admin_token, "P-1", delete_logging="1").status == 400
    assert _delete(redcap, admin_token, "P-1", delete_logging="0").json() == 1
