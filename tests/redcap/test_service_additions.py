"""The two small additions the REDCap API needs from the shared flat-format code: reading only some
repeating instruments, and naming a site per record (REDCap's data access group column)."""
import io

import pytest
from django.core.exceptions import PermissionDenied

from registry.models import Patient, Role, TreatmentLine
from registry.records.flat_export import flat_rows
from registry.records.instruments import REPEAT_INSTRUMENT, flat_columns
from registry.services.records import records_import
from tests import factories
from tests.records.flat_files import EMPTY, csv_text, instance_row, record_row, row_counts

INSTRUMENT = flat_columns().index(REPEAT_INSTRUMENT)


def test_flat_rows_of_some_forms_read_only_those_instruments(site_a, django_assert_num_queries):
    # Given a patient with a treatment line and a biopsy
    patient = factories.make_patient(site_a, "P-1")
    factories.make_line(patient)
    factories.make_biopsy(patient)

    # When only treatment lines are asked for: the record IDs, the patients, the treatment lines
    with django_assert_num_queries(3):
        rows = list(flat_rows(Patient.objects.all(), forms=["treatment_line"]))

    # Then the record row and the line's row are there, nothing else
    assert [(row[0], row[INSTRUMENT]) for row in rows] == [("P-1", ""), ("P-1", "treatment_line")]


def test_flat_rows_without_forms_read_every_instrument(site_a):
    patient = factories.make_patient(site_a, "P-1")
    factories.make_line(patient)

    rows = list(flat_rows(Patient.objects.all()))

    assert [(row[0], row[INSTRUMENT]) for row in rows] == [("P-1", ""), ("P-1", "treatment_line")]


def _source(rows) -> io.BytesIO:
    return io.BytesIO(csv_text(rows).encode())


def test_a_site_named_for_a_record_is_where_the_new_record_goes(site_a, site_b):
    source = _source([
        record_row("NEW-A", sex="1", adv_dx_date="2020-01-01"),
        record_row("NEW-B", sex="2", adv_dx_date="2020-01-01"),
    ])

    result = records_import(source=source, file_format="csv", site=None, user=None,
                            sites_by_record={"NEW-A": site_a, "NEW-B": site_b})

    assert result.problems == []
    assert dict(Patient.objects.values_list("record_id", "site__code")) == {"NEW-A": "site-a", "NEW-B": "site-b"}


def test_a_site_named_for_a_stored_record_of_another_site_is_refused(site_a, site_b):
    factories.make_patient(site_b, "B-1")
    counts_before = row_counts()
    source = _source([record_row("B-1", mrn="MRN-1")])

    result = records_import(source=source, file_format="csv", site=None, user=None, sites_by_record={"B-1": site_a})

    assert [(p.record, p.field, p.reason) for p in result.problems] == [
        ("B-1", "record_id", "belongs to site site-b; an import never moves a record to another site"),
    ]
    assert row_counts() == counts_before


def test_a_site_named_for_a_record_must_be_one_the_user_may_change(site_a, site_b, coordinator_a):
    source = _source([record_row("NEW-B", sex="2", adv_dx_date="2020-01-01")])

    with pytest.raises(PermissionDenied):
        records_import(source=source, file_format="csv", site=site_a, user=coordinator_a,
                       sites_by_record={"NEW-B": site_b})

    assert row_counts() == EMPTY


def test_records_without_a_named_site_still_go_to_the_import_site(site_a, site_b):
    administrator = factories.make_user("admin_x", role=Role.ADMINISTRATOR)
    source = _source([
        record_row("NEW-A", sex="1", adv_dx_date="2020-01-01"),
        record_row("NEW-B", sex="2", adv_dx_date="2020-01-01"),
        instance_row("NEW-B", "treatment_line", 1, line_no="1", line_type="1", line_drug="2", line_start="2020-02-01"),
    ])

    result = records_import(source=source, file_format="csv", site=site_a, user=administrator,
                            sites_by_record={"NEW-B": site_b})

    assert result.problems == []
    assert dict(Patient.objects.values_list("record_id", "site__code")) == {"NEW-A": "site-a", "NEW-B": "site-b"}
    assert TreatmentLine.objects.get().patient.record_id == "NEW-B"
