"""A record's canonical content and its hash (registry/records/record_content.py): what a signature
and a data cut fix of a record."""
import json

from registry.models import Patient
from registry.records.record_content import record_content_hashes, record_contents
from tests.factories import make_line, make_patient, make_site


def test_content_is_the_records_non_blank_flat_cells_in_export_order(db):
    patient = make_patient(make_site("A"), "R-1")
    make_line(patient, line_no=1)

    [(record_id, content)] = list(record_contents(Patient.objects.all()))

    rows = json.loads(content)
    assert record_id == "R-1"
    # The record row first, then the line's row: every cell a non-blank string, keys sorted.
    assert [row.get("redcap_repeat_instrument") for row in rows] == [None, "treatment_line"]
    assert rows[1]["line_no"] == "1"
    assert all(value != "" for row in rows for value in row.values())
    assert all(list(row) == sorted(row) for row in rows)


def test_the_hash_changes_when_a_value_changes_and_only_for_that_record(db):
    site = make_site("A")
    first = make_patient(site, "R-1")
    make_patient(site, "R-2")
    before = record_content_hashes(Patient.objects.all())

    first.mrn = "changed"
    first.save()
    after = record_content_hashes(Patient.objects.all())

    assert after["R-1"] != before["R-1"]
    assert after["R-2"] == before["R-2"]
