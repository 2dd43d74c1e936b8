"""A required field's missing-data code through the REDCap API: in its cell both ways (issue 12 §4 follow-up)."""
import json

from registry.models import Patient, TreatmentLine
from tests.records.flat_files import EMPTY, instance_row, record_row, row_counts


def test_codes_in_required_cells_import_and_export_back_unchanged(redcap, coordinator_token, admin_token, site_a):
    rows = [
        record_row("NEW-1", sex="UNK", adv_dx_date="2021-02-03"),
        instance_row("NEW-1", "treatment_line", 1, line_no="1", line_type="1", line_drug="NAVU",
                     line_start="2021-02-10"),
    ]

    answer = redcap(coordinator_token, "record", format="json", data=json.dumps(rows), returnFormat="json")

    assert (answer.status, answer.json()) == (200, {"count": 1})
    assert Patient.objects.values_list("sex", "sex_missing").get() == (None, "UNK")
    assert TreatmentLine.objects.values_list("line_drug", "line_drug_missing").get() == (None, "NAVU")
    exported = redcap(admin_token, "record", format="json").json()
    assert (exported[0]["sex"], exported[1]["line_drug"]) == ("UNK", "NAVU")


def test_a_blank_required_cell_is_still_refused_and_nothing_written(redcap, coordinator_token, site_a):
    rows = [record_row("NEW-1", sex="", adv_dx_date="2021-02-03")]

    answer = redcap(coordinator_token, "record", format="json", data=json.dumps(rows), returnFormat="json")

    assert answer.status == 400
    assert "sex" in answer.text and "is required but is blank" in answer.text
    assert row_counts() == EMPTY
