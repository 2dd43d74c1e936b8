"""The flat export: REDCap's header, one row per record and per instance, for whom and what."""
import io
import json

from registry.records.instruments import flat_columns
from registry.services.records import records_export
from tests import factories

HEADER = ",".join(flat_columns()) + "\n"


def _export(**options) -> tuple[int, str]:
    output = io.StringIO()
    count = records_export(output=output, **options)
    return count, output.getvalue()


def _record_ids(text: str) -> list[str]:
    return [line.split(",", 1)[0] for line in text.splitlines()[1:]]


def test_an_empty_registry_exports_the_header_alone(db):
    assert _export() == (0, HEADER)
    assert _export(file_format="json") == (0, "[\n]\n")


def test_records_are_ordered_by_record_id_code_point_whatever_the_database_collation(site_a):
    for record_id in ("b-2", "B-10", "A-1", "B-9"):
        factories.make_patient(site_a, record_id)

    count, text = _export()

    assert count == 4
    assert _record_ids(text) == ["A-1", "B-10", "B-9", "b-2"]


def test_a_record_row_comes_first_then_instruments_in_form_order_and_instances_ascending(site_a):
    patient = factories.make_patient(site_a, "A-1")
    factories.make_biopsy(patient)
    factories.make_line(patient, line_no=1)
    factories.make_line(patient, line_no=2, line_start=factories.date(2021, 1, 1))

    _, text = _export()

    assert [line.split(",")[:3] for line in text.splitlines()[1:]] == [
        ["A-1", "", ""], ["A-1", "treatment_line", "1"], ["A-1", "treatment_line", "2"], ["A-1", "biopsy", "1"],
    ]


def test_a_user_exports_only_the_patients_of_sites_they_may_see(site_a, site_b, coordinator_a):
    factories.make_full_patient(site_a, "A-1")
    factories.make_full_patient(site_b, "B-1")

    count, text = _export(user=coordinator_a)

    assert (count, set(_record_ids(text))) == (8, {"A-1"})


def test_an_export_can_be_limited_to_one_site_or_to_listed_records(site_a, site_b):
    for site, record_id in ((site_a, "A-1"), (site_a, "A-2"), (site_b, "B-1")):
        factories.make_patient(site, record_id)

    assert _record_ids(_export(site=site_b)[1]) == ["B-1"]
    assert _record_ids(_export(records=["A-2", "B-1", "NONE"])[1]) == ["A-2", "B-1"]


def test_a_json_export_is_a_list_of_objects_with_every_column_as_text(site_a):
    factories.make_patient(site_a, "A-1", mrn="MRN, with comma")

    count, text = _export(file_format="json")

    (item,) = json.loads(text)
    assert count == 1
    assert list(item) == list(flat_columns())
    assert (item["record_id"], item["mrn"], item["sex"], item["alk_method___1"], item["vital_status_complete"]) == (
        "A-1", "MRN, with comma", "2", "0", "",
    )
